// The shim against real processes: started the way mini-containerd starts it, it runs
// containers through the OCI runtime (mini-runc by default, real runc in one test),
// holds their stdio, reaps them, keeps their exit status and publishes events.

import { assert, assertEquals, assertMatch, assertStringIncludes } from "../helpers/assert.ts";
import { AttachedIo, FifoSet } from "../../lib/client/cio.ts";
import { ApiError } from "../../lib/api/errors.ts";
import { readOutputLog } from "../../lib/shim/io.ts";
import { withMemoryLimit } from "../../lib/oci_spec/options.ts";
import { isMountPoint } from "../../lib/linux/mountinfo.ts";
import { ShimFixture } from "./support.ts";
import {
  commandLine,
  needsContainers,
  processGone,
  procStat,
  TextSink,
  waitUntil,
} from "../tasks/support.ts";

const ignore = needsContainers("shim tests");

Deno.test({
  name: "shim: ps axf shows a v1 command line; own session, address in the bundle",
  ignore,
}, async () => {
  const fixture = await ShimFixture.start(["true"]);
  try {
    const argv = commandLine(fixture.shim.pid);
    const flag = (name: string) => argv[argv.indexOf(name) + 1];
    assertEquals(flag("-namespace"), fixture.namespace);
    assertEquals(flag("-id"), fixture.id);
    assertEquals(flag("-address"), fixture.daemonAddress);
    assertEquals(flag("-workdir"), fixture.bundle);
    assertEquals(flag("-runtime-binary"), fixture.runtimeBinary);
    assert(argv.some((part) => part.endsWith("cmd/mini_containerd_shim.ts")), argv.join(" "));
    // v1 model: our child, but the leader of its own session (setsid).
    const [, parent, , session] = procStat(fixture.shim.pid);
    assertEquals(Number(parent), Deno.pid);
    assertEquals(Number(session), fixture.shim.pid);
    assertNotSameSession(fixture.shim.pid);
    assertEquals(Deno.readTextFileSync(fixture.paths.address).trim(), fixture.shim.address);
    assertEquals(Number(Deno.readTextFileSync(fixture.paths.shimPid)), fixture.shim.pid);
    const connected = await fixture.client.connect();
    assertEquals(connected.shimPid, fixture.shim.pid);
    assertEquals(connected.taskPid, 0);
  } finally {
    assertEquals(await fixture.cleanup(), []);
  }
});

function assertNotSameSession(pid: number): void {
  assert(procStat(pid)[3] !== procStat(Deno.pid)[3], "the shim shares the test's session");
}

Deno.test({
  name: "shim: runs a container, logs its output, keeps the exit status until Delete",
  ignore,
}, async () => {
  const fixture = await ShimFixture.start(["sh", "-c", "echo hello; echo oops >&2; exit 3"]);
  try {
    const pid = await fixture.create();
    assert(pid > 0);
    // The init is the shim's child: with this repository's mini-runc the shim ran the
    // runtime in-process (no mini-runc process at all); with another runtime, the
    // runtime that created it has exited and the shim (subreaper) inherited it.
    assertEquals(Number(procStat(pid)[1]), fixture.shim.pid);
    assertMatch(
      Deno.readTextFileSync(fixture.paths.shimLog),
      /container created.*runtime=in-process initSpawnedEarly=true/,
    );
    assertEquals((await fixture.client.state()).status, "created");
    assert(isMountPoint(fixture.paths.rootfs), "the shim mounts the rootfs into the bundle");
    await fixture.client.start();
    const exit = await fixture.client.wait();
    assertEquals(exit.exitStatus, 3);
    assertEquals(exit.pid, pid);
    // Asked again after the exit, the shim still knows.
    assertEquals((await fixture.client.wait()).exitStatus, 3);
    const state = await fixture.client.state();
    assertEquals(state.status, "stopped");
    assertEquals(state.exitStatus, 3);
    // Two pipes, so the order between the streams is not fixed; within one it is.
    const log = await readOutputLog(fixture.paths.containerLog);
    const lines = (stream: string) =>
      log.filter((entry) => entry.stream === stream).map((entry) => entry.log);
    assertEquals(lines("stdout"), ["hello\n"]);
    assertEquals(lines("stderr"), ["oops\n"]);
    const shutdownTooEarly = await fixture.client.shutdown().catch((error) => error);
    assert(shutdownTooEarly instanceof ApiError && shutdownTooEarly.code === "failed_precondition");
    const deleted = await fixture.client.delete();
    assertEquals(deleted.exitStatus, 3);
    assert(!isMountPoint(fixture.paths.rootfs), "Delete unmounts the rootfs");
    assert(processGone(pid));
    await fixture.client.shutdown();
    await waitUntil("the shim exits after Shutdown", () => processGone(fixture.shim.pid));
    assertEquals(
      fixture.topics,
      ["/tasks/create", "/tasks/start", "/tasks/exit", "/tasks/delete"],
    );
    const exitEvent = fixture.events[2].event;
    assertEquals(exitEvent.containerId, fixture.id);
    assertEquals(exitEvent.exitStatus, 3);
    assertEquals(fixture.events[2].namespace, fixture.namespace);
  } finally {
    assertEquals(await fixture.cleanup(), []);
  }
});

Deno.test(
  { name: "shim: exec processes get FIFO stdio; signals are reported as 128+n", ignore },
  async () => {
    const fixture = await ShimFixture.start(["sleep", "1000"]);
    try {
      const initPid = await fixture.create();
      await fixture.client.start();

      // An exec process whose output goes to FIFOs a client opened.
      const fifos = await FifoSet.create("exec", { stdin: true });
      const stdout = new TextSink();
      const stderr = new TextSink();
      const input = new Blob(["from stdin\n"]).stream();
      const io = new AttachedIo(fifos, {
        stdin: input,
        stdout: stdout.stream,
        stderr: stderr.stream,
      });
      await fixture.client.exec({
        execId: "probe",
        process: {
          args: ["sh", "-c", "cat; echo to-err >&2; exit 7"],
          cwd: "/",
          user: { uid: 0, gid: 0 },
        },
        stdio: fifos.stdio,
      });
      const probeExit = fixture.client.wait("probe");
      const { pid: probePid } = await fixture.client.start("probe");
      assert(probePid > 0 && probePid !== initPid);
      assertEquals((await probeExit).exitStatus, 7);
      await io.done;
      await fifos.remove();
      assertEquals(stdout.text, "from stdin\n");
      assertEquals(stderr.text, "to-err\n");
      await fixture.client.delete("probe");

      // An exec process killed by SIGTERM: 128 + 15.
      await fixture.client.exec({
        execId: "sleeper",
        process: { args: ["sleep", "1000"], cwd: "/", user: { uid: 0, gid: 0 } },
        stdio: {},
      });
      await fixture.client.start("sleeper");
      const pids = await fixture.client.pids();
      assert(pids.some((process) => process.execId === "sleeper"), JSON.stringify(pids));
      assert(pids.some((process) => process.pid === initPid), JSON.stringify(pids));
      await fixture.client.kill(15, { execId: "sleeper" });
      assertEquals((await fixture.client.wait("sleeper")).exitStatus, 143);

      // The init (PID 1 in its namespace ignores SIGTERM without a handler) killed by SIGKILL.
      await fixture.client.kill(9);
      assertEquals((await fixture.client.wait()).exitStatus, 137);
      const gone = await fixture.client.kill(9).catch((error) => error);
      assert(gone instanceof ApiError && gone.code === "not_found", String(gone));
      assert(fixture.topics.includes("/tasks/exec-added"));
      assert(fixture.topics.includes("/tasks/exec-started"));
    } finally {
      assertEquals(await fixture.cleanup(), []);
    }
  },
);

Deno.test({
  name: "shim: a runtime error comes back with the runtime's message, nothing mounted",
  ignore,
}, async () => {
  const fixture = await ShimFixture.start(["/no/such/program"]);
  try {
    const error = await fixture.create().catch((error) => error);
    assert(error instanceof ApiError, String(error));
    assertMatch(error.message, /create failed/);
    assertStringIncludes(error.message, "/no/such/program");
    assert(!isMountPoint(fixture.paths.rootfs), "a failed create unmounts the rootfs");
    const state = await fixture.client.state().catch((error) => error);
    assert(state instanceof ApiError && state.code === "not_found");
    // The shim may exit: it has no task.
    await fixture.client.shutdown();
    await waitUntil("the shim exits", () => processGone(fixture.shim.pid));
  } finally {
    assertEquals(await fixture.cleanup(), []);
  }
});

Deno.test(
  { name: "shim: an OOM kill is reported (137, oomKilled, /tasks/oom)", ignore },
  async () => {
    const fixture = await ShimFixture.start(
      ["sh", "-c", "a=xxxxxxxxxxxxxxxx; while true; do a=$a$a; done"],
      { specOptions: [withMemoryLimit(24 * 1024 * 1024)] },
    );
    try {
      await fixture.create();
      await fixture.client.start();
      const exit = await fixture.client.wait();
      assertEquals(exit.exitStatus, 137);
      assert((await fixture.client.state()).oomKilled, "state reports the OOM kill");
      await waitUntil("the OOM event is published", () => fixture.topics.includes("/tasks/oom"));
    } finally {
      assertEquals(await fixture.cleanup(), []);
    }
  },
);

Deno.test({
  name: "shim: drives real runc the same way",
  ignore: ignore || needsContainers("shim with runc", "runc"),
}, async () => {
  const fixture = await ShimFixture.start(["sh", "-c", "echo via runc; exit 4"], {
    runtimeBinary: "runc",
  });
  try {
    await fixture.create();
    // Not mini-runc: the shim runs the binary through its command line.
    assertMatch(Deno.readTextFileSync(fixture.paths.shimLog), /container created.*runtime=runc/);
    const exited = fixture.client.wait();
    await fixture.client.start();
    assertEquals((await exited).exitStatus, 4);
    const log = await readOutputLog(fixture.paths.containerLog);
    assertEquals(log.map((entry) => entry.log), ["via runc\n"]);
    assertEquals((await fixture.client.delete()).exitStatus, 4);
  } finally {
    assertEquals(await fixture.cleanup(), []);
  }
});

Deno.test({
  name: "shim: 40 exec processes at once are all reaped with their status",
  ignore,
}, async () => {
  // More processes than Deno's ~32 blocking threads: the shim must not wait on a thread
  // per process (lib/shim/reaper.ts), or the later ones are never reaped.
  const fixture = await ShimFixture.start(["sleep", "3600"]);
  try {
    await fixture.create();
    await fixture.client.start();
    const execIds = Array.from({ length: 40 }, (_, index) => `sleeper${index}`);
    for (const execId of execIds) {
      await fixture.client.exec({
        execId,
        process: { args: ["sleep", "3600"], cwd: "/", user: { uid: 0, gid: 0 } },
        stdio: {},
      });
      await fixture.client.start(execId);
    }
    assertEquals((await fixture.client.pids()).length, 41);
    const exits = execIds.map((execId) => fixture.client.wait(execId));
    for (const [index, execId] of execIds.entries()) {
      // Half by SIGTERM, half by SIGKILL: each keeps its own status.
      await fixture.client.kill(index % 2 === 0 ? 15 : 9, { execId });
    }
    const statuses = (await Promise.all(exits)).map((exit) => exit.exitStatus);
    assertEquals(statuses, execIds.map((_, index) => index % 2 === 0 ? 143 : 137));
    for (const execId of execIds) {
      assertEquals((await fixture.client.state(execId)).status, "stopped");
      await fixture.client.delete(execId);
    }
    await fixture.client.kill(9);
    assertEquals((await fixture.client.wait()).exitStatus, 137);
  } finally {
    assertEquals(await fixture.cleanup(), []);
  }
});
