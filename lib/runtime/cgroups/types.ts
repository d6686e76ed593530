// What this teaches: what a runtime does with cgroups, independent of the version: make
// the container's group, put a process in it, write its limits, list its processes,
// freeze it, remove it. cgroup v1 spreads that over one directory per controller, v2
// keeps one directory. Mirrors runc's libcontainer/cgroups.Manager interface.

import type { CgroupLocation, LinuxResources } from "../types.ts";

/** One container's cgroup, in either version. */
export interface CgroupManager {
  readonly location: CgroupLocation;
  /** Creates the directories (recording which ones were new, for removal). */
  create(): void;
  /** Moves a whole process (all its threads) into the cgroup. */
  apply(pid: number): void;
  /** Writes the spec's limits; throws naming the file and value the kernel refused. */
  set(resources: LinuxResources): void;
  /** PIDs of every process in the cgroup and its descendants. */
  pids(): number[];
  /** Stops (true) or resumes (false) every process, waiting until the kernel agrees. */
  freeze(frozen: boolean): void;
  /** Whether the cgroup is frozen (for `state` reporting "paused"). */
  isFrozen(): boolean;
  /** Removes the directories mini-runc created; they must be empty of processes. */
  destroy(): void;
}
