// What survives what. With "live-restore": true, `kill -9` of mini-dockerd leaves its
// containers running (their shims keep them, under the supervised mini-containerd that
// also survives), an exit that happens while dockerd is away is not lost, and the
// restarted daemon takes them back: ps, logs, exec and stop work on them. Without
// live-restore, a normal shutdown stops containers gracefully (their SIGTERM handler
// runs), a killed dockerd's containers are stopped by the next one, and restart
// policies are honored across the daemon restart (`always` comes back, a manually
// stopped `unless-stopped` does not).

import { assert, assertEquals, assertMatch, assertStringIncludes } from "../helpers/assert.ts";
import { containerTestIgnored, eventually, withDaemon } from "./containers_fixture.ts";

const ignore = containerTestIgnored("live-restore and daemon restarts");

function alive(pid: number): boolean {
  try {
    return !/\) Z /.test(Deno.readTextFileSync(`/proc/${pid}/stat`));
  } catch {
    return false;
  }
}

Deno.test(
  { name: "live-restore: containers outlive kill -9 of mini-dockerd", ignore },
  async () => {
    await withDaemon({ config: { "live-restore": true } }, async (daemon) => {
      const ticker = "i=0; while true; do i=$((i+1)); echo tick $i; sleep 0.2; done";
      await daemon.docker(["run", "-d", "--name", "steady", "busybox", "sh", "-c", ticker]);
      await daemon.docker([
        "run",
        "-d",
        "--name",
        "brief",
        "busybox",
        "sh",
        "-c",
        "sleep 2; exit 7",
      ]);
      const pid = Number(
        (await daemon.docker(["inspect", "-f", "{{.State.Pid}}", "steady"])).stdout,
      );
      const briefPid = Number(
        (await daemon.docker(["inspect", "-f", "{{.State.Pid}}", "brief"])).stdout,
      );
      const containerd = await daemon.containerdPid();
      assert(pid > 0 && briefPid > 0 && containerd !== undefined);

      await daemon.kill("SIGKILL");
      assert(alive(pid), "the container died with dockerd");
      assert(alive(containerd!), "the supervised mini-containerd died with dockerd");
      // `brief` exits while no dockerd is there to hear it.
      await eventually("the short container to exit while dockerd is down", () => !alive(briefPid));

      await daemon.restart();
      const state = await daemon.docker([
        "inspect",
        "-f",
        "{{.State.Status}} {{.State.Pid}}",
        "steady",
      ]);
      assertEquals(state.stdout.trim(), `running ${pid}`);
      const brief = await daemon.docker([
        "inspect",
        "-f",
        "{{.State.Status}} {{.State.ExitCode}}",
        "brief",
      ]);
      assertEquals(brief.stdout.trim(), "exited 7");
      assertEquals((await daemon.docker(["ps", "--format", "{{.Names}}"])).stdout, "steady\n");
      const logs = await daemon.docker(["logs", "--tail", "1", "steady"]);
      assertMatch(logs.stdout, /^tick \d+\n$/);
      const exec = await daemon.docker(["exec", "steady", "sh", "-c", "echo restored; exit 6"]);
      assertEquals([exec.code, exec.stdout], [6, "restored\n"]);
      // Logs keep flowing after the restore (the shim wrote them all along).
      const before = Number(logs.stdout.split(" ")[1]);
      await eventually("new log lines", async () => {
        const last = (await daemon.docker(["logs", "--tail", "1", "steady"])).stdout;
        return Number(last.split(" ")[1]) > before;
      });
      const stop = await daemon.docker(["stop", "-t", "1", "steady"]);
      assertEquals(stop.code, 0, stop.stderr);
      assert(!alive(pid), "stop did not end the container");
      assertEquals(
        (await daemon.docker(["inspect", "-f", "{{.State.Status}} {{.State.ExitCode}}", "steady"]))
          .stdout.trim(),
        "exited 137",
      );
    });
  },
);

Deno.test(
  { name: "live-restore: a normal stop of mini-dockerd leaves containers too", ignore },
  async () => {
    await withDaemon({ config: { "live-restore": true } }, async (daemon) => {
      await daemon.docker(["run", "-d", "--name", "stays", "busybox", "sleep", "300"]);
      const pid = Number(
        (await daemon.docker(["inspect", "-f", "{{.State.Pid}}", "stays"])).stdout,
      );
      const status = await daemon.kill("SIGTERM");
      assertEquals(status?.code, 0);
      assert(alive(pid), "SIGTERM with live-restore stopped the container");
      await daemon.restart();
      assertEquals(
        (await daemon.docker(["inspect", "-f", "{{.State.Pid}}", "stays"])).stdout.trim(),
        String(pid),
      );
      // After the restore the running container's layer is still counted once: rm -f unmounts it.
    });
  },
);

Deno.test(
  { name: "no live-restore: graceful shutdown, restart policies across restarts", ignore },
  async () => {
    await withDaemon({}, async (daemon) => {
      await daemon.docker([
        "run",
        "-d",
        "--name",
        "graceful",
        "busybox",
        "sh",
        "-c",
        "trap 'echo bye; exit 0' TERM; echo hello; while true; do sleep 0.1; done",
      ]);
      await daemon.docker([
        "run",
        "-d",
        "--name",
        "always",
        "--stop-timeout",
        "1",
        "--restart",
        "always",
        "busybox",
        "sleep",
        "300",
      ]);
      await daemon.docker([
        "run",
        "-d",
        "--name",
        "parked",
        "--restart",
        "unless-stopped",
        "busybox",
        "sleep",
        "300",
      ]);
      await daemon.docker(["stop", "-t", "0", "parked"]);
      const graceful = Number(
        (await daemon.docker(["inspect", "-f", "{{.State.Pid}}", "graceful"])).stdout,
      );
      const always = Number(
        (await daemon.docker(["inspect", "-f", "{{.State.Pid}}", "always"])).stdout,
      );

      const status = await daemon.kill("SIGTERM");
      assertEquals(status?.code, 0);
      assert(!alive(graceful) && !alive(always), "shutdown left containers running");

      await daemon.restart();
      assertEquals(
        (await daemon.docker([
          "inspect",
          "-f",
          "{{.State.Status}} {{.State.ExitCode}}",
          "graceful",
        ])).stdout.trim(),
        "exited 0",
      );
      assertEquals((await daemon.docker(["logs", "graceful"])).stdout, "hello\nbye\n");
      const restarted = await daemon.docker([
        "inspect",
        "-f",
        "{{.State.Status}} {{.State.Pid}}",
        "always",
      ]);
      assertMatch(restarted.stdout, /^running \d+\n$/);
      assert(!restarted.stdout.includes(` ${always}\n`), "`always` kept its old process");
      assertStringIncludes(
        (await daemon.docker(["inspect", "-f", "{{.State.Status}}", "parked"])).stdout,
        "exited",
      );
    });
  },
);

Deno.test({
  name: "no live-restore: the next dockerd stops what a killed one left running",
  ignore,
}, async () => {
  await withDaemon({}, async (daemon) => {
    await daemon.docker(["run", "-d", "--name", "orphan", "busybox", "sleep", "300"]);
    const pid = Number((await daemon.docker(["inspect", "-f", "{{.State.Pid}}", "orphan"])).stdout);
    await daemon.kill("SIGKILL");
    assert(alive(pid), "the shim should have kept the container through the crash");
    await daemon.restart();
    assert(!alive(pid), "the restarted daemon left the container running without live-restore");
    assertEquals(
      (await daemon.docker(["inspect", "-f", "{{.State.Status}} {{.State.ExitCode}}", "orphan"]))
        .stdout.trim(),
      "exited 137",
    );
  });
});
