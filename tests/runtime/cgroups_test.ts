// Resource limits through cgroups (v1 or v2, whichever the host runs): the spec's values
// land in the kernel's files, a memory limit OOM-kills (137), a pids limit stops a
// fork loop, and delete removes the cgroup.

import { assert, assertEquals, assertStringIncludes } from "../helpers/assert.ts";
import { isCgroup2UnifiedMode } from "../../lib/runtime/cgroups/mod.ts";
import { eventually, leftovers, needsContainers, RuntimeFixture } from "./support.ts";

const ignore = needsContainers("mini-runc cgroups");

function read(directory: string, file: string): string {
  return Deno.readTextFileSync(`${directory}/${file}`).trim();
}

Deno.test({ name: "a memory limit OOM-kills the container (exit 137)", ignore }, async () => {
  const fixture = await RuntimeFixture.create();
  try {
    const limit = 32 * 1024 * 1024;
    const bundle = await fixture.bundle("oom", (spec) => {
      // tail keeps the last 10 lines; /dev/zero has no newline, so it grows without end.
      spec.process!.args = ["tail", "/dev/zero"];
      spec.linux!.resources = { memory: { limit, swap: limit } };
      spec.linux!.cgroupsPath = `/mini-runc-test-oom-${Deno.pid}`;
    });
    const pidFile = `${fixture.base}/oom.pid`;
    const result = await fixture.run(["run", "--pid-file", pidFile, "--bundle", bundle, "oom"]);
    assertEquals(result.code, 137, result.stderr);
    const { cgroupManagerFor } = await import("../../lib/runtime/cgroups/mod.ts");
    const paths = cgroupManagerFor("oom", `/mini-runc-test-oom-${Deno.pid}`).location.paths;
    const traces = {
      id: "oom",
      initPid: Number(await Deno.readTextFile(pidFile)),
      cgroup: { paths },
    };
    assertEquals(leftovers(fixture.root, traces, fixture.base), []);
  } finally {
    await fixture.cleanup();
  }
});

Deno.test({ name: "limits from the spec are written to the cgroup", ignore }, async () => {
  const fixture = await RuntimeFixture.create();
  try {
    const bundle = await fixture.bundle("limits", (spec) => {
      spec.process!.args = ["sleep", "1000"];
      spec.linux!.resources = {
        memory: { limit: 64 * 1024 * 1024, swap: 96 * 1024 * 1024 },
        cpu: { shares: 512, quota: 50000, period: 100000 },
        pids: { limit: 42 },
      };
      spec.linux!.cgroupsPath = `/mini-runc-test/limits-${Deno.pid}`;
    });
    const output = `${fixture.base}/limits.out`;
    const created = await fixture.run(["create", "--bundle", bundle, "limits"], {
      outputFile: output,
    });
    assertEquals(created.code, 0, await Deno.readTextFile(output));
    const record = await fixture.record("limits");
    const paths = record.cgroup.paths;
    if (isCgroup2UnifiedMode()) {
      assertEquals(read(paths.unified, "memory.max"), String(64 * 1024 * 1024));
      assertEquals(read(paths.unified, "memory.swap.max"), String(32 * 1024 * 1024));
      assertEquals(read(paths.unified, "cpu.max"), "50000 100000");
      assertEquals(read(paths.unified, "cpu.weight"), "20");
      assertEquals(read(paths.unified, "pids.max"), "42");
      assertStringIncludes(read(paths.unified, "cgroup.procs"), String(record.initPid));
    } else {
      assertEquals(read(paths.memory, "memory.limit_in_bytes"), String(64 * 1024 * 1024));
      assertEquals(read(paths.memory, "memory.memsw.limit_in_bytes"), String(96 * 1024 * 1024));
      assertEquals(read(paths.cpu, "cpu.shares"), "512");
      assertEquals(read(paths.cpu, "cpu.cfs_quota_us"), "50000");
      assertEquals(read(paths.cpu, "cpu.cfs_period_us"), "100000");
      assertEquals(read(paths.pids, "pids.max"), "42");
      for (const directory of new Set(Object.values(paths))) {
        assertEquals(read(directory, "cgroup.procs"), String(record.initPid), directory);
      }
    }
    assertEquals((await fixture.run(["delete", "--force", "limits"])).code, 0);
    assertEquals(leftovers(fixture.root, record, fixture.base), []);
  } finally {
    await fixture.cleanup();
  }
});

Deno.test({ name: "a pids limit stops a fork loop", ignore }, async () => {
  const fixture = await RuntimeFixture.create();
  try {
    const limit = 20;
    const bundle = await fixture.bundle("forks", (spec) => {
      // A subshell forks 100 sleepers; forks beyond the limit fail and end the subshell.
      spec.process!.args = [
        "sh",
        "-c",
        "(i=0; while [ $i -lt 100 ]; do sleep 1000 & i=$((i+1)); done) 2>/dev/null; " +
        'echo "forks stopped: $?"; exec sleep 1000',
      ];
      spec.linux!.resources = { pids: { limit } };
    });
    const output = `${fixture.base}/forks.out`;
    assertEquals(
      (await fixture.run(["run", "--detach", "--bundle", bundle, "forks"], { outputFile: output }))
        .code,
      0,
      await Deno.readTextFile(output),
    );
    const record = await fixture.record("forks");
    assert(
      await eventually(async () => (await Deno.readTextFile(output)).includes("forks stopped")),
    );
    assertStringIncludes(await Deno.readTextFile(output), "forks stopped: 2");
    const pids = JSON.parse((await fixture.run(["ps", "--format", "json", "forks"])).stdout);
    assert(pids.length > 1 && pids.length <= limit, `${pids.length} processes`);
    assertEquals((await fixture.run(["delete", "--force", "forks"])).code, 0);
    assertEquals(leftovers(fixture.root, record, fixture.base), []);
  } finally {
    await fixture.cleanup();
  }
});

Deno.test({ name: "pause freezes and resume thaws the container", ignore }, async () => {
  const fixture = await RuntimeFixture.create();
  try {
    const bundle = await fixture.bundle("p", (spec) => spec.process!.args = ["sleep", "1000"]);
    const output = `${fixture.base}/p.out`;
    await fixture.run(["run", "-d", "--bundle", bundle, "p"], { outputFile: output });
    const record = await fixture.record("p");
    assertEquals((await fixture.run(["pause", "p"])).code, 0);
    assertEquals(JSON.parse((await fixture.run(["state", "p"])).stdout).status, "paused");
    const refused = await fixture.run(["exec", "p", "true"]);
    assertStringIncludes(refused.stderr, "paused");
    assertEquals((await fixture.run(["resume", "p"])).code, 0);
    assertEquals(JSON.parse((await fixture.run(["state", "p"])).stdout).status, "running");
    assertEquals((await fixture.run(["delete", "-f", "p"])).code, 0);
    assertEquals(leftovers(fixture.root, record, fixture.base), []);
  } finally {
    await fixture.cleanup();
  }
});

Deno.test({ name: "update changes a running container's limits", ignore }, async () => {
  const fixture = await RuntimeFixture.create();
  try {
    const mib = 1024 * 1024;
    const bundle = await fixture.bundle("u", (spec) => {
      spec.process!.args = ["sleep", "1000"];
      spec.linux!.resources = { memory: { limit: 64 * mib, swap: 64 * mib }, pids: { limit: 10 } };
    });
    const output = `${fixture.base}/u.out`;
    await fixture.run(["run", "-d", "--bundle", bundle, "u"], { outputFile: output });
    const record = await fixture.record("u");
    // Growing both limits needs memsw written first on v1: the runtime must order it.
    const flags = await fixture.run([
      "update",
      "--memory",
      "128m",
      "--memory-swap",
      "256m",
      "--pids-limit",
      "50",
      "u",
    ]);
    assertEquals(flags.code, 0, flags.stderr);
    const viaStdin = await fixture.run(["update", "--resources", "-", "u"], {
      stdin: JSON.stringify({ cpu: { shares: 256 } }),
    });
    assertEquals(viaStdin.code, 0, viaStdin.stderr);
    const paths = record.cgroup.paths;
    if (isCgroup2UnifiedMode()) {
      assertEquals(read(paths.unified, "memory.max"), String(128 * mib));
      assertEquals(read(paths.unified, "memory.swap.max"), String(128 * mib));
      assertEquals(read(paths.unified, "pids.max"), "50");
    } else {
      assertEquals(read(paths.memory, "memory.limit_in_bytes"), String(128 * mib));
      assertEquals(read(paths.memory, "memory.memsw.limit_in_bytes"), String(256 * mib));
      assertEquals(read(paths.pids, "pids.max"), "50");
      assertEquals(read(paths.cpu, "cpu.shares"), "256");
    }
    const saved = await fixture.record("u");
    assertEquals(saved.spec.linux!.resources!.memory!.limit, 128 * mib);
    const refused = await fixture.run(["update", "--pids-limit", "-7", "u"]);
    assertEquals(refused.code, 1);
    assertStringIncludes(refused.stderr, "pids.limit");
    assertEquals((await fixture.run(["delete", "-f", "u"])).code, 0);
    assertEquals(leftovers(fixture.root, record, fixture.base), []);
  } finally {
    await fixture.cleanup();
  }
});
