// `docker exec` and `docker logs` against mini-dockerd. Exec: output split into
// stdout and stderr, the process's exit code becomes the CLI's, -i forwards stdin,
// -u/-w/-e apply, -d runs in the background, -t gives a terminal (through `script`),
// a stopped container refuses. Logs: what the json-file log kept, --timestamps with
// nine fraction digits, --tail, -f following until the container exits, a tty
// container's log unframed. Through the real docker CLI and mini-docker.

import { assert, assertEquals, assertMatch, assertStringIncludes } from "../helpers/assert.ts";
import {
  containerTestIgnored,
  eventually,
  finish,
  removeAllAndCheck,
  startDaemon,
  withTerminal,
} from "./containers_fixture.ts";

const ignore = containerTestIgnored("docker exec and logs against mini-dockerd");

Deno.test({ name: "docker exec: streams, exit codes, stdin, options", ignore }, async (t) => {
  const daemon = await startDaemon();
  try {
    await daemon.docker(["run", "-d", "--name", "host", "busybox", "sleep", "300"]);
    for (
      const [client, cli] of [
        [
          "docker",
          (args: string[], stdin?: string) =>
            daemon.docker(args, stdin ? { stdin: new TextEncoder().encode(stdin) } : {}),
        ],
        [
          "mini-docker",
          (args: string[], stdin?: string) =>
            daemon.miniDocker(args, stdin ? { stdin: new TextEncoder().encode(stdin) } : {}),
        ],
      ] as const
    ) {
      await t.step(`${client}: stdout and stderr apart, exit code passed back`, async () => {
        const result = await cli(["exec", "host", "sh", "-c", "echo a; echo b >&2; exit 4"]);
        assertEquals(result.code, 4);
        assertEquals(result.stdout, "a\n");
        assertStringIncludes(result.stderr, "b\n");
      });
      await t.step(`${client}: -i forwards stdin until it ends`, async () => {
        const result = await cli(
          ["exec", "-i", "host", "sh", "-c", "cat; exit 3"],
          "to the container\n",
        );
        assertEquals(result.code, 3, result.stderr);
        assertEquals(result.stdout, "to the container\n");
      });
    }

    await t.step("many execs in a row all come back (no lost request bodies)", async () => {
      for (let round = 0; round < 15; round++) {
        const result = await daemon.docker([
          "exec",
          "host",
          "sh",
          "-c",
          `echo ${round}; exit ${round % 3}`,
        ]);
        assertEquals([result.code, result.stdout], [round % 3, `${round}\n`]);
      }
    });

    await t.step("-u, -w and -e apply to the exec'd process only", async () => {
      const result = await daemon.docker([
        "exec",
        "-u",
        "1000:1000",
        "-w",
        "/tmp",
        "-e",
        "ONLY=exec",
        "host",
        "sh",
        "-c",
        'echo "$(id -u) $(pwd) $ONLY"',
      ]);
      assertEquals(result.stdout, "1000 /tmp exec\n", result.stderr);
    });

    await t.step("a missing command exits 127", async () => {
      const missing = await daemon.docker(["exec", "host", "no-such-command"]);
      assertEquals(missing.code, 127, missing.stderr + missing.stdout);
    });

    await t.step("-d runs in the background; the write lands in the container", async () => {
      const detached = await daemon.docker([
        "exec",
        "-d",
        "host",
        "sh",
        "-c",
        "echo bg > /from-detached",
      ]);
      assertEquals(detached.code, 0, detached.stderr);
      await eventually(
        "the detached exec's file",
        async () =>
          (await daemon.docker(["exec", "host", "cat", "/from-detached"])).stdout === "bg\n",
      );
    });

    await t.step("exec in a stopped container is a 409 'is not running'", async () => {
      await daemon.docker(["create", "--name", "idle", "busybox", "true"]);
      const refused = await daemon.docker(["exec", "idle", "true"]);
      assert(refused.code !== 0);
      assertStringIncludes(refused.stderr, "is not running");
    });
    await removeAllAndCheck(daemon);
  } finally {
    await finish(daemon);
  }
});

Deno.test({
  name: "docker exec -it: a terminal, a resize, the exit code",
  ignore: containerTestIgnored("docker exec -it", "script"),
}, async () => {
  const daemon = await startDaemon();
  try {
    await daemon.docker(["run", "-d", "--name", "host", "busybox", "sleep", "300"]);
    const session = await withTerminal(daemon, "stty rows 33 cols 99; docker exec -it host sh", [
      "tty; stty size\r",
      "exit 7\r",
    ]);
    assertEquals(session.code, 7, session.output);
    assertStringIncludes(session.output, "/dev/pts/");
    assertStringIncludes(session.output, "33 99");
  } finally {
    await finish(daemon);
  }
});

Deno.test(
  { name: "docker logs: json-file log, timestamps, tail, follow, tty", ignore },
  async (t) => {
    const daemon = await startDaemon();
    try {
      await t.step("logs gives back stdout and stderr as they were written", async () => {
        await daemon.docker([
          "run",
          "--name",
          "talk",
          "busybox",
          "sh",
          "-c",
          "echo line1; echo errline >&2; echo line3",
        ]);
        const logs = await daemon.docker(["logs", "talk"]);
        assertEquals(logs.stdout, "line1\nline3\n");
        assertEquals(logs.stderr, "errline\n");
        const mini = await daemon.miniDocker(["logs", "talk"]);
        assertEquals(mini.stdout, "line1\nline3\n");
        assertEquals(mini.stderr, "errline\n");
        const logPath = (await daemon.docker(["inspect", "-f", "{{.LogPath}}", "talk"])).stdout
          .trim();
        assert(logPath.endsWith("-json.log"), logPath);
        const records = Deno.readTextFileSync(logPath).trim().split("\n").map((line) =>
          JSON.parse(line)
        );
        assertEquals(records.map((record) => [record.stream, record.log]).sort(), [
          ["stderr", "errline\n"],
          ["stdout", "line1\n"],
          ["stdout", "line3\n"],
        ]);
      });

      await t.step("--timestamps and --tail", async () => {
        // The last line of the log file, whichever stream wrote it, is what --tail 1 gives.
        const logPath = (await daemon.docker(["inspect", "-f", "{{.LogPath}}", "talk"])).stdout
          .trim();
        const last = JSON.parse(Deno.readTextFileSync(logPath).trim().split("\n").at(-1)!);
        const tail = await daemon.docker(["logs", "--tail", "1", "talk"]);
        assertEquals(last.stream === "stdout" ? tail.stdout : tail.stderr, last.log);
        assertEquals(tail.stdout + tail.stderr, last.log);
        const stamped = await daemon.docker(["logs", "-t", "--tail", "all", "talk"]);
        for (const line of stamped.stdout.trim().split("\n")) {
          assertMatch(line, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z line[13]$/);
        }
        assertEquals((await daemon.docker(["logs", "--tail", "0", "talk"])).stdout, "");
      });

      await t.step("-f follows new lines and ends when the container exits", async () => {
        await daemon.docker([
          "run",
          "-d",
          "--name",
          "ticker",
          "busybox",
          "sh",
          "-c",
          "for i in 1 2 3; do echo tick$i; sleep 0.3; done",
        ]);
        const follow = await daemon.docker(["logs", "-f", "ticker"]);
        assertEquals(follow.code, 0, follow.stderr);
        assertEquals(follow.stdout, "tick1\ntick2\ntick3\n");
      });

      await t.step("a tty container's log is raw (one stream, \\r\\n)", async () => {
        await daemon.docker(["run", "-t", "--name", "ttylog", "busybox", "echo", "on a terminal"]);
        const logs = await daemon.docker(["logs", "ttylog"]);
        assertEquals(logs.stdout, "on a terminal\r\n");
      });

      await t.step("logs of an unknown container is a 404", async () => {
        const missing = await daemon.docker(["logs", "nosuch"]);
        assertStringIncludes(missing.stderr, "No such container: nosuch");
      });
      await removeAllAndCheck(daemon);
    } finally {
      await finish(daemon);
    }
  },
);
