// What this teaches: what "a test leaves the host as it found it" takes once it has
// started daemons that start shims that start containers. Everything such a test
// starts is found from the one thing they share, the test's own temp directory: every
// process whose command line names it, and every process below those (a container's
// own command line names nothing of the test), is ended *by PID* (never by program
// name, so tests running side by side never end each other's processes); the cgroups
// those processes were in are removed (never the test's own); every mount below the
// directory is detached; links the test created are deleted by their exact name. The
// sweep reports what it found, so a caller that expects nothing left (a lesson) can
// fail on it. Shared by tests/helpers/dockerd.ts, tests/lab/support.ts and
// tests/docs/runnable_blocks_test.ts. Mirrors nothing in Docker: it is the test-side
// counterpart of what dockerd's shutdown and containerd's task delete should leave.

import { unmount, UnmountFlags } from "../../lib/linux/mount.ts";
import { readMountInfo } from "../../lib/linux/mountinfo.ts";
import { deleteLinkByName, listLinks, NetlinkSocket } from "../../lib/network/netlink/mod.ts";

/** What a sweep found below a directory (and then ended, unmounted or removed). */
export interface Leftovers {
  /** PIDs of processes whose command line named the directory, and their descendants. */
  processes: number[];
  /** Mount points at or below the directory. */
  mounts: string[];
  /** Cgroup directories those processes were in (other than the test's own), removed. */
  cgroups: string[];
}

/** The command line of `pid` with NULs as spaces, or undefined once it has exited. */
function commandLineOf(pid: number): string | undefined {
  try {
    return Deno.readTextFileSync(`/proc/${pid}/cmdline`).replaceAll("\0", " ");
  } catch {
    return undefined;
  }
}

/** The fields of /proc/PID/stat after the command name: [state, ppid, ...]; undefined if gone. */
function statFields(pid: number): string[] | undefined {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  } catch {
    return undefined;
  }
}

/** When `pid` started (stat field 22): with the PID, it names one process, even after reuse. */
function startTimeOf(pid: number): string | undefined {
  return statFields(pid)?.[19];
}

/** PIDs of processes whose command line contains `text` (never this process). */
export function processesMentioning(text: string): number[] {
  const pids: number[] = [];
  for (const pid of allPids()) {
    if (pid === Deno.pid) continue;
    if (commandLineOf(pid)?.includes(text)) pids.push(pid);
  }
  return pids;
}

function allPids(): number[] {
  return [...Deno.readDirSync("/proc")].filter((entry) => /^\d+$/.test(entry.name))
    .map((entry) => Number(entry.name));
}

/**
 * `roots` and every process below them (a shim's container, a daemon's children): what
 * a test started includes what those processes started, whatever their command lines.
 */
function withDescendants(roots: number[]): number[] {
  const children = new Map<number, number[]>();
  for (const pid of allPids()) {
    const parent = Number(statFields(pid)?.[1]);
    if (Number.isInteger(parent)) children.set(parent, [...children.get(parent) ?? [], pid]);
  }
  const found = new Set<number>();
  const queue = [...roots];
  while (queue.length > 0) {
    const pid = queue.pop()!;
    if (pid === Deno.pid || found.has(pid)) continue;
    found.add(pid);
    queue.push(...children.get(pid) ?? []);
  }
  return [...found];
}

/** True once `pid` has exited (gone, or a zombie waiting for its parent to reap it). */
function hasExited(pid: number): boolean {
  const state = statFields(pid)?.[0];
  return state === undefined || state === "Z";
}

/** Sends SIGKILL to each process (PID and start time) still running, then waits for each. */
async function killAndWait(processes: Map<number, string>): Promise<void> {
  const killed: number[] = [];
  for (const [pid, startTime] of processes) {
    if (startTimeOf(pid) !== startTime) continue; // exited, or the PID now names another
    try {
      Deno.kill(pid, "SIGKILL");
      killed.push(pid);
    } catch { /* exited meanwhile */ }
  }
  for (const pid of killed) {
    for (let attempt = 0; attempt < 200 && !hasExited(pid); attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }
}

/**
 * Sends SIGKILL to each PID whose command line still names `marker` (a PID reused by
 * someone else's process is left alone), then waits until each has exited.
 */
export async function endProcesses(pids: number[], marker: string): Promise<void> {
  const processes = new Map<number, string>();
  for (const pid of pids) {
    const startTime = startTimeOf(pid);
    if (startTime !== undefined && commandLineOf(pid)?.includes(marker)) {
      processes.set(pid, startTime);
    }
  }
  await killAndWait(processes);
}

/** The cgroup directories of each hierarchy `pid` is in (v1 controllers and v2). */
function cgroupDirectoriesOf(pid: number): Map<string, string> {
  const directories = new Map<string, string>(); // hierarchy key → directory
  let membership: string;
  try {
    membership = Deno.readTextFileSync(`/proc/${pid}/cgroup`);
  } catch {
    return directories;
  }
  const mounts = readMountInfo();
  for (const line of membership.split("\n")) {
    const match = /^\d+:([^:]*):(.*)$/.exec(line);
    if (!match) continue;
    const [, controllers, path] = match;
    const first = controllers.split(",")[0];
    const mount = controllers === ""
      ? mounts.find((candidate) => candidate.fstype === "cgroup2")
      : mounts.find((candidate) =>
        candidate.fstype === "cgroup" && candidate.superOptions.split(",").includes(first)
      );
    if (mount) directories.set(controllers, `${mount.mountPoint}${path === "/" ? "" : path}`);
  }
  return directories;
}

/**
 * The cgroups of `pids` that are neither this process's own nor above it (those hold
 * the test itself, and every process a test starts directly).
 */
function foreignCgroupsOf(pids: number[]): string[] {
  const own = cgroupDirectoriesOf(Deno.pid);
  const result = new Set<string>();
  for (const pid of pids) {
    for (const [hierarchy, directory] of cgroupDirectoriesOf(pid)) {
      const ours = own.get(hierarchy);
      if (ours === undefined || ours === directory || ours.startsWith(directory + "/")) continue;
      result.add(directory);
    }
  }
  return [...result];
}

/** Removes empty cgroup directories, deepest first; returns those that were removed. */
async function removeCgroups(directories: string[]): Promise<string[]> {
  const removed: string[] = [];
  for (const directory of [...directories].sort((a, b) => b.length - a.length)) {
    // A killed process leaves its cgroup only once it has been reaped: try a few times.
    for (let attempt = 0; attempt < 20; attempt++) {
      try {
        Deno.removeSync(directory);
        removed.push(directory);
        break;
      } catch (error) {
        if (error instanceof Deno.errors.NotFound) break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
  }
  return removed;
}

/** Mount points at or below `directory`. */
export function mountsBelow(directory: string): string[] {
  return readMountInfo().map((mount) => mount.mountPoint)
    .filter((point) => point === directory || point.startsWith(directory + "/"));
}

/** Detaches every mount at or below `directory`, deepest first. */
export function unmountBelow(directory: string): void {
  for (let round = 0; round < 5; round++) {
    const mounts = mountsBelow(directory).sort((a, b) => b.length - a.length);
    if (mounts.length === 0) return;
    for (const point of mounts) {
      try {
        unmount(point, UnmountFlags.DETACH);
      } catch { /* already gone */ }
    }
  }
}

/**
 * Ends (by PID) every process whose command line names `directory`, and every process
 * below those, round after round since a dying daemon may still start one; removes the
 * cgroups they were in (containers' cgroups; never the test's own); then detaches every
 * mount below `directory`. Returns everything it found, so callers that expect a clean
 * exit can report it.
 */
export async function sweepBelow(directory: string): Promise<Leftovers> {
  const mounts = mountsBelow(directory);
  const processes = new Set<number>();
  const cgroups = new Set<string>();
  for (let round = 0; round < 20; round++) {
    const found = new Map<number, string>();
    for (const pid of withDescendants(processesMentioning(directory))) {
      const startTime = startTimeOf(pid);
      if (startTime !== undefined && !hasExited(pid)) found.set(pid, startTime);
    }
    if (found.size === 0) break;
    for (const pid of found.keys()) processes.add(pid);
    for (const cgroup of foreignCgroupsOf([...found.keys()])) cgroups.add(cgroup);
    await killAndWait(found);
  }
  const removedCgroups = await removeCgroups([...cgroups]);
  unmountBelow(directory);
  return { processes: [...processes], mounts, cgroups: removedCgroups };
}

/** Sweeps below `directory` (see sweepBelow), then removes it; returns what was left. */
export async function sweepAndRemove(directory: string): Promise<Leftovers> {
  const leftovers = await sweepBelow(directory);
  await Deno.remove(directory, { recursive: true }).catch(() => {});
  return leftovers;
}

/** Throws, naming each, when `leftovers` holds any process or mount `who` left behind. */
export function assertNothingLeftBehind(who: string, leftovers: Leftovers): void {
  const problems: string[] = [];
  if (leftovers.mounts.length > 0) {
    problems.push(`mounts: ${leftovers.mounts.join(", ")}`);
  }
  if (leftovers.processes.length > 0) {
    problems.push(`processes (ended by PID): ${leftovers.processes.join(", ")}`);
  }
  if (leftovers.cgroups.length > 0) {
    problems.push(`cgroups of those processes (removed): ${leftovers.cgroups.join(", ")}`);
  }
  if (problems.length > 0) throw new Error(`${who} left things behind: ${problems.join("; ")}`);
}

/** True when the host has a network link (bridge, veth...) of this name. */
export function linkExists(name: string): boolean {
  const socket = NetlinkSocket.open();
  try {
    return listLinks(socket).some((link) => link.name === name);
  } finally {
    socket.close();
  }
}

/** Deletes the link of this exact name if there is one; returns whether there was. */
export function deleteLinkNamed(name: string): boolean {
  const socket = NetlinkSocket.open();
  try {
    return deleteLinkByName(socket, name);
  } finally {
    socket.close();
  }
}
