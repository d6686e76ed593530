// `docker run` against mini-dockerd, through the real docker CLI and through
// mini-docker: attached output split into stdout and stderr, exit codes passed back,
// piped stdin, detached runs, --rm leaving nothing, -e/-w/-u/--entrypoint, -m with an
// OOM kill (137), --pids-limit, -t through a terminal, name conflicts and bad requests.
// After every step all containers are removed and nothing may be left (mounts, shims,
// cgroups, containerd tasks).

import { join } from "node:path";
import { assert, assertEquals, assertMatch, assertStringIncludes } from "../helpers/assert.ts";
import type { CommandResult } from "../helpers/dockerd.ts";
import {
  containerIds,
  containerTestIgnored,
  finish,
  removeAllAndCheck,
  startDaemon,
  type TestDockerd,
  withTerminal,
} from "./containers_fixture.ts";

type Client = (daemon: TestDockerd, args: string[], stdin?: string) => Promise<CommandResult>;

const clients: [string, Client][] = [
  [
    "docker",
    (daemon, args, stdin) =>
      daemon.docker(args, stdin === undefined ? {} : { stdin: new TextEncoder().encode(stdin) }),
  ],
  [
    "mini-docker",
    (daemon, args, stdin) =>
      daemon.miniDocker(
        args,
        stdin === undefined ? {} : { stdin: new TextEncoder().encode(stdin) },
      ),
  ],
];

const ignore = containerTestIgnored("docker run against mini-dockerd");

Deno.test({ name: "docker run: attached, piped, detached, --rm, options", ignore }, async (t) => {
  const daemon = await startDaemon();
  try {
    for (const [client, cli] of clients) {
      await t.step(
        `${client}: attached output keeps stdout and stderr apart; the exit code comes back`,
        async () => {
          const result = await cli(daemon, [
            "run",
            "--rm",
            "busybox",
            "sh",
            "-c",
            "echo out; echo err >&2; exit 3",
          ]);
          assertEquals(result.code, 3, result.stderr);
          assertEquals(result.stdout, "out\n");
          assertStringIncludes(result.stderr, "err\n");
          await removeAllAndCheck(daemon);
        },
      );

      await t.step(`${client}: -i forwards piped stdin and its end`, async () => {
        const result = await cli(daemon, [
          "run",
          "--rm",
          "-i",
          "busybox",
          "sh",
          "-c",
          "cat; echo done",
        ], "line one\nline two\n");
        assertEquals(result.code, 0, result.stderr);
        assertEquals(result.stdout, "line one\nline two\ndone\n");
        await removeAllAndCheck(daemon);
      });

      await t.step(
        `${client}: -d returns the ID; ps, logs and rm -f see the container`,
        async () => {
          const started = await cli(daemon, [
            "run",
            "-d",
            "--name",
            "det",
            "busybox",
            "sh",
            "-c",
            "echo ready; sleep 300",
          ]);
          assertEquals(started.code, 0, started.stderr);
          const id = started.stdout.trim();
          assertMatch(id, /^[a-f0-9]{64}$/);
          const ps = await cli(daemon, ["ps", "--no-trunc"]);
          assertStringIncludes(ps.stdout, id);
          assertStringIncludes(ps.stdout, "det");
          let logs = "";
          for (let attempt = 0; attempt < 600 && !logs.includes("ready"); attempt++) {
            logs = (await cli(daemon, ["logs", "det"])).stdout;
            if (!logs.includes("ready")) await new Promise((resolve) => setTimeout(resolve, 100));
          }
          assertEquals(logs, "ready\n");
          const removed = await cli(daemon, ["rm", "-f", "det"]);
          assertEquals(removed.code, 0, removed.stderr);
          await removeAllAndCheck(daemon);
        },
      );
    }

    await t.step("--rm removes the container, its layers and its directory", async () => {
      const before = [...Deno.readDirSync(join(daemon.paths.dataRoot, "overlay2"))].length;
      const result = await daemon.docker(["run", "--rm", "busybox", "true"]);
      assertEquals(result.code, 0, result.stderr);
      assertEquals(await containerIds(daemon), []);
      assertEquals([...Deno.readDirSync(join(daemon.paths.dataRoot, "overlay2"))].length, before);
      assertEquals([...Deno.readDirSync(join(daemon.paths.dataRoot, "containers"))].length, 0);
      await removeAllAndCheck(daemon);
    });

    await t.step(
      "16 attached runs at once all finish (no thread per FIFO in dockerd)",
      async () => {
        const runs = Array.from({ length: 16 }, (_, index) =>
          daemon.docker([
            "run",
            "--rm",
            "busybox",
            "sh",
            "-c",
            `sleep 1; echo run${index}; echo e${index} >&2`,
          ]));
        const results = await Promise.all(runs);
        results.forEach((result, index) => {
          assertEquals([result.code, result.stdout], [0, `run${index}\n`], result.stderr);
          assertStringIncludes(result.stderr, `e${index}\n`);
        });
        await removeAllAndCheck(daemon);
      },
    );

    await t.step("-e, -w, -u, --entrypoint and --hostname reach the process", async () => {
      const result = await daemon.docker([
        "run",
        "--rm",
        "-e",
        "GREETING=hello",
        "-w",
        "/srv/app",
        "-u",
        "1000:1000",
        "--hostname",
        "box",
        "busybox",
        "sh",
        "-c",
        'echo "$GREETING $(pwd) $(id -u):$(id -g) $(hostname) $HOSTNAME"',
      ]);
      assertEquals(result.code, 0, result.stderr);
      assertEquals(result.stdout, "hello /srv/app 1000:1000 box box\n");
      const entrypoint = await daemon.docker([
        "run",
        "--rm",
        "--entrypoint",
        "/bin/echo",
        "busybox",
        "via",
        "entrypoint",
      ]);
      assertEquals(entrypoint.stdout, "via entrypoint\n");
      await removeAllAndCheck(daemon);
    });

    await t.step(
      "-m: a process that outgrows its memory limit is OOM-killed, exit 137",
      async () => {
        const result = await daemon.docker([
          "run",
          "--name",
          "hog",
          "-m",
          // Not Docker's 6m minimum: mini-runc's init is a Deno process that joins the
          // cgroup before it builds the rootfs, and under load that alone can near 8m.
          "24m",
          "busybox",
          "sh",
          "-c",
          "x=a; while true; do x=$x$x; done",
        ]);
        assertEquals(result.code, 137, result.stderr);
        const inspect = await daemon.docker([
          "inspect",
          "-f",
          "{{.State.OOMKilled}} {{.State.ExitCode}} {{.HostConfig.Memory}}",
          "hog",
        ]);
        assertEquals(inspect.stdout.trim(), "true 137 25165824");
        await removeAllAndCheck(daemon);
      },
    );

    await t.step("--pids-limit stops a fork bomb at the limit", async () => {
      const result = await daemon.docker([
        "run",
        "--rm",
        "--pids-limit",
        "5",
        "busybox",
        "sh",
        "-c",
        "for i in 1 2 3 4 5 6 7 8; do sleep 2 & done; wait",
      ]);
      assertStringIncludes(result.stderr, "can't fork");
      await removeAllAndCheck(daemon);
    });

    await t.step(
      "--network none has only an up loopback; --network host shares the host's",
      async () => {
        const none = await daemon.docker([
          "run",
          "--rm",
          "--network",
          "none",
          "busybox",
          "ip",
          "-o",
          "addr",
        ]);
        assertEquals(none.code, 0, none.stderr);
        assertStringIncludes(none.stdout, "127.0.0.1/8");
        assert(!/eth0/.test(none.stdout), none.stdout);
        const host = await daemon.docker([
          "run",
          "--rm",
          "--network",
          "host",
          "busybox",
          "hostname",
        ]);
        assertEquals(host.stdout.trim(), Deno.hostname());
        await removeAllAndCheck(daemon);
      },
    );

    await t.step("a name in use is a 409 conflict with docker's message", async () => {
      assertEquals((await daemon.docker(["create", "--name", "twin", "busybox", "true"])).code, 0);
      const second = await daemon.docker(["run", "--name", "twin", "busybox", "true"]);
      assertEquals(second.code, 125);
      assertMatch(
        second.stderr,
        /Conflict\. The container name "\/twin" is already in use by container "[a-f0-9]{64}"\. You have to remove \(or rename\) that container to be able to reuse that name\./,
      );
      await removeAllAndCheck(daemon);
    });

    await t.step("a command that does not exist exits 127; the daemon stays up", async () => {
      const result = await daemon.docker(["run", "--rm", "busybox", "no-such-command"]);
      assertEquals(result.code, 127, result.stderr);
      assertStringIncludes(result.stderr, "no-such-command");
      assertEquals((await daemon.docker(["ps", "-aq"])).stdout, "");
      await removeAllAndCheck(daemon);
    });

    await t.step("bad requests: unknown image 404, malformed JSON 400, bad names 400", async () => {
      const unknown = await daemon.api("POST", "/v1.41/containers/create", {
        Image: "nosuch:v1",
        Cmd: ["true"],
      });
      assertEquals(unknown.status, 404);
      assertEquals((await unknown.json()).message, "No such image: nosuch:v1");
      const malformed = await daemon.api(
        "POST",
        "/v1.41/containers/create",
        '{"Image": "busybox",',
        {
          "Content-Type": "application/json",
        },
      );
      assertEquals(malformed.status, 400);
      await malformed.body?.cancel();
      const badName = await daemon.docker(["create", "--name", "-bad", "busybox"]);
      assertStringIncludes(badName.stderr, "Invalid container name (-bad)");
      const missing = await daemon.docker(["start", "nosuch"]);
      assertStringIncludes(missing.stderr, "No such container: nosuch");
      assertEquals((await daemon.api("GET", "/_ping")).status, 200);
      await removeAllAndCheck(daemon);
    });
  } finally {
    await finish(daemon);
  }
});

Deno.test({
  name: "docker run -t: a terminal inside, raw output, the exit code comes back",
  ignore: containerTestIgnored("docker run -t", "script"),
}, async () => {
  const daemon = await startDaemon();
  try {
    const session = await withTerminal(daemon, "docker run -it --rm busybox sh", [
      "tty; echo cols=$(stty size)\r",
      "exit 5\r",
    ]);
    assertEquals(session.code, 5, session.output);
    assertStringIncludes(session.output, "/dev/pts/0");
    const noInput = await daemon.docker(["run", "-t", "--rm", "busybox", "echo", "raw"]);
    // A terminal turns "\n" into "\r\n": the output is the terminal's, not framed.
    assertEquals(noInput.stdout, "raw\r\n");
  } finally {
    await finish(daemon);
  }
});

Deno.test({
  name: "daemon.json default-ulimits reach containers; --ulimit overrides them",
  ignore: containerTestIgnored("default-ulimits"),
}, async () => {
  const daemon = await startDaemon({
    config: { "default-ulimits": { nofile: { Name: "nofile", Hard: 2048, Soft: 512 } } },
  });
  try {
    const defaults = await daemon.docker([
      "run",
      "--rm",
      "busybox",
      "sh",
      "-c",
      "ulimit -n; ulimit -Hn",
    ]);
    assertEquals(defaults.stdout, "512\n2048\n", defaults.stderr);
    const override = await daemon.docker([
      "run",
      "--rm",
      "--ulimit",
      "nofile=100:200",
      "busybox",
      "sh",
      "-c",
      "ulimit -n; ulimit -Hn",
    ]);
    assertEquals(override.stdout, "100\n200\n", override.stderr);
  } finally {
    await finish(daemon);
  }
});
