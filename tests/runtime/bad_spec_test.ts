// Bad input gives a clear error and leaves nothing behind: no state directory, no cgroup,
// no process (found by a marker in the environment the init inherits), no mount.

import { assert, assertEquals, assertStringIncludes } from "../helpers/assert.ts";
import { cgroupManagerFor } from "../../lib/runtime/cgroups/mod.ts";
import type { Spec } from "../../lib/runtime/types.ts";
import { needsContainers, RuntimeFixture } from "./support.ts";

const ignore = needsContainers("mini-runc bad specs");

/** PIDs of processes whose environment holds `marker` (our inits inherit it). */
function processesWithMarker(marker: string): number[] {
  const found: number[] = [];
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      if (Deno.readTextFileSync(`/proc/${entry.name}/environ`).includes(marker)) {
        found.push(Number(entry.name));
      }
    } catch {
      // exited meanwhile
    }
  }
  return found;
}

interface BadCase {
  name: string;
  edit: (spec: Spec, base: string) => void;
  /** Replaces config.json with this text instead of editing the spec. */
  rawConfig?: string;
  message: string;
}

const cases: BadCase[] = [
  {
    name: "missing rootfs",
    edit: (spec, base) => spec.root!.path = `${base}/no-such-rootfs`,
    message: "no-such-rootfs) does not exist",
  },
  {
    name: "unknown namespace type",
    edit: (spec) => spec.linux!.namespaces!.push({ type: "galaxy" }),
    message: 'unknown namespace type "galaxy"',
  },
  {
    name: "user namespace",
    edit: (spec) => spec.linux!.namespaces!.push({ type: "user" }),
    message: "user namespaces are not supported",
  },
  {
    name: "config.json is not JSON",
    edit: () => {},
    rawConfig: "{ not json",
    message: "is not valid JSON",
  },
  {
    name: "negative pids limit",
    edit: (spec) => spec.linux!.resources = { pids: { limit: -5 } },
    message: "linux.resources.pids.limit must be -1 (no limit) or a count, not -5",
  },
  {
    name: "cpu quota below the kernel's minimum",
    edit: (spec) => spec.linux!.resources = { cpu: { quota: 10, period: 100000 } },
    message: "linux.resources.cpu.quota must be -1 (no limit) or at least 1000",
  },
  {
    name: "memory+swap below memory",
    edit: (spec) => spec.linux!.resources = { memory: { limit: 1 << 26, swap: 1 << 25 } },
    message: "it must not be smaller than memory.limit",
  },
  {
    // Passes validation; the kernel refuses it when the runtime writes it, after the init
    // has been spawned: the failure path must kill it and remove the cgroup.
    name: "a CPU set the kernel refuses",
    edit: (spec) => spec.linux!.resources = { cpu: { cpus: "4096" } },
    message: 'cannot set cpuset.cpus to "4096"',
  },
  {
    name: "a program that does not exist in the image",
    edit: (spec) => spec.process!.args = ["no-such-program"],
    message: 'exec: "no-such-program": executable file not found in $PATH',
  },
  {
    name: "a bind mount whose source is missing",
    edit: (spec, base) =>
      spec.mounts!.push({ destination: "/data", type: "bind", source: `${base}/nope` }),
    message: "bind source",
  },
  {
    name: "a hostname without a UTS namespace",
    edit: (spec) => {
      spec.linux!.namespaces = spec.linux!.namespaces!.filter((ns) => ns.type !== "uts");
    },
    message: "unable to set hostname without a private UTS namespace",
  },
];

for (const badCase of cases) {
  Deno.test({ name: `bad spec: ${badCase.name}`, ignore }, async () => {
    const fixture = await RuntimeFixture.create();
    try {
      const cgroupsPath = `/mini-runc-test-bad-${crypto.randomUUID()}`;
      const bundle = await fixture.bundle("b", (spec) => {
        spec.linux!.cgroupsPath = cgroupsPath;
        badCase.edit(spec, fixture.base);
      });
      if (badCase.rawConfig) await Deno.writeTextFile(`${bundle}/config.json`, badCase.rawConfig);
      const marker = `MINI_RUNC_TEST_MARKER=${crypto.randomUUID()}`;
      const [key, value] = marker.split("=");
      const log = `${fixture.base}/log.json`;
      const result = await fixture.run(["create", "--bundle", bundle, "bad"], {
        env: { [key]: value },
        globals: ["--log", log, "--log-format", "json"],
      });
      assertEquals(result.code, 1);
      assertStringIncludes(result.stderr, badCase.message);
      // containerd's shim reads the error from the JSON log.
      const lastLine = (await Deno.readTextFile(log)).trim().split("\n").pop()!;
      const entry = JSON.parse(lastLine);
      assertEquals(entry.level, "error");
      assertStringIncludes(entry.msg, badCase.message);

      assertEquals((await fixture.run(["list", "--quiet"])).stdout, "");
      assert(!(await exists(`${fixture.root}/bad`)), "state directory left behind");
      for (const directory of Object.values(cgroupManagerFor("bad", cgroupsPath).location.paths)) {
        assert(!(await exists(directory)), `cgroup ${directory} left behind`);
      }
      assertEquals(processesWithMarker(marker), []);
    } finally {
      await fixture.cleanup();
    }
  });
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch {
    return false;
  }
}

Deno.test(
  { name: "an ID in use is refused and the first container is untouched", ignore },
  async () => {
    const fixture = await RuntimeFixture.create();
    try {
      const bundle = await fixture.bundle("b", (spec) => spec.process!.args = ["sleep", "100"]);
      const output = `${fixture.base}/out`;
      assertEquals(
        (await fixture.run(["create", "--bundle", bundle, "same"], { outputFile: output })).code,
        0,
      );
      const second = await fixture.run(["create", "--bundle", bundle, "same"]);
      assertEquals(second.code, 1);
      assertStringIncludes(second.stderr, "container with id same already exists");
      assertEquals(JSON.parse((await fixture.run(["state", "same"])).stdout).status, "created");
      const invalid = await fixture.run(["create", "--bundle", bundle, "../escape"]);
      assertStringIncludes(invalid.stderr, 'invalid container id "../escape"');
      assertEquals((await fixture.run(["delete", "same"])).code, 0);
    } finally {
      await fixture.cleanup();
    }
  },
);
