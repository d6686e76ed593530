// OCI hooks: each kind runs at its point of the lifecycle with the container's state on
// stdin; a failing createRuntime hook aborts `create` and leaves nothing behind.

import { assert, assertEquals, assertStringIncludes } from "../helpers/assert.ts";
import type { OciState } from "../../lib/runtime/types.ts";
import { leftovers, needsContainers, RuntimeFixture } from "./support.ts";

const ignore = needsContainers("mini-runc hooks");

function recordingHook(file: string) {
  // args[0] is argv[0] as in execve; the state arrives on stdin.
  return { path: "/bin/sh", args: ["sh", "-c", `cat > ${file}`] };
}

Deno.test(
  { name: "hooks run at their lifecycle points with the state on stdin", ignore },
  async () => {
    const fixture = await RuntimeFixture.create();
    try {
      const out = (kind: string) => `${fixture.base}/${kind}.json`;
      const bundle = await fixture.bundle("b", (spec) => {
        spec.process!.args = ["sleep", "1000"];
        spec.hooks = {
          prestart: [recordingHook(out("prestart"))],
          createRuntime: [recordingHook(out("createRuntime"))],
          poststart: [recordingHook(out("poststart"))],
          poststop: [recordingHook(out("poststop"))],
        };
      });
      const output = `${fixture.base}/h.out`;
      assertEquals(
        (await fixture.run(["create", "--bundle", bundle, "h1"], { outputFile: output })).code,
        0,
      );
      const record = await fixture.record("h1");
      const createRuntime = JSON.parse(await Deno.readTextFile(out("createRuntime"))) as OciState;
      assertEquals(createRuntime.id, "h1");
      assertEquals(createRuntime.status, "creating");
      assertEquals(createRuntime.pid, record.initPid);
      assertEquals(createRuntime.bundle, record.bundle);
      assertEquals(JSON.parse(await Deno.readTextFile(out("prestart"))).pid, record.initPid);

      assertEquals((await fixture.run(["start", "h1"])).code, 0);
      const poststart = JSON.parse(await Deno.readTextFile(out("poststart"))) as OciState;
      assertEquals(poststart.status, "running");

      assertEquals((await fixture.run(["delete", "--force", "h1"])).code, 0);
      const poststop = JSON.parse(await Deno.readTextFile(out("poststop"))) as OciState;
      assertEquals(poststop.status, "stopped");
      assertEquals(poststop.id, "h1");
      assertEquals(leftovers(fixture.root, record, fixture.base), []);
    } finally {
      await fixture.cleanup();
    }
  },
);

Deno.test({ name: "a failing createRuntime hook aborts create", ignore }, async () => {
  const fixture = await RuntimeFixture.create();
  try {
    const bundle = await fixture.bundle("b", (spec) => {
      spec.hooks = {
        createRuntime: [{ path: "/bin/sh", args: ["sh", "-c", "echo no network >&2; exit 9"] }],
      };
      spec.linux!.cgroupsPath = `/mini-runc-test-hookfail-${Deno.pid}`;
    });
    const result = await fixture.run(["create", "--bundle", bundle, "h2"]);
    assertEquals(result.code, 1);
    assertStringIncludes(result.stderr, "createRuntime hook /bin/sh failed with exit status 9");
    assertStringIncludes(result.stderr, "no network");
    assertEquals((await fixture.run(["list", "-q"])).stdout, "");
    const { cgroupManagerFor } = await import("../../lib/runtime/cgroups/mod.ts");
    const paths = cgroupManagerFor("h2", `/mini-runc-test-hookfail-${Deno.pid}`).location.paths;
    for (const directory of Object.values(paths)) {
      let present = true;
      try {
        Deno.statSync(directory);
      } catch {
        present = false;
      }
      assert(!present, `cgroup ${directory} left behind`);
    }
  } finally {
    await fixture.cleanup();
  }
});

Deno.test(
  { name: "a hook gets args[0] as its argv[0], and its env and timeout", ignore },
  async () => {
    const fixture = await RuntimeFixture.create();
    try {
      const seen = `${fixture.base}/argv0`;
      const bundle = await fixture.bundle("b", (spec) => {
        spec.process!.args = ["true"];
        spec.hooks = {
          // Like Docker's libnetwork-setkey hook: a program that dispatches on argv[0].
          createRuntime: [{
            path: "/bin/sh",
            args: ["setkey-like-name", "-c", `echo "$0 $HOOK_VAR" > ${seen}`],
            env: ["HOOK_VAR=from-spec"],
          }],
        };
      });
      const result = await fixture.run(["run", "--bundle", bundle, "h3"]);
      assertEquals(result.code, 0, result.stderr);
      assertEquals(await Deno.readTextFile(seen), "setkey-like-name from-spec\n");

      const slow = await fixture.bundle("slow", (spec) => {
        spec.hooks = { prestart: [{ path: "/bin/sleep", args: ["sleep", "30"], timeout: 1 }] };
      });
      const timedOut = await fixture.run(["create", "--bundle", slow, "h4"]);
      assertEquals(timedOut.code, 1);
      assertStringIncludes(timedOut.stderr, "prestart hook /bin/sleep did not finish within 1s");
      assertEquals((await fixture.run(["list", "-q"])).stdout, "");
    } finally {
      await fixture.cleanup();
    }
  },
);
