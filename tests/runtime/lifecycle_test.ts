// The OCI lifecycle through the real mini-runc CLI: run in the foreground (output, exit
// status, cleanup), the create/start split with state and pid file, kill and delete,
// exit codes and signals, exec into a running container, ps and list.

import { assert, assertEquals, assertMatch, assertStringIncludes } from "../helpers/assert.ts";
import { eventually, leftovers, needsContainers, processAlive, RuntimeFixture } from "./support.ts";
import type { ContainerRecord, OciState } from "../../lib/runtime/types.ts";

const ignore = needsContainers("mini-runc lifecycle");

/** Creates a container in the background (stdio to a file) and returns its record. */
async function createDetached(
  fixture: RuntimeFixture,
  id: string,
  bundle: string,
): Promise<{ record: ContainerRecord; output: string; pidFile: string }> {
  const output = `${fixture.base}/${id}.out`;
  const pidFile = `${fixture.base}/${id}.pid`;
  const created = await fixture.run(
    ["create", "--bundle", bundle, "--pid-file", pidFile, id],
    { outputFile: output },
  );
  assertEquals(created.code, 0, `create failed: ${await Deno.readTextFile(output)}`);
  return { record: await fixture.record(id), output, pidFile };
}

async function stateOf(fixture: RuntimeFixture, id: string): Promise<OciState> {
  const result = await fixture.run(["state", id]);
  assertEquals(result.code, 0, result.stderr);
  return JSON.parse(result.stdout);
}

Deno.test(
  { name: "run: output and exit status pass through, nothing is left", ignore },
  async () => {
    const fixture = await RuntimeFixture.create();
    const cgroupName = `/mini-runc-test-run-exit-${crypto.randomUUID()}`; // another suite may run
    try {
      const bundle = await fixture.bundle("b", (spec) => {
        spec.process!.args = ["sh", "-c", "echo hi; echo oops >&2; exit 3"];
        spec.linux!.cgroupsPath = cgroupName;
      });
      const pidFile = `${fixture.base}/run.pid`;
      const result = await fixture.run(["run", "--bundle", bundle, "--pid-file", pidFile, "r1"]);
      assertEquals(result.stdout, "hi\n");
      assertEquals(result.stderr, "oops\n");
      assertEquals(result.code, 3);
      const pid = Number(await Deno.readTextFile(pidFile));
      const record = {
        id: "r1",
        initPid: pid,
        cgroup: { paths: await cgroupPathsFor(cgroupName) },
      };
      assertEquals(leftovers(fixture.root, record, fixture.base), []);
      assertEquals((await fixture.run(["list", "--quiet"])).stdout, "");
    } finally {
      await fixture.cleanup();
    }
  },
);

/** Where a container with this absolute cgroupsPath lives on this host (v1 or v2). */
async function cgroupPathsFor(cgroupsPath: string): Promise<Record<string, string>> {
  const { cgroupManagerFor } = await import("../../lib/runtime/cgroups/mod.ts");
  return cgroupManagerFor("unused", cgroupsPath).location.paths;
}

Deno.test({ name: "create/start/state/kill/delete follow runc's lifecycle", ignore }, async () => {
  const fixture = await RuntimeFixture.create();
  try {
    const bundle = await fixture.bundle("b", (spec) => {
      spec.process!.args = [
        "sh",
        "-c",
        "trap 'echo got TERM; exit 7' TERM; echo started; while true; do sleep 0.05; done",
      ];
      spec.annotations = { "org.example.purpose": "lifecycle test" };
    });
    const { record, output, pidFile } = await createDetached(fixture, "c1", bundle);
    const created = await stateOf(fixture, "c1");
    assertEquals(created.status, "created");
    assertEquals(created.id, "c1");
    assertEquals(created.bundle, await Deno.realPath(bundle));
    assertEquals(created.pid, Number(await Deno.readTextFile(pidFile)));
    assertEquals(created.annotations, { "org.example.purpose": "lifecycle test" });
    assertEquals(created.ociVersion, "1.0.2-dev");
    // Nothing runs yet: the init waits on the exec FIFO.
    assertEquals(await Deno.readTextFile(output), "");

    const second = await fixture.run(["start", "c1"]);
    assertEquals(second.code, 0, second.stderr);
    assert(await eventually(async () => (await Deno.readTextFile(output)).includes("started")));
    assertEquals((await stateOf(fixture, "c1")).status, "running");
    const again = await fixture.run(["start", "c1"]);
    assertEquals(again.code, 1);
    assertStringIncludes(again.stderr, "cannot start an already running container");

    const refused = await fixture.run(["delete", "c1"]);
    assertEquals(refused.code, 1);
    assertStringIncludes(refused.stderr, "cannot delete container c1 that is not stopped: running");

    assertEquals((await fixture.run(["kill", "c1", "TERM"])).code, 0);
    assert(await eventually(async () => (await stateOf(fixture, "c1")).status === "stopped"));
    assertStringIncludes(await Deno.readTextFile(output), "got TERM");
    const stopped = await fixture.run(["kill", "c1", "KILL"]);
    assertEquals(stopped.code, 1);
    assertStringIncludes(stopped.stderr, "container not running");

    assertEquals((await fixture.run(["delete", "c1"])).code, 0);
    assertEquals(leftovers(fixture.root, record, fixture.base), []);
    const gone = await fixture.run(["state", "c1"]);
    assertEquals(gone.code, 1);
    assertStringIncludes(gone.stderr, "container c1 does not exist");
    assertEquals((await fixture.run(["delete", "--force", "c1"])).code, 0);
  } finally {
    await fixture.cleanup();
  }
});

Deno.test({ name: "delete of a created container kills its waiting init", ignore }, async () => {
  const fixture = await RuntimeFixture.create();
  try {
    const bundle = await fixture.bundle("b", (spec) => spec.process!.args = ["echo", "never"]);
    const { record, output } = await createDetached(fixture, "c2", bundle);
    assert(processAlive(record.initPid));
    assertEquals((await fixture.run(["delete", "c2"])).code, 0);
    assertEquals(leftovers(fixture.root, record, fixture.base), []);
    assertEquals(await Deno.readTextFile(output), "");
  } finally {
    await fixture.cleanup();
  }
});

Deno.test({ name: "exit codes and signals propagate as 128+n", ignore }, async () => {
  const fixture = await RuntimeFixture.create();
  try {
    // Without a PID namespace the command is not a namespace init, so SIGTERM's default
    // action (terminate) applies, as for any process.
    const hostPid = await fixture.bundle("term", (spec) => {
      spec.process!.args = ["sleep", "1000"];
      spec.linux!.namespaces = spec.linux!.namespaces!.filter((ns) => ns.type !== "pid");
    });
    // PID 1 of a namespace ignores signals it has no handler for, except SIGKILL.
    const ownPid = await fixture.bundle("kill", (spec) => spec.process!.args = ["sleep", "1000"]);
    for (
      const [id, bundle, signal, expected] of [
        ["t-term", hostPid, "TERM", 143],
        ["t-kill", ownPid, "KILL", 137],
      ] as const
    ) {
      const running = fixture.run(["run", "--bundle", bundle, id]);
      assert(
        await eventually(async () => {
          const state = await fixture.run(["state", id]);
          return state.code === 0 && JSON.parse(state.stdout).status === "running";
        }),
      );
      const record = await fixture.record(id);
      assertEquals((await fixture.run(["kill", id, signal])).code, 0);
      const result = await running;
      assertEquals(result.code, expected, `${id}: ${result.stderr}`);
      assertEquals(leftovers(fixture.root, record, fixture.base), []);
    }
  } finally {
    await fixture.cleanup();
  }
});

Deno.test(
  { name: "exec joins the running container's namespaces and cgroup", ignore },
  async () => {
    const fixture = await RuntimeFixture.create();
    try {
      const bundle = await fixture.bundle("b", (spec) => {
        spec.process!.args = ["sleep", "1000"];
        spec.hostname = "exec-target";
      });
      const { record } = await createDetached(fixture, "e1", bundle);
      assertEquals((await fixture.run(["start", "e1"])).code, 0);

      const exec = await fixture.run([
        "exec",
        "e1",
        "sh",
        "-c",
        "hostname; ps -o pid,comm | grep -c sleep; cat /proc/self/cgroup | grep pids; exit 4",
      ]);
      assertEquals(exec.code, 4, exec.stderr);
      const [hostname, sleeps, pidsLine] = exec.stdout.trim().split("\n");
      assertEquals(hostname, "exec-target");
      assertEquals(sleeps, "1"); // the container's PID 1 is visible: same PID namespace
      assertStringIncludes(
        record.cgroup.paths.pids ?? record.cgroup.paths.unified,
        pidsLine.split(":")[2],
      );

      // --process FILE --detach --pid-file, as containerd's shim invokes it.
      const processFile = `${fixture.base}/process.json`;
      const marker = "/dev/shm/exec-ran";
      await Deno.writeTextFile(
        processFile,
        JSON.stringify({
          user: { uid: 0, gid: 0 },
          args: ["sh", "-c", `echo detached > ${marker}; sleep 1000`],
          env: ["PATH=/bin"],
          cwd: "/",
        }),
      );
      const pidFile = `${fixture.base}/exec.pid`;
      const detached = await fixture.run(
        ["exec", "--process", processFile, "--detach", "--pid-file", pidFile, "e1"],
        { outputFile: `${fixture.base}/exec.out` },
      );
      assertEquals(detached.code, 0, await Deno.readTextFile(`${fixture.base}/exec.out`));
      const execPid = Number(await Deno.readTextFile(pidFile));
      assert(processAlive(execPid));
      const pids = await fixture.run(["ps", "--format", "json", "e1"]);
      assertEquals(new Set(JSON.parse(pids.stdout)), new Set([record.initPid, execPid]));
      assert(
        await eventually(async () => {
          const cat = await fixture.run(["exec", "e1", "cat", marker]);
          return cat.stdout === "detached\n";
        }),
      );

      const table = await fixture.run(["ps", "e1"]);
      assertMatch(table.stdout, /^UID\s+PID/);
      assertEquals(table.stdout.trim().split("\n").length, 3); // header, init, exec

      const missing = await fixture.run(["exec", "e1", "no-such-program"]);
      assertEquals(missing.code, 1);
      assertStringIncludes(missing.stderr, `exec: "no-such-program": executable file not found`);

      assertEquals((await fixture.run(["delete", "--force", "e1"])).code, 0);
      assertEquals(leftovers(fixture.root, record, fixture.base), []);
      assert(!processAlive(execPid));
    } finally {
      await fixture.cleanup();
    }
  },
);

Deno.test({ name: "list shows containers with their status", ignore }, async () => {
  const fixture = await RuntimeFixture.create();
  try {
    const bundle = await fixture.bundle("b", (spec) => spec.process!.args = ["sleep", "1000"]);
    const first = await createDetached(fixture, "l1", bundle);
    const second = await createDetached(fixture, "l2", bundle);
    assertEquals((await fixture.run(["start", "l2"])).code, 0);
    const table = await fixture.run(["list"]);
    assertMatch(table.stdout, /^ID\s+PID\s+STATUS\s+BUNDLE\s+CREATED\s+OWNER\n/);
    assertMatch(table.stdout, /\nl1\s+\d+\s+created\s/);
    assertMatch(table.stdout, /\nl2\s+\d+\s+running\s/);
    const json = JSON.parse((await fixture.run(["list", "--format", "json"])).stdout) as OciState[];
    assertEquals(json.map((state) => [state.id, state.status]), [["l1", "created"], [
      "l2",
      "running",
    ]]);
    for (const id of ["l1", "l2"]) assertEquals((await fixture.run(["delete", "-f", id])).code, 0);
    assertEquals(leftovers(fixture.root, first.record, fixture.base), []);
    assertEquals(leftovers(fixture.root, second.record, fixture.base), []);
  } finally {
    await fixture.cleanup();
  }
});
