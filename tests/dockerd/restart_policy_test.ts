// Restart policies, checked with the real docker CLI: `no` leaves an exited container
// alone, `on-failure[:N]` restarts only failures (at most N times), `always` and
// `unless-stopped` restart any exit until a user stops them; `docker restart` and
// `docker wait` work on containers with a policy. Across daemon restarts: without
// live-restore the policies decide what comes back after a graceful shutdown and after
// a crash; with live-restore, containers that exit while mini-dockerd is down (killed
// with -9) are not lost: the next daemon reports Exited (N), `docker wait` returns N,
// and the policies restart the ones they cover.
// The containers wait for a file to appear in their root before exiting; the test
// writes it through the container's MergedDir on the host, so each exit happens
// exactly when the test wants it (for example while no dockerd is running).

import { join } from "node:path";
import { assert, assertEquals, assertMatch } from "../helpers/assert.ts";
import {
  containerTestIgnored,
  eventually,
  type TestDockerd,
  withDaemon,
} from "./containers_fixture.ts";

const ignore = containerTestIgnored("restart policies");

/**
 * A container command that exits with `code` once `/go` exists. With `holdAfterFirst`,
 * every later run (a restart) just sleeps, so a restarted container stays up.
 */
function exitOnSignalFile(code: number, holdAfterFirst = false): string[] {
  const hold = holdAfterFirst ? "if [ -f /ran ]; then exec sleep 300; fi; touch /ran; " : "";
  return [
    "sh",
    "-c",
    `${hold}while [ ! -f /go ]; do sleep 0.1; done; rm -f /go; exit ${code}`,
  ];
}

async function runDetached(
  daemon: TestDockerd,
  name: string,
  policy: string,
  command: string[],
  flags: string[] = [],
): Promise<void> {
  const result = await daemon.docker([
    "run",
    "-d",
    "--name",
    name,
    "--restart",
    policy,
    ...flags,
    "busybox",
    ...command,
  ]);
  assertEquals(result.code, 0, result.stderr);
}

async function inspect(daemon: TestDockerd, name: string, format: string): Promise<string> {
  const result = await daemon.docker(["inspect", "-f", format, name]);
  assertEquals(result.code, 0, result.stderr);
  return result.stdout.trim();
}

/** Makes the container's `/go` appear (through its MergedDir), so its command exits. */
async function letExit(daemon: TestDockerd, name: string): Promise<void> {
  const merged = await inspect(daemon, name, "{{.GraphDriver.Data.MergedDir}}");
  await Deno.writeTextFile(join(merged, "go"), "");
}

/** `docker ps -a` rows as name → status. */
async function psAll(daemon: TestDockerd): Promise<Map<string, string>> {
  const result = await daemon.docker(["ps", "-a", "--format", "{{.Names}}\t{{.Status}}"]);
  assertEquals(result.code, 0, result.stderr);
  return new Map(
    result.stdout.trim().split("\n").filter((line) => line !== "").map((line) => {
      const [name, status] = line.split("\t");
      return [name, status] as [string, string];
    }),
  );
}

/**
 * Restart policies do not involve networking: without the default bridge (containers
 * get network "none") these daemons do not compete with other tests' daemons for it.
 */
const noBridge = { bridge: "none" };

/** PID 1 ignores SIGTERM without a handler: a short stop timeout keeps shutdowns quick. */
const quickStop = ["--stop-timeout", "1"];

function alive(pid: number): boolean {
  try {
    return !/\) Z /.test(Deno.readTextFileSync(`/proc/${pid}/stat`));
  } catch {
    return false;
  }
}

Deno.test({
  name: "restart policies within one daemon run; docker wait and docker restart",
  ignore,
}, async (t) => {
  await withDaemon({ config: noBridge }, async (daemon) => {
    await t.step("no: the exit is final", async () => {
      await runDetached(daemon, "never", "no", ["sh", "-c", "exit 5"]);
      const wait = await daemon.docker(["wait", "never"]);
      assertEquals([wait.code, wait.stdout.trim()], [0, "5"]);
      assertMatch((await psAll(daemon)).get("never") ?? "", /^Exited \(5\) /);
    });

    await t.step("on-failure:2: a failure is retried, docker wait gives its code", async () => {
      await runDetached(daemon, "retry", "on-failure:2", exitOnSignalFile(3));
      // What `docker wait` sends. Once the headers are here the daemon waits for the exit,
      // which ends the wait even though a restart follows (as in dockerd).
      const wait = await daemon.api("POST", "/v1.41/containers/retry/wait");
      assertEquals(wait.status, 200);
      await letExit(daemon, "retry");
      assertEquals(await wait.json(), { StatusCode: 3, Error: null });
      await eventually(
        "the restart",
        async () =>
          await inspect(daemon, "retry", "{{.RestartCount}} {{.State.Running}}") ===
            "1 true",
      );
      await letExit(daemon, "retry");
      await eventually(
        "the second restart",
        async () =>
          await inspect(daemon, "retry", "{{.RestartCount}} {{.State.Status}}") === "2 running",
      );
      await letExit(daemon, "retry");
      await eventually(
        "the policy giving up after 2 retries",
        async () =>
          await inspect(daemon, "retry", "{{.RestartCount}} {{.State.Status}}") === "2 exited",
      );
      assertEquals(await inspect(daemon, "retry", "{{.State.ExitCode}}"), "3");
    });

    await t.step("on-failure: a clean exit is not restarted", async () => {
      await runDetached(daemon, "clean", "on-failure", exitOnSignalFile(0));
      await letExit(daemon, "clean");
      assertEquals((await daemon.docker(["wait", "clean"])).stdout.trim(), "0");
      assertMatch((await psAll(daemon)).get("clean") ?? "", /^Exited \(0\) /);
    });

    await t.step("unless-stopped: any exit is restarted until docker stop", async () => {
      await runDetached(daemon, "stubborn", "unless-stopped", exitOnSignalFile(0));
      const firstPid = Number(await inspect(daemon, "stubborn", "{{.State.Pid}}"));
      await letExit(daemon, "stubborn");
      await eventually("the restart", async () => {
        const [count, pid] = (await inspect(daemon, "stubborn", "{{.RestartCount}} {{.State.Pid}}"))
          .split(" ").map(Number);
        return count === 1 && pid > 0 && pid !== firstPid;
      });
      const stop = await daemon.docker(["stop", "-t", "1", "stubborn"]);
      assertEquals(stop.code, 0, stop.stderr);
      assertEquals(
        await inspect(daemon, "stubborn", "{{.State.Status}} {{.State.Restarting}}"),
        "exited false",
      );
    });

    await t.step("docker restart: a new process, and the policy still applies", async () => {
      await runDetached(daemon, "phoenix", "always", exitOnSignalFile(4));
      const before = Number(await inspect(daemon, "phoenix", "{{.State.Pid}}"));
      const restart = await daemon.docker(["restart", "-t", "1", "phoenix"]);
      assertEquals(restart.code, 0, restart.stderr);
      const after = Number(await inspect(daemon, "phoenix", "{{.State.Pid}}"));
      assert(after > 0 && after !== before, `docker restart kept pid ${before}`);
      assert(!alive(before), "the old process is gone");
      assertEquals(await inspect(daemon, "phoenix", "{{.State.Status}}"), "running");
      // The exit that docker restart caused did not count as a policy restart.
      assertEquals(await inspect(daemon, "phoenix", "{{.RestartCount}}"), "0");
      const wait = await daemon.api("POST", "/v1.41/containers/phoenix/wait");
      await letExit(daemon, "phoenix");
      assertEquals((await wait.json()).StatusCode, 4);
      await eventually("always restarting after its own exit", async () => {
        const [count, pid] = (await inspect(daemon, "phoenix", "{{.RestartCount}} {{.State.Pid}}"))
          .split(" ").map(Number);
        return count === 1 && pid > 0 && pid !== after;
      });
    });

    await t.step("no: still exited, never restarted", async () => {
      assertEquals(
        await inspect(daemon, "never", "{{.RestartCount}} {{.State.Status}}"),
        "0 exited",
      );
    });

    await t.step("docker events replays each exit and restart", async () => {
      const until = String(Math.floor(Date.now() / 1000) + 1);
      const events = await daemon.docker([
        "events",
        "--since",
        "0",
        "--until",
        until,
        "--filter",
        "container=retry",
        "--format",
        '{{.Action}} {{index .Actor.Attributes "exitCode"}}',
      ]);
      assertEquals(events.code, 0, events.stderr);
      assertEquals(events.stdout.trim().split("\n").map((line) => line.trim()), [
        "create",
        "start",
        "die 3",
        "start",
        "die 3",
        "start",
        "die 3",
      ]);
    });
  });
});

Deno.test({
  name: "live-restore: exits while mini-dockerd is down (kill -9) are kept and policies apply",
  ignore,
}, async () => {
  await withDaemon({ config: { ...noBridge, "live-restore": true } }, async (daemon) => {
    await runDetached(daemon, "plain", "no", exitOnSignalFile(7));
    await runDetached(daemon, "failing", "on-failure:3", exitOnSignalFile(9, true));
    await runDetached(daemon, "succeeding", "on-failure", exitOnSignalFile(0, true));
    await runDetached(daemon, "forever", "always", exitOnSignalFile(0, true));
    await runDetached(daemon, "unless", "unless-stopped", exitOnSignalFile(2, true));
    await runDetached(daemon, "survivor", "no", ["sleep", "300"]);
    const names = ["plain", "failing", "succeeding", "forever", "unless"];
    const pids = new Map<string, number>();
    for (const name of [...names, "survivor"]) {
      pids.set(name, Number(await inspect(daemon, name, "{{.State.Pid}}")));
    }
    const merged = new Map<string, string>();
    for (const name of names) {
      merged.set(name, await inspect(daemon, name, "{{.GraphDriver.Data.MergedDir}}"));
    }

    await daemon.kill("SIGKILL");
    for (const name of names) await Deno.writeTextFile(join(merged.get(name)!, "go"), "");
    await eventually(
      "every container but the survivor to exit while dockerd is down",
      () => names.every((name) => !alive(pids.get(name)!)),
    );
    assert(alive(pids.get("survivor")!), "live-restore kept the survivor");

    await daemon.restart();
    const ps = await psAll(daemon);
    assertMatch(ps.get("plain") ?? "", /^Exited \(7\) /);
    assertMatch(ps.get("succeeding") ?? "", /^Exited \(0\) /);
    assertMatch(ps.get("survivor") ?? "", /^Up /);
    const wait = await daemon.docker(["wait", "plain", "succeeding"]);
    assertEquals(wait.stdout.trim().split("\n"), ["7", "0"]);
    assertEquals(await inspect(daemon, "plain", "{{.State.Status}} {{.RestartCount}}"), "exited 0");
    assertEquals(
      await inspect(daemon, "succeeding", "{{.State.Status}} {{.RestartCount}}"),
      "exited 0",
    );
    // failing (exit 9, on-failure), forever (always) and unless (unless-stopped) came back.
    for (const name of ["failing", "forever", "unless"]) {
      await eventually(`${name} restarted by its policy`, async () => {
        const [status, pid] = (await inspect(daemon, name, "{{.State.Status}} {{.State.Pid}}"))
          .split(" ");
        return status === "running" && Number(pid) > 0 && Number(pid) !== pids.get(name);
      });
    }
    assertEquals(await inspect(daemon, "failing", "{{.RestartCount}}"), "1");
    assertEquals(await inspect(daemon, "survivor", "{{.State.Pid}}"), String(pids.get("survivor")));
  });
});

Deno.test({
  name: "no live-restore: policies decide what comes back after a shutdown and after a crash",
  ignore,
}, async () => {
  await withDaemon({ config: noBridge }, async (daemon) => {
    await runDetached(daemon, "plain", "no", ["sleep", "300"], quickStop);
    await runDetached(daemon, "forever", "always", ["sleep", "300"], quickStop);
    await runDetached(daemon, "unless", "unless-stopped", ["sleep", "300"], quickStop);
    await runDetached(daemon, "parked", "unless-stopped", ["sleep", "300"], quickStop);
    await runDetached(daemon, "stopped-always", "always", ["sleep", "300"], quickStop);
    await daemon.docker(["stop", "-t", "0", "parked", "stopped-always"]);

    // A graceful shutdown stops the containers; the next start applies the policies.
    assertEquals((await daemon.kill("SIGTERM"))?.code, 0);
    await daemon.restart();
    const expected = {
      plain: "exited",
      forever: "running",
      unless: "running",
      parked: "exited", // stopped by a user: unless-stopped leaves it
      "stopped-always": "running", // always restarts at daemon start even after docker stop
    };
    for (const [name, status] of Object.entries(expected)) {
      await eventually(
        `${name} ${status}`,
        async () => await inspect(daemon, name, "{{.State.Status}}") === status,
      );
    }
    assertMatch((await psAll(daemon)).get("plain") ?? "", /^Exited \(137\) /);

    // A crash: the next daemon stops what is left running, then applies the policies.
    const foreverPid = Number(await inspect(daemon, "forever", "{{.State.Pid}}"));
    await daemon.kill("SIGKILL");
    assert(alive(foreverPid), "the shim kept the container through the crash");
    await daemon.restart();
    assert(!alive(foreverPid), "without live-restore the old process must be stopped");
    await eventually("forever running again", async () => {
      const [status, pid] = (await inspect(daemon, "forever", "{{.State.Status}} {{.State.Pid}}"))
        .split(" ");
      return status === "running" && Number(pid) !== foreverPid;
    });
    assertEquals(await inspect(daemon, "plain", "{{.State.Status}}"), "exited");
    assertEquals(await inspect(daemon, "parked", "{{.State.Status}}"), "exited");
  });
});
