// What this teaches: an OOM kill looks like any SIGKILL from the outside (exit status
// 137); only the container's memory cgroup knows the kernel's OOM killer did it. The
// shim finds the init's memory cgroup in /proc/<pid>/cgroup and, when a process exits,
// reads the kill counter: `oom_kill N` in `memory.oom_control` (cgroup v1) or in
// `memory.events` (cgroup v2). Mirrors containerd's OOM watchers
// (`pkg/oom/v1/v1.go` with an eventfd, `pkg/oom/v2/v2.go` with inotify), reduced to a
// check at exit time.

import { readMountInfo } from "../linux/mountinfo.ts";

/** The file and the counter to read for a memory cgroup directory. */
export interface MemoryCgroup {
  version: 1 | 2;
  directory: string;
}

/** Finds the memory cgroup directory of a running process, or undefined. */
export function memoryCgroupOf(pid: number): MemoryCgroup | undefined {
  let membership: string;
  try {
    membership = Deno.readTextFileSync(`/proc/${pid}/cgroup`);
  } catch {
    return undefined;
  }
  const mounts = readMountInfo();
  for (const line of membership.split("\n")) {
    // hierarchy-ID:controller-list:cgroup-path
    const first = line.indexOf(":");
    const second = line.indexOf(":", first + 1);
    if (first < 0 || second < 0) continue;
    const hierarchy = line.slice(0, first);
    const controllers = line.slice(first + 1, second);
    const path = line.slice(second + 1);
    if (controllers.split(",").includes("memory")) {
      const mount = mounts.find((entry) =>
        entry.fstype === "cgroup" && entry.superOptions.split(",").includes("memory")
      );
      if (mount) return { version: 1, directory: joinCgroup(mount.mountPoint, mount.root, path) };
    } else if (hierarchy === "0" && controllers === "" && hostHasNoV1Memory(mounts)) {
      const mount = mounts.find((entry) => entry.fstype === "cgroup2");
      if (mount) return { version: 2, directory: joinCgroup(mount.mountPoint, mount.root, path) };
    }
  }
  return undefined;
}

function hostHasNoV1Memory(mounts: ReturnType<typeof readMountInfo>): boolean {
  return !mounts.some((entry) =>
    entry.fstype === "cgroup" && entry.superOptions.split(",").includes("memory")
  );
}

/** The cgroup's directory: its path in the hierarchy, below where the hierarchy is mounted. */
function joinCgroup(mountPoint: string, mountRoot: string, path: string): string {
  const relative = mountRoot !== "/" && path.startsWith(mountRoot)
    ? path.slice(mountRoot.length)
    : path;
  return `${mountPoint}${relative.startsWith("/") ? "" : "/"}${relative}`.replace(/\/$/, "");
}

/** How many processes of the cgroup the OOM killer has killed (0 when unknown). */
export function oomKillCount(cgroup: MemoryCgroup | undefined): number {
  if (!cgroup) return 0;
  const file = cgroup.version === 1
    ? `${cgroup.directory}/memory.oom_control`
    : `${cgroup.directory}/memory.events`;
  try {
    const match = /^oom_kill (\d+)$/m.exec(Deno.readTextFileSync(file));
    return match ? Number(match[1]) : 0;
  } catch {
    return 0;
  }
}
