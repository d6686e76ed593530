// What this teaches: one entry point to a container's cgroup that hides the version:
// detect v1 or v2 at run time and hand back the matching manager. Mirrors runc's
// libcontainer/cgroups/manager (New / NewWithPaths).
export type { CgroupManager } from "./types.ts";
export { isCgroup2UnifiedMode } from "./paths.ts";
export { deviceRuleText } from "./v1.ts";
export { CgroupV2, sharesToWeight, swapToV2 } from "./v2.ts";
export { CgroupV1 } from "./v1.ts";

import type { CgroupLocation } from "../types.ts";
import { innerPath, isCgroup2UnifiedMode } from "./paths.ts";
import type { CgroupManager } from "./types.ts";
import { CgroupV1 } from "./v1.ts";
import { CgroupV2 } from "./v2.ts";

/** A manager for a new container's cgroup (`cgroupsPath` from the spec; default: the ID). */
export function cgroupManagerFor(id: string, cgroupsPath: string | undefined): CgroupManager {
  const inner = innerPath(cgroupsPath, id);
  return isCgroup2UnifiedMode() ? CgroupV2.locate(inner) : CgroupV1.locate(inner);
}

/** The manager for an existing container's cgroup, from its saved location. */
export function cgroupManagerAt(location: CgroupLocation): CgroupManager {
  return location.version === 2 ? new CgroupV2(location) : new CgroupV1(location);
}
