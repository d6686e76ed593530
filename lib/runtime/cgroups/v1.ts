// What this teaches: cgroup v1, where each controller (memory, cpu, pids, ...) is its own
// hierarchy with its own directory for the container. Limits are plain writes to files
// like memory.limit_in_bytes; a new cpuset group starts empty and must copy its parent's
// CPUs and memory nodes before any process may join; the devices controller starts from
// "deny everything" and allows the devices a container needs.
// Mirrors runc's libcontainer/cgroups/fs (fs.go, memory.go, cpu.go, cpuset.go, pids.go,
// devices.go, freezer.go).

import type { CgroupLocation, LinuxDeviceCgroup, LinuxResources } from "../types.ts";
import {
  collectPids,
  hasCgroupFile,
  makeCgroupDirectories,
  readCgroupFile,
  removeCgroupDirectories,
  writeCgroupFile,
} from "./files.ts";
import { v1Hierarchies, v1Path } from "./paths.ts";
import type { CgroupManager } from "./types.ts";

/** The v1 controllers a container joins (runc's subsystem list, minus the exotic ones). */
const joinedControllers = [
  "cpu",
  "cpuacct",
  "cpuset",
  "memory",
  "pids",
  "blkio",
  "devices",
  "freezer",
  "net_cls",
  "net_prio",
  "perf_event",
  "hugetlb",
  "name=systemd",
];

/** Device rules every container gets on top of the spec's (runc's AllowedDevices). */
const defaultDeviceRules: LinuxDeviceCgroup[] = [
  { allow: true, type: "c", major: null, minor: null, access: "m" },
  { allow: true, type: "b", major: null, minor: null, access: "m" },
  { allow: true, type: "c", major: 1, minor: 3, access: "rwm" }, // null
  { allow: true, type: "c", major: 1, minor: 8, access: "rwm" }, // random
  { allow: true, type: "c", major: 1, minor: 7, access: "rwm" }, // full
  { allow: true, type: "c", major: 5, minor: 0, access: "rwm" }, // tty
  { allow: true, type: "c", major: 1, minor: 5, access: "rwm" }, // zero
  { allow: true, type: "c", major: 1, minor: 9, access: "rwm" }, // urandom
  { allow: true, type: "c", major: 136, minor: null, access: "rwm" }, // pts
  { allow: true, type: "c", major: 5, minor: 2, access: "rwm" }, // ptmx
  { allow: true, type: "c", major: 10, minor: 200, access: "rwm" }, // tun
];

/** A device rule in the devices.allow / devices.deny syntax ("c 1:3 rwm"). */
export function deviceRuleText(rule: LinuxDeviceCgroup): string {
  const type = rule.type ?? "a";
  if (type === "a") return "a";
  const number = (value: number | null | undefined) =>
    value === null || value === undefined || value < 0 ? "*" : String(value);
  return `${type} ${number(rule.major)}:${number(rule.minor)} ${rule.access || "rwm"}`;
}

/** Sleeps without yielding to the event loop (the init paths are synchronous). */
function sleepSync(milliseconds: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, milliseconds);
}

/** A container's cgroup on a v1 host: one directory per controller. */
export class CgroupV1 implements CgroupManager {
  constructor(readonly location: CgroupLocation) {}

  /** Locates the container's directories for `cgroupsPath` (not created yet). */
  static locate(inner: string): CgroupV1 {
    const paths: Record<string, string> = {};
    for (const hierarchy of v1Hierarchies()) {
      for (const controller of hierarchy.controllers) {
        if (!joinedControllers.includes(controller)) continue;
        paths[controller.replace("name=", "")] = v1Path(hierarchy, controller, inner);
      }
    }
    return new CgroupV1({ version: 1, paths, created: [] });
  }

  #distinctPaths(): string[] {
    return [...new Set(Object.values(this.location.paths))];
  }

  #mountRootOf(path: string): string {
    const hierarchy = v1Hierarchies().find((h) => path.startsWith(`${h.mountPoint}/`));
    return hierarchy?.mountPoint ?? path;
  }

  create(): void {
    for (const path of this.#distinctPaths()) {
      const created = makeCgroupDirectories(this.#mountRootOf(path), path);
      this.location.created.push(...created);
      if (path === this.location.paths.cpuset) {
        for (const directory of created) this.#inheritCpuset(directory);
      }
    }
  }

  // A new cpuset group has no CPUs and no memory nodes: nothing could run in it.
  #inheritCpuset(directory: string): void {
    const parent = directory.slice(0, directory.lastIndexOf("/"));
    for (const file of ["cpuset.cpus", "cpuset.mems"]) {
      if (readCgroupFile(directory, file) === "") {
        writeCgroupFile(directory, file, readCgroupFile(parent, file));
      }
    }
  }

  apply(pid: number): void {
    for (const path of this.#distinctPaths()) writeCgroupFile(path, "cgroup.procs", pid);
  }

  set(resources: LinuxResources): void {
    const { paths } = this.location;
    const memory = resources.memory;
    if (memory && paths.memory) {
      this.#setMemoryLimits(paths.memory, memory.limit, memory.swap);
      if (memory.reservation !== undefined) {
        writeCgroupFile(paths.memory, "memory.soft_limit_in_bytes", memory.reservation);
      }
      if (memory.swappiness !== undefined && memory.swappiness !== null) {
        writeCgroupFile(paths.memory, "memory.swappiness", memory.swappiness);
      }
      if (memory.disableOOMKiller) writeCgroupFile(paths.memory, "memory.oom_control", 1);
    }
    const cpu = resources.cpu;
    if (cpu && paths.cpu) {
      if (cpu.shares !== undefined) writeCgroupFile(paths.cpu, "cpu.shares", cpu.shares);
      if (cpu.period !== undefined) writeCgroupFile(paths.cpu, "cpu.cfs_period_us", cpu.period);
      if (cpu.quota !== undefined) writeCgroupFile(paths.cpu, "cpu.cfs_quota_us", cpu.quota);
      if (cpu.realtimePeriod !== undefined) {
        writeCgroupFile(paths.cpu, "cpu.rt_period_us", cpu.realtimePeriod);
      }
      if (cpu.realtimeRuntime !== undefined) {
        writeCgroupFile(paths.cpu, "cpu.rt_runtime_us", cpu.realtimeRuntime);
      }
    }
    if (cpu && paths.cpuset) {
      if (cpu.cpus) writeCgroupFile(paths.cpuset, "cpuset.cpus", cpu.cpus);
      if (cpu.mems) writeCgroupFile(paths.cpuset, "cpuset.mems", cpu.mems);
    }
    if (resources.pids && paths.pids && resources.pids.limit !== 0) {
      const limit = resources.pids.limit > 0 ? String(resources.pids.limit) : "max";
      writeCgroupFile(paths.pids, "pids.max", limit);
    }
    if (resources.unified && Object.keys(resources.unified).length > 0) {
      throw new Error("linux.resources.unified needs a cgroup v2 host; this host runs cgroup v1");
    }
    // Device rules are written only when given (create always gives them; update not).
    if (paths.devices && resources.devices !== undefined) this.#setDevices(resources.devices);
  }

  // memory.memsw.limit_in_bytes (memory+swap) may never be below memory.limit_in_bytes,
  // so when limits grow, memsw goes first; when they shrink, the memory limit does.
  #setMemoryLimits(directory: string, limit?: number, swap?: number): void {
    const hasMemsw = hasCgroupFile(directory, "memory.memsw.limit_in_bytes");
    if (swap !== undefined && !hasMemsw && swap !== -1 && swap !== limit) {
      throw new Error(
        "memory.swap is set but this kernel has no swap accounting " +
          "(memory.memsw.limit_in_bytes is missing): remove linux.resources.memory.swap",
      );
    }
    const writeLimit = () => {
      if (limit !== undefined) writeCgroupFile(directory, "memory.limit_in_bytes", limit);
    };
    const writeSwap = () => {
      if (swap !== undefined && hasMemsw) {
        writeCgroupFile(directory, "memory.memsw.limit_in_bytes", swap);
      }
    };
    const currentSwap = hasMemsw
      ? Number(readCgroupFile(directory, "memory.memsw.limit_in_bytes"))
      : 0;
    if (swap !== undefined && (swap === -1 || swap > currentSwap)) {
      writeSwap();
      writeLimit();
    } else {
      writeLimit();
      writeSwap();
    }
  }

  #setDevices(rules: readonly LinuxDeviceCgroup[]): void {
    const directory = this.location.paths.devices;
    const all = [...rules, ...defaultDeviceRules];
    const allowsEverything = rules.some((rule) =>
      rule.allow && (rule.type ?? "a") === "a" && (rule.access ?? "rwm") === "rwm"
    );
    if (allowsEverything) {
      writeCgroupFile(directory, "devices.allow", "a");
      return;
    }
    writeCgroupFile(directory, "devices.deny", "a");
    for (const rule of all) {
      if (rule.allow && (rule.type ?? "a") === "a") continue; // partial "a" rules: skip
      writeCgroupFile(
        directory,
        rule.allow ? "devices.allow" : "devices.deny",
        deviceRuleText(rule),
      );
    }
  }

  pids(): number[] {
    const { paths } = this.location;
    const directory = paths.pids ?? paths.memory ?? paths.freezer ?? this.#distinctPaths()[0];
    return directory ? collectPids(directory) : [];
  }

  freeze(frozen: boolean): void {
    const directory = this.location.paths.freezer;
    if (!directory) throw new Error("the freezer controller is not mounted on this host");
    const wanted = frozen ? "FROZEN" : "THAWED";
    for (let attempt = 0; attempt < 1000; attempt++) {
      writeCgroupFile(directory, "freezer.state", wanted);
      if (readCgroupFile(directory, "freezer.state") === wanted) return;
      sleepSync(1);
    }
    throw new Error(`the freezer did not reach ${wanted} for ${directory}`);
  }

  isFrozen(): boolean {
    const directory = this.location.paths.freezer;
    if (!directory) return false;
    try {
      return readCgroupFile(directory, "freezer.state") === "FROZEN";
    } catch {
      return false;
    }
  }

  destroy(): void {
    // One chain of created directories per hierarchy, each ending at the container's own.
    for (const path of this.#distinctPaths()) {
      const chain = this.location.created.filter((directory) =>
        path === directory || path.startsWith(`${directory}/`)
      );
      removeCgroupDirectories(chain);
    }
  }
}
