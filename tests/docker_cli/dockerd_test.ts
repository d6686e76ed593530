// mini-docker against a real mini-dockerd (temp roots, its own mini-containerd), next
// to the real docker 28 CLI on the same daemon. Commands that do not change state must
// print exactly the same thing through both CLIs; state-changing ones are driven
// through mini-docker and checked with both.

import { assertEquals, assertMatch } from "../helpers/assert.ts";
import { missingOverlay, missingRoot, requirements } from "../helpers/requirements.ts";
import { type CommandResult, TestDockerd } from "../helpers/dockerd.ts";
import { missingDocker28, normalize, serverHalf } from "./support.ts";
import { join } from "node:path";

function normalized(result: CommandResult): CommandResult {
  return { code: result.code, stdout: normalize(result.stdout), stderr: normalize(result.stderr) };
}

Deno.test({
  name: "mini-docker against mini-dockerd prints what docker 28 prints",
  ignore: requirements("dockerd comparison", missingRoot(), missingOverlay(), missingDocker28()),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    const daemon = await TestDockerd.start();
    try {
      await daemon.loadBusybox();
      const both = async (args: string[], stdin?: string) => {
        const input = stdin === undefined ? undefined : new TextEncoder().encode(stdin);
        const real = await daemon.docker(args, { stdin: input });
        const mini = normalized(await daemon.miniDocker(args, { stdin: input }));
        return { real, mini };
      };
      const same = async (args: string[], stdin?: string) => {
        const { real, mini } = await both(args, stdin);
        assertEquals(mini, real, `mini-docker ${args.join(" ")}`);
        return mini;
      };

      await t.step("images, history, inspect, networks, df", async () => {
        for (
          const args of [
            ["images"],
            ["images", "-q", "--no-trunc"],
            ["images", "--format", "{{json .}}"],
            ["history", "busybox"],
            ["history", "--no-trunc", "-H=false", "busybox"],
            ["inspect", "busybox"],
            ["image", "inspect", "-f", "{{.Id}} {{.Os}} {{json .RootFS}}", "busybox"],
            ["inspect", "nosuchthing"],
            ["rmi", "nosuch:img"],
            ["network", "ls"],
            ["network", "ls", "--format", "json"],
            ["system", "df"],
            ["ps", "-a"],
          ]
        ) {
          await same(args);
        }
      });

      await t.step("version and info: the server half", async () => {
        for (const command of [["version"], ["info"]]) {
          const { real, mini } = await both(command);
          assertEquals(serverHalf(mini.stdout), serverHalf(real.stdout));
          assertEquals(mini.code, real.code);
        }
      });

      await t.step("run --rm and run -i: output, stderr and exit status", async () => {
        const result = await same([
          "run",
          "--rm",
          "busybox",
          "sh",
          "-c",
          "echo out; echo err >&2; exit 3",
        ]);
        assertEquals(result, { code: 3, stdout: "out\n", stderr: "err\n" });
        const piped = await same(["run", "-i", "--rm", "busybox", "cat"], "piped-stdin-data\n");
        assertEquals(piped, { code: 0, stdout: "piped-stdin-data\n", stderr: "" });
        assertEquals((await same(["run", "--rm", "busybox", "false"])).code, 1);
      });

      await t.step("a detached container: ps, logs, exec, port, inspect, stop, rm", async () => {
        // Below the kernel's ephemeral range (32768+), random: another suite may be running.
        const hostPort = 20000 + Math.floor(Math.random() * 10000);
        const started = await daemon.miniDocker([
          "run",
          "-d",
          "--name",
          "md1",
          "-p",
          `127.0.0.1:${hostPort}:80`,
          "-e",
          "GREETING=hi",
          "busybox",
          "sh",
          "-c",
          "echo hello; echo oops >&2; sleep 300",
        ]);
        assertEquals(started.code, 0, started.stderr);
        assertMatch(started.stdout, /^[0-9a-f]{64}\n$/);
        // Wait for the first log lines through the API rather than by sleeping.
        for (let attempt = 0; attempt < 200; attempt++) {
          const logs = await daemon.miniDocker(["logs", "md1"]);
          if (logs.stderr.includes("oops")) break;
        }
        await same(["logs", "md1"]);
        await same(["logs", "--tail", "1", "-t", "md1"]);
        await same(["ps", "--format", "{{.Names}} {{.State}} {{.Ports}} {{.Command}}"]);
        await same(["port", "md1"]);
        await same([
          "inspect",
          "-f",
          "{{.State.Status}} {{.GraphDriver.Name}} {{index .Config.Env 0}}",
          "md1",
        ]);
        const exec = await same(["exec", "md1", "sh", "-c", "echo $GREETING; echo b >&2; exit 4"]);
        assertEquals(exec, { code: 4, stdout: "hi\n", stderr: "b\n" });
        await same(["exec", "-i", "md1", "cat"], "through exec\n");
        const stopped = normalized(await daemon.miniDocker(["stop", "-t", "1", "md1"]));
        assertEquals(stopped, { code: 0, stdout: "md1\n", stderr: "" });
        await same(["ps", "-a", "--format", "{{.Names}} {{.State}}"]);
        await same(["wait", "md1"]);
        const removed = normalized(await daemon.miniDocker(["rm", "-f", "md1", "nosuch"]));
        assertEquals(removed, {
          code: 0,
          stdout: "md1\n",
          stderr: "Error response from daemon: No such container: nosuch\n",
        });
        await same(["ps", "-a"]);
      });

      await t.step("tag, rmi, save (read back by the real CLI's load)", async () => {
        assertEquals(await daemon.miniDocker(["tag", "busybox", "mytag:v1"]), {
          code: 0,
          stdout: "",
          stderr: "",
        });
        // docker prints an image's repositories in Go map order (randomly): compare sorted rows.
        const listed = await both(["images", "mytag"]);
        const rows = (text: string) => text.split("\n").sort();
        assertEquals(rows(listed.mini.stdout), rows(listed.real.stdout));
        assertEquals(await daemon.miniDocker(["rmi", "mytag:v1"]), {
          code: 0,
          stdout: "Untagged: mytag:v1\n",
          stderr: "",
        });
        const archive = join(daemon.paths.base, "saved.tar");
        assertEquals((await daemon.miniDocker(["save", "-o", archive, "busybox"])).code, 0);
        const loaded = await daemon.docker(["load", "-i", archive]);
        assertEquals(loaded.code, 0, loaded.stderr);
        assertMatch(loaded.stdout, /Loaded image: busybox:latest/);
      });
    } finally {
      await daemon.cleanup();
    }
  },
});
