// A container's life after `run`: stop (stop signal, then SIGKILL after -t), kill with
// a signal, restart, wait, start of a running container (304), rm of a running one
// (409 without -f), rm -f of several at once, container prune, restart policies
// (`always` brings an exiting container back and `docker stop` ends that;
// `on-failure:N` gives up after N), `docker ps -a` columns and JSON, `docker inspect`,
// `docker top` and `docker rename`. Through the real docker CLI, and mini-docker for the
// basic verbs; nothing may be left after each step.

import { assert, assertEquals, assertMatch, assertStringIncludes } from "../helpers/assert.ts";
import {
  containerTestIgnored,
  eventually,
  finish,
  jsonLines,
  removeAllAndCheck,
  startDaemon,
} from "./containers_fixture.ts";

const ignore = containerTestIgnored("container lifecycle against mini-dockerd");

Deno.test({ name: "stop, kill, restart, wait, rm, prune", ignore }, async (t) => {
  const daemon = await startDaemon();
  try {
    await t.step(
      "stop: a PID 1 that ignores SIGTERM is killed after -t (137); one that traps it exits itself",
      async () => {
        await daemon.docker(["run", "-d", "--name", "deaf", "busybox", "sleep", "300"]);
        await daemon.docker([
          "run",
          "-d",
          "--name",
          "polite",
          "busybox",
          "sh",
          "-c",
          "trap 'exit 0' TERM; while true; do sleep 0.1; done",
        ]);
        const stop = await daemon.docker(["stop", "-t", "1", "deaf", "polite"]);
        assertEquals(stop.stdout, "deaf\npolite\n", stop.stderr);
        const codes = await daemon.docker([
          "inspect",
          "-f",
          "{{.Name}} {{.State.Status}} {{.State.ExitCode}}",
          "deaf",
          "polite",
        ]);
        assertEquals(codes.stdout, "/deaf exited 137\n/polite exited 0\n");
        const again = await daemon.api("POST", "/v1.41/containers/deaf/stop");
        assertEquals(again.status, 304);
        await again.body?.cancel();
        await removeAllAndCheck(daemon);
      },
    );

    await t.step(
      "kill: a chosen signal reaches the process; kill of a stopped container is a 409",
      async () => {
        await daemon.docker([
          "run",
          "-d",
          "--name",
          "catcher",
          "busybox",
          "sh",
          "-c",
          "trap 'echo got-usr1; exit 42' USR1; while true; do sleep 0.1; done",
        ]);
        const kill = await daemon.docker(["kill", "-s", "USR1", "catcher"]);
        assertEquals(kill.code, 0, kill.stderr);
        const wait = await daemon.docker(["wait", "catcher"]);
        assertEquals(wait.stdout.trim(), "42");
        assertEquals((await daemon.docker(["logs", "catcher"])).stdout, "got-usr1\n");
        const late = await daemon.docker(["kill", "catcher"]);
        assertStringIncludes(late.stderr, "is not running");
        await removeAllAndCheck(daemon);
      },
    );

    await t.step(
      "restart and start: a new run (new pid), start of a running container changes nothing",
      async () => {
        await daemon.docker(["run", "-d", "--name", "again", "busybox", "sleep", "300"]);
        const pid = (await daemon.docker(["inspect", "-f", "{{.State.Pid}}", "again"])).stdout
          .trim();
        const restart = await daemon.docker(["restart", "-t", "0", "again"]);
        assertEquals(restart.code, 0, restart.stderr);
        const after =
          (await daemon.docker(["inspect", "-f", "{{.State.Pid}} {{.State.Running}}", "again"]))
            .stdout.trim();
        assert(after.endsWith(" true") && !after.startsWith(`${pid} `), `pid ${pid} -> ${after}`);
        const started = await daemon.api("POST", "/v1.41/containers/again/start");
        assertEquals(started.status, 304);
        await started.body?.cancel();
        await removeAllAndCheck(daemon);
      },
    );

    await t.step("rm: a running container needs -f; rm -f removes several at once", async () => {
      for (const name of ["r1", "r2", "r3"]) {
        await daemon.docker(["run", "-d", "--name", name, "busybox", "sleep", "300"]);
      }
      const refused = await daemon.docker(["rm", "r1"]);
      assertEquals(refused.code, 1);
      assertStringIncludes(refused.stderr, "You cannot remove a running container");
      const removed = await daemon.docker(["rm", "-f", "r1", "r2", "r3"]);
      assertEquals(removed.stdout, "r1\nr2\nr3\n", removed.stderr);
      await removeAllAndCheck(daemon);
    });

    await t.step("container prune removes stopped containers only", async () => {
      await daemon.docker(["run", "--name", "done1", "busybox", "true"]);
      await daemon.docker(["create", "--name", "fresh", "busybox", "true"]);
      await daemon.docker(["run", "-d", "--name", "busy", "busybox", "sleep", "300"]);
      const since = (Date.now() / 1000).toFixed(3); // the CLI takes fractional seconds
      const prune = await daemon.docker(["container", "prune", "-f"]);
      assertEquals(prune.code, 0, prune.stderr);
      const left = (await daemon.docker(["ps", "-a", "--format", "{{.Names}}"])).stdout.trim();
      assertEquals(left, "busy");
      // One `prune` event for the whole prune, after a `destroy` per removed container.
      const until = Math.floor(Date.now() / 1000) + 1;
      const events = await daemon.docker([
        "events",
        "--since",
        since,
        "--until",
        String(until),
        "--filter",
        "type=container",
        "--format",
        "{{.Action}} {{.Actor.Attributes.name}}",
      ]);
      assertEquals(
        events.stdout.trim().split("\n").filter((line) => /^(destroy|prune)/.test(line)).sort(),
        ["destroy done1", "destroy fresh", "prune <no value>"].sort(),
      );
      await removeAllAndCheck(daemon);
    });

    await t.step("pause freezes, unpause thaws; stop works on a paused container", async () => {
      await daemon.docker(["run", "-d", "--name", "frozen", "busybox", "sleep", "300"]);
      assertEquals((await daemon.docker(["pause", "frozen"])).code, 0);
      const paused = await daemon.docker(["ps", "--format", "{{.Status}}"]);
      assertMatch(paused.stdout, /\(Paused\)$/m);
      assertStringIncludes((await daemon.docker(["pause", "frozen"])).stderr, "is already paused");
      assertEquals((await daemon.docker(["unpause", "frozen"])).code, 0);
      assertEquals(
        (await daemon.docker(["inspect", "-f", "{{.State.Status}}", "frozen"])).stdout.trim(),
        "running",
      );
      await daemon.docker(["pause", "frozen"]);
      const stop = await daemon.docker(["stop", "-t", "0", "frozen"]);
      assertEquals(stop.code, 0, stop.stderr);
      assertEquals(
        (await daemon.docker(["inspect", "-f", "{{.State.Status}}", "frozen"])).stdout.trim(),
        "exited",
      );
      await removeAllAndCheck(daemon);
    });

    await t.step("mini-docker: stop, start, restart, kill, wait, rm", async () => {
      const md = (args: string[]) => daemon.miniDocker(args);
      assertEquals((await md(["run", "-d", "--name", "mdc", "busybox", "sleep", "300"])).code, 0);
      assertEquals((await md(["stop", "-t", "0", "mdc"])).stdout, "mdc\n");
      assertEquals((await md(["wait", "mdc"])).stdout.trim(), "137");
      assertEquals((await md(["start", "mdc"])).stdout, "mdc\n");
      assertEquals((await md(["restart", "-t", "0", "mdc"])).stdout, "mdc\n");
      assertEquals((await md(["kill", "mdc"])).stdout, "mdc\n");
      assertEquals((await md(["rm", "mdc"])).stdout, "mdc\n");
      await removeAllAndCheck(daemon);
    });
  } finally {
    await finish(daemon);
  }
});

Deno.test({ name: "restart policies: always and on-failure:N", ignore }, async (t) => {
  const daemon = await startDaemon();
  try {
    await t.step("always: an exiting container comes back until docker stop", async () => {
      await daemon.docker([
        "run",
        "-d",
        "--name",
        "phoenix",
        "--restart",
        "always",
        "busybox",
        "sh",
        "-c",
        "echo run; exit 1",
      ]);
      await eventually("two restarts", async () => {
        const count = (await daemon.docker(["inspect", "-f", "{{.RestartCount}}", "phoenix"]))
          .stdout.trim();
        return Number(count) >= 2;
      });
      const logs = (await daemon.docker(["logs", "phoenix"])).stdout;
      assert(logs.split("\n").filter((line) => line === "run").length >= 2, logs);
      const stop = await daemon.docker(["stop", "phoenix"]);
      assertEquals(stop.code, 0, stop.stderr);
      const state = await daemon.docker([
        "inspect",
        "-f",
        "{{.State.Status}} {{.State.Restarting}}",
        "phoenix",
      ]);
      assertEquals(state.stdout.trim(), "exited false");
      const count = (await daemon.docker(["inspect", "-f", "{{.RestartCount}}", "phoenix"])).stdout
        .trim();
      await new Promise((resolve) => setTimeout(resolve, 1500));
      assertEquals(
        (await daemon.docker(["inspect", "-f", "{{.RestartCount}} {{.State.Status}}", "phoenix"]))
          .stdout.trim(),
        `${count} exited`,
      );
      await removeAllAndCheck(daemon);
    });

    await t.step(
      "on-failure:2 restarts a failing container twice, then leaves it exited",
      async () => {
        await daemon.docker([
          "run",
          "-d",
          "--name",
          "flaky",
          "--restart",
          "on-failure:2",
          "busybox",
          "sh",
          "-c",
          "exit 3",
        ]);
        await eventually("the policy gives up", async () => {
          const state =
            (await daemon.docker(["inspect", "-f", "{{.RestartCount}} {{.State.Status}}", "flaky"]))
              .stdout.trim();
          return state === "2 exited";
        });
        assertEquals(
          (await daemon.docker(["inspect", "-f", "{{.State.ExitCode}}", "flaky"])).stdout.trim(),
          "3",
        );
        await daemon.docker([
          "run",
          "-d",
          "--name",
          "fine",
          "--restart",
          "on-failure",
          "busybox",
          "true",
        ]);
        assertEquals((await daemon.docker(["wait", "fine"])).stdout.trim(), "0");
        assertEquals(
          (await daemon.docker(["inspect", "-f", "{{.RestartCount}}", "fine"])).stdout.trim(),
          "0",
        );
        await removeAllAndCheck(daemon);
      },
    );

    await t.step("AutoRemove with a restart policy is refused by the daemon (400)", async () => {
      const refused = await daemon.api("POST", "/v1.41/containers/create", {
        Image: "busybox",
        Cmd: ["true"],
        HostConfig: { AutoRemove: true, RestartPolicy: { Name: "always", MaximumRetryCount: 0 } },
      });
      assertEquals(refused.status, 400);
      assertEquals(
        (await refused.json()).message,
        "can't create 'AutoRemove' container with restart policy",
      );
      await removeAllAndCheck(daemon);
    });
  } finally {
    await finish(daemon);
  }
});

Deno.test({ name: "ps -a, inspect, top and rename show what dockerd knows", ignore }, async (t) => {
  const daemon = await startDaemon();
  try {
    await t.step("ps -a: columns, --format json, filters", async () => {
      await daemon.docker(["run", "--name", "gone", "busybox", "sh", "-c", "exit 2"]);
      await daemon.docker([
        "run",
        "-d",
        "--name",
        "alive",
        "--label",
        "tier=web",
        "busybox",
        "sleep",
        "300",
      ]);
      await daemon.docker(["create", "--name", "never", "busybox", "true"]);
      const table = (await daemon.docker(["ps", "-a"])).stdout.split("\n");
      assertMatch(table[0], /^CONTAINER ID\s+IMAGE\s+COMMAND\s+CREATED\s+STATUS\s+PORTS\s+NAMES$/);
      const byName = Object.fromEntries(
        jsonLines((await daemon.docker(["ps", "-a", "--format", "{{json .}}"])).stdout).map((
          row,
        ) => [row.Names, row]),
      );
      assertMatch(byName.alive.Status, /^Up /);
      assertEquals(byName.alive.State, "running");
      assertEquals(byName.alive.Command, '"sleep 300"');
      assertEquals(byName.alive.Image, "busybox");
      assertMatch(byName.gone.Status, /^Exited \(2\) .* ago$/);
      assertEquals(byName.never.Status, "Created");
      assertEquals((await daemon.docker(["ps", "--format", "{{.Names}}"])).stdout, "alive\n");
      assertEquals(
        (await daemon.docker(["ps", "-a", "--filter", "status=exited", "--format", "{{.Names}}"]))
          .stdout,
        "gone\n",
      );
      assertEquals(
        (await daemon.docker(["ps", "-a", "--filter", "exited=2", "--format", "{{.Names}}"]))
          .stdout,
        "gone\n",
      );
      assertEquals(
        (await daemon.docker(["ps", "--filter", "label=tier=web", "--format", "{{.Names}}"]))
          .stdout,
        "alive\n",
      );
      assertEquals(
        (await daemon.docker(["ps", "-a", "--filter", "name=nev", "--format", "{{.Names}}"]))
          .stdout,
        "never\n",
      );
      assertEquals(
        (await daemon.docker(["ps", "-a", "-n", "1", "--format", "{{.Names}}"])).stdout,
        "never\n",
      );
      const bad = await daemon.docker(["ps", "--filter", "colour=red"]);
      assertStringIncludes(bad.stderr, "invalid filter 'colour'");
      await removeAllAndCheck(daemon);
    });

    await t.step("inspect: state, config, host config, paths that exist", async () => {
      await daemon.docker([
        "run",
        "-d",
        "--name",
        "probe",
        "-e",
        "A=1",
        "--restart",
        "unless-stopped",
        "busybox",
        "sleep",
        "300",
      ]);
      const [document] = JSON.parse((await daemon.docker(["inspect", "probe"])).stdout);
      assertEquals(document.Name, "/probe");
      assertEquals(document.State.Status, "running");
      assert(document.State.Pid > 0);
      assertEquals(document.Path, "sleep");
      assertEquals(document.Args, ["300"]);
      assertEquals(document.Config.Image, "busybox");
      assert(document.Config.Env.includes("A=1"));
      assertEquals(document.HostConfig.RestartPolicy, {
        Name: "unless-stopped",
        MaximumRetryCount: 0,
      });
      assertEquals(document.HostConfig.LogConfig.Type, "json-file");
      assertEquals(document.Driver, "overlay2");
      for (
        const path of [
          document.LogPath,
          document.HostsPath,
          document.HostnamePath,
          document.ResolvConfPath,
        ]
      ) {
        assert(Deno.statSync(path).isFile, path);
      }
      assertEquals(Deno.readTextFileSync(document.HostnamePath), `${document.Id.slice(0, 12)}\n`);
      assertEquals(
        document.Id,
        (await daemon.docker(["inspect", "-f", "{{.Id}}", document.Id.slice(0, 8)])).stdout.trim(),
      );
      await removeAllAndCheck(daemon);
    });

    await t.step("top lists the container's processes from the host's ps", async () => {
      await daemon.docker(["run", "-d", "--name", "topped", "busybox", "sleep", "300"]);
      const pid = (await daemon.docker(["inspect", "-f", "{{.State.Pid}}", "topped"])).stdout
        .trim();
      const top = await daemon.docker(["top", "topped"]);
      assertEquals(top.code, 0, top.stderr);
      assertMatch(top.stdout, /^UID\s+PID\s+PPID/);
      assertMatch(top.stdout, new RegExp(`\\s${pid}\\s.*sleep 300`));
      await removeAllAndCheck(daemon);
    });

    await t.step("rename moves the name; the old one is free again", async () => {
      await daemon.docker(["create", "--name", "before", "busybox", "true"]);
      assertEquals((await daemon.docker(["rename", "before", "after"])).code, 0);
      assertEquals((await daemon.docker(["ps", "-a", "--format", "{{.Names}}"])).stdout, "after\n");
      assertEquals(
        (await daemon.docker(["create", "--name", "before", "busybox", "true"])).code,
        0,
      );
      await removeAllAndCheck(daemon);
    });
  } finally {
    await finish(daemon);
  }
});
