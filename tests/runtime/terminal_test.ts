// process.terminal: the container gets a pty from its own devpts. With --console-socket
// the primary end is sent to the caller (as containerd's shim receives it); `run` in the
// foreground proxies it to its own stdio; `create` without a console socket is refused.

import { assert, assertEquals, assertStringIncludes } from "../helpers/assert.ts";
import { closeFile, readFileInBackground, writeAll } from "../../lib/linux/files.ts";
import { listenUnix, receiveConsole } from "../../lib/linux/terminal.ts";
import { eventually, leftovers, needsContainers, RuntimeFixture } from "./support.ts";

const ignore = needsContainers("mini-runc terminals");

const script = 'tty; [ -t 0 ] && echo stdin-is-a-tty; read line; echo "got $line"; exit 4';

Deno.test({ name: "create --console-socket hands the pty to the caller", ignore }, async () => {
  const fixture = await RuntimeFixture.create();
  const socketPath = `${fixture.base}/console.sock`;
  const listener = listenUnix(socketPath);
  try {
    const bundle = await fixture.bundle("b", (spec) => {
      spec.process!.terminal = true;
      spec.process!.args = ["sh", "-c", script];
    });
    const consoleReceived = receiveConsole(listener);
    const output = `${fixture.base}/create.out`;
    const created = await fixture.run(
      ["create", "--bundle", bundle, "--console-socket", socketPath, "t1"],
      { outputFile: output },
    );
    assertEquals(created.code, 0, await Deno.readTextFile(output));
    const { fd: primary, name } = await consoleReceived;
    assertEquals(name, "/dev/pts/0");
    const record = await fixture.record("t1");
    assertEquals((await fixture.run(["start", "t1"])).code, 0);
    writeAll(primary, new TextEncoder().encode("typed\n"));
    let text = "";
    const buffer = new Uint8Array(4096);
    while (!text.includes("got typed")) {
      const count = await readFileInBackground(primary, buffer);
      if (count <= 0) break;
      text += new TextDecoder().decode(buffer.subarray(0, count));
    }
    closeFile(primary);
    assertStringIncludes(text, "/dev/pts/0\r\n");
    assertStringIncludes(text, "stdin-is-a-tty");
    assertStringIncludes(text, "got typed");
    assert(
      await eventually(async () =>
        JSON.parse((await fixture.run(["state", "t1"])).stdout).status === "stopped"
      ),
    );
    assertEquals((await fixture.run(["delete", "t1"])).code, 0);
    assertEquals(leftovers(fixture.root, record, fixture.base), []);
  } finally {
    closeFile(listener);
    await fixture.cleanup();
  }
});

Deno.test({ name: "run in the foreground proxies the terminal", ignore }, async () => {
  const fixture = await RuntimeFixture.create();
  try {
    const bundle = await fixture.bundle("b", (spec) => {
      spec.process!.terminal = true;
      spec.process!.args = ["sh", "-c", script];
    });
    const result = await fixture.run(["run", "--bundle", bundle, "t2"], { stdin: "typed\n" });
    assertEquals(result.code, 4, result.stderr);
    assertStringIncludes(result.stdout, "/dev/pts/0");
    assertStringIncludes(result.stdout, "got typed");
  } finally {
    await fixture.cleanup();
  }
});

Deno.test(
  { name: "a terminal without a console socket is refused by create", ignore },
  async () => {
    const fixture = await RuntimeFixture.create();
    try {
      const bundle = await fixture.bundle("b", (spec) => spec.process!.terminal = true);
      const result = await fixture.run(["create", "--bundle", bundle, "t3"]);
      assertEquals(result.code, 1);
      assertStringIncludes(result.stderr, "cannot allocate tty");
      assertEquals((await fixture.run(["list", "-q"])).stdout, "");
    } finally {
      await fixture.cleanup();
    }
  },
);
