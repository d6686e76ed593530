// What this teaches: where a container's cgroup goes. The runtime finds which cgroup
// version the host runs (cgroup2 mounted at /sys/fs/cgroup means v2), where each v1
// controller is mounted, and turns the spec's cgroupsPath into directories: an absolute
// path starts at the hierarchy's root, a relative one below the runtime's own cgroup.
// Mirrors runc's libcontainer/cgroups/utils.go (IsCgroup2UnifiedMode, mount lookup) and
// cgroups/fs/paths.go + fs2/defaultpath.go (innerPath, subsysPath, _defaultDirPath).

import { readMountInfo } from "../../linux/mountinfo.ts";

/** The cgroup v2 mount point, where unified-mode hosts mount the single hierarchy. */
export const unifiedMountPoint = "/sys/fs/cgroup";

/** True on a cgroup v2 (unified) host, decided at run time as runc does. */
export function isCgroup2UnifiedMode(): boolean {
  try {
    Deno.statSync(`${unifiedMountPoint}/cgroup.controllers`);
    return true;
  } catch {
    return false;
  }
}

/** A v1 hierarchy: its mount point and the controllers (or name=...) it carries. */
export interface V1Hierarchy {
  mountPoint: string;
  controllers: string[];
}

/** Every cgroup v1 hierarchy mounted on the host. */
export function v1Hierarchies(): V1Hierarchy[] {
  return readMountInfo().filter((mount) => mount.fstype === "cgroup").map((mount) => ({
    mountPoint: mount.mountPoint,
    controllers: mount.superOptions.split(",").filter((option) =>
      option !== "rw" && option !== "ro" && option !== "xattr" && option !== "clone_children"
    ),
  }));
}

/** This process's cgroup per hierarchy, from /proc/self/cgroup ("" key = v2). */
export function ownCgroups(): Map<string, string> {
  const result = new Map<string, string>();
  for (const line of Deno.readTextFileSync("/proc/self/cgroup").split("\n")) {
    const match = /^\d+:([^:]*):(.*)$/.exec(line);
    if (!match) continue;
    for (const controller of match[1].split(",")) result.set(controller, match[2]);
  }
  return result;
}

function cleanPath(path: string): string {
  const parts: string[] = [];
  for (const part of path.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") parts.pop();
    else parts.push(part);
  }
  return (path.startsWith("/") ? "/" : "") + parts.join("/");
}

/** The spec's cgroupsPath (or the container ID when empty), cleaned as runc does. */
export function innerPath(cgroupsPath: string | undefined, id: string): string {
  const path = cleanPath(cgroupsPath ?? "");
  return path === "" || path === "/" ? id : path;
}

/** v1: the directory for one controller of a hierarchy. */
export function v1Path(hierarchy: V1Hierarchy, controller: string, inner: string): string {
  if (inner.startsWith("/")) return cleanPath(`${hierarchy.mountPoint}/${inner}`);
  const own = ownCgroups().get(controller) ?? "/";
  return cleanPath(`${hierarchy.mountPoint}/${own}/${inner}`);
}

/**
 * v2: the container's directory. A relative path goes below the *parent* of our own
 * cgroup: our own usually has processes, and v2 forbids enabling controllers for the
 * children of a cgroup that has processes.
 */
export function v2Path(inner: string): string {
  if (inner.startsWith("/")) return cleanPath(`${unifiedMountPoint}/${inner}`);
  const own = ownCgroups().get("") ?? "/";
  const parent = own.slice(0, own.lastIndexOf("/")) || "/";
  return cleanPath(`${unifiedMountPoint}/${parent}/${inner}`);
}
