// What this teaches: cgroup v2, one hierarchy where the container is one directory.
// Controllers must be switched on for children in every ancestor's cgroup.subtree_control;
// the files and units differ from v1 (memory.max, memory.swap.max counts swap alone,
// cpu.weight 1..10000 instead of cpu.shares 2..262144, cpu.max "quota period").
// Mirrors runc's libcontainer/cgroups/fs2 (fs2.go, create.go, memory.go, cpu.go, pids.go,
// freezer.go) and cgroups/utils.go (ConvertCPUSharesToCgroupV2Value,
// ConvertMemorySwapToCgroupV2Value).

import type { CgroupLocation, LinuxResources } from "../types.ts";
import {
  collectPids,
  makeCgroupDirectories,
  readCgroupFile,
  removeCgroupDirectories,
  writeCgroupFile,
} from "./files.ts";
import { unifiedMountPoint, v2Path } from "./paths.ts";
import type { CgroupManager } from "./types.ts";

/** cpu.shares (v1, 2..262144) → cpu.weight (v2, 1..10000), as runc converts it. */
export function sharesToWeight(shares: number): number {
  if (shares === 0) return 0;
  return 1 + Math.floor(((shares - 2) * 9999) / 262142);
}

/** OCI swap (memory+swap) → v2 memory.swap.max (swap alone); null when nothing to write. */
export function swapToV2(swap: number | undefined, limit: number | undefined): string | null {
  if (swap === undefined || swap === 0) return null;
  if (swap === -1) return "max";
  if (limit === undefined || limit === -1) {
    throw new Error("memory.swap needs memory.limit on cgroup v2 (swap.max = swap - limit)");
  }
  if (swap < limit) {
    throw new Error(`memory.swap (${swap}) must not be smaller than memory.limit (${limit})`);
  }
  return String(swap - limit);
}

function sleepSync(milliseconds: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, milliseconds);
}

/** A container's cgroup on a v2 host. */
export class CgroupV2 implements CgroupManager {
  /** `mountRoot`: where the cgroup2 hierarchy is mounted (tests mount a second view). */
  constructor(
    readonly location: CgroupLocation,
    private readonly mountRoot: string = unifiedMountPoint,
  ) {}

  /** Locates the container's directory for `cgroupsPath` (not created yet). */
  static locate(inner: string): CgroupV2 {
    return new CgroupV2({ version: 2, paths: { unified: v2Path(inner) }, created: [] });
  }

  get #path(): string {
    return this.location.paths.unified;
  }

  create(): void {
    const created = makeCgroupDirectories(this.mountRoot, this.#path);
    this.location.created.push(...created);
    // Every ancestor must delegate the controllers to its children.
    const parts = this.#path.slice(this.mountRoot.length).split("/").filter((p) => p !== "");
    let current = this.mountRoot;
    for (const part of parts) {
      const available = readCgroupFile(current, "cgroup.controllers").split(" ")
        .filter((name) => ["cpu", "cpuset", "memory", "pids", "io"].includes(name));
      for (const name of available) {
        try {
          writeCgroupFile(current, "cgroup.subtree_control", `+${name}`);
        } catch {
          // Not delegable here (e.g. cpu with realtime tasks): its limit files will be
          // missing, and setting a limit for it fails with a message naming the file.
        }
      }
      current = `${current}/${part}`;
    }
  }

  apply(pid: number): void {
    writeCgroupFile(this.#path, "cgroup.procs", pid);
  }

  set(resources: LinuxResources): void {
    const path = this.#path;
    const memory = resources.memory;
    if (memory) {
      if (memory.limit !== undefined) {
        writeCgroupFile(path, "memory.max", memory.limit === -1 ? "max" : memory.limit);
      }
      const swap = swapToV2(memory.swap, memory.limit);
      if (swap !== null) writeCgroupFile(path, "memory.swap.max", swap);
      if (memory.reservation !== undefined) {
        writeCgroupFile(path, "memory.low", memory.reservation === -1 ? "max" : memory.reservation);
      }
      if (memory.swappiness !== undefined && memory.swappiness !== null) {
        throw new Error("memory.swappiness does not exist on cgroup v2: remove it from the spec");
      }
    }
    const cpu = resources.cpu;
    if (cpu) {
      if (cpu.shares) writeCgroupFile(path, "cpu.weight", sharesToWeight(cpu.shares));
      if (cpu.quota !== undefined || cpu.period !== undefined) {
        const quota = cpu.quota !== undefined && cpu.quota > 0 ? String(cpu.quota) : "max";
        writeCgroupFile(path, "cpu.max", `${quota} ${cpu.period ?? 100000}`);
      }
      if (cpu.cpus) writeCgroupFile(path, "cpuset.cpus", cpu.cpus);
      if (cpu.mems) writeCgroupFile(path, "cpuset.mems", cpu.mems);
    }
    if (resources.pids && resources.pids.limit !== 0) {
      const limit = resources.pids.limit > 0 ? String(resources.pids.limit) : "max";
      writeCgroupFile(path, "pids.max", limit);
    }
    for (const [file, value] of Object.entries(resources.unified ?? {})) {
      if (file.includes("/")) {
        throw new Error(`linux.resources.unified key "${file}" is not a file`);
      }
      writeCgroupFile(path, file, value);
    }
    // Device rules on v2 need an eBPF program (BPF_CGROUP_DEVICE); mini-runc does not
    // load one: the container's /dev (only the default nodes) is the remaining guard.
  }

  pids(): number[] {
    return collectPids(this.#path);
  }

  freeze(frozen: boolean): void {
    writeCgroupFile(this.#path, "cgroup.freeze", frozen ? 1 : 0);
    for (let attempt = 0; attempt < 1000; attempt++) {
      if (this.isFrozen() === frozen) return;
      sleepSync(1);
    }
    throw new Error(`the cgroup ${this.#path} did not become ${frozen ? "frozen" : "thawed"}`);
  }

  isFrozen(): boolean {
    try {
      return /^frozen 1$/m.test(readCgroupFile(this.#path, "cgroup.events"));
    } catch {
      return false;
    }
  }

  destroy(): void {
    removeCgroupDirectories(this.location.created);
  }
}
