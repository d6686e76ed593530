// What this teaches: a runtime is a CLI, not a daemon: between `create`, `start`,
// `state` and `delete` nothing runs but the container. What the next invocation needs is
// kept in <root>/<id>/state.json, and the container's status is recomputed each time
// from the kernel: is the init PID still our process (same start time), is the exec
// FIFO still there (created, not started), is the cgroup frozen (paused).
// Mirrors runc's libcontainer/container_linux.go (currentStatus, refreshState),
// factory_linux.go (Load) and utils/utils.go (WriteJSON via an atomic rename).

import type { ContainerRecord, ContainerStatus, OciState } from "./types.ts";
import { ociVersion } from "./types.ts";
import { cgroupManagerAt } from "./cgroups/mod.ts";

/** The container ID rule runc enforces (letters, digits, "_", "+", "-", "."). */
const idPattern = /^[\w+.-]+$/;

/** Throws when `id` is not a valid container ID. */
export function validateContainerId(id: string | undefined): asserts id is string {
  if (!id) throw new Error(`container id cannot be empty`);
  if (!idPattern.test(id) || id === "." || id === "..") {
    throw new Error(`invalid container id "${id}": use letters, digits, "_", "+", "-" and "."`);
  }
}

/** "container does not exist", kept apart because `delete --force` tolerates it. */
export class ContainerNotFoundError extends Error {
  constructor(id: string) {
    super(`container ${id} does not exist`);
    this.name = "ContainerNotFoundError";
  }
}

/** The container's state directory under --root. */
export function stateDirectory(root: string, id: string): string {
  return `${root}/${id}`;
}

/** The FIFO the init blocks on until `start` (present only while "created"). */
export function execFifoPath(root: string, id: string): string {
  return `${stateDirectory(root, id)}/exec.fifo`;
}

/** Writes `text` to `path` through a temporary file and rename, so readers never see half. */
export function writeFileAtomic(path: string, text: string, mode = 0o644): void {
  const temporary = `${path}.${Deno.pid}.tmp`;
  Deno.writeTextFileSync(temporary, text, { mode });
  Deno.renameSync(temporary, path);
}

/** Saves the record as state.json. */
export function saveRecord(root: string, record: ContainerRecord): void {
  writeFileAtomic(`${stateDirectory(root, record.id)}/state.json`, JSON.stringify(record), 0o600);
}

/** Loads a container's record; throws ContainerNotFoundError when there is none. */
export function loadRecord(root: string, id: string): ContainerRecord {
  validateContainerId(id);
  try {
    return JSON.parse(Deno.readTextFileSync(`${stateDirectory(root, id)}/state.json`));
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) throw new ContainerNotFoundError(id);
    throw error;
  }
}

/** IDs of every container with a state directory under `root`. */
export function listContainerIds(root: string): string[] {
  try {
    return [...Deno.readDirSync(root)].filter((entry) => entry.isDirectory)
      .map((entry) => entry.name).sort();
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return [];
    throw error;
  }
}

/** Fields of /proc/<pid>/stat after the command name (which may contain spaces). */
function statFields(pid: number): string[] | undefined {
  try {
    const text = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return text.slice(text.lastIndexOf(")") + 2).split(" ");
  } catch {
    return undefined;
  }
}

/** The process's start time in clock ticks since boot (stat field 22), or "". */
export function processStartTime(pid: number): string {
  return statFields(pid)?.[19] ?? "";
}

/** True when `pid` is alive (not a zombie) and is the process that started at `startTime`. */
export function isInitAlive(pid: number, startTime: string): boolean {
  const fields = statFields(pid);
  if (!fields) return false;
  const state = fields[0];
  return state !== "Z" && state !== "X" && fields[19] === startTime;
}

/** The status as the kernel shows it now. */
export function containerStatus(root: string, record: ContainerRecord): ContainerStatus {
  if (!isInitAlive(record.initPid, record.initStartTime)) return "stopped";
  try {
    Deno.lstatSync(execFifoPath(root, record.id));
    return "created";
  } catch {
    // FIFO consumed by `start`.
  }
  return cgroupManagerAt(record.cgroup).isFrozen() ? "paused" : "running";
}

/** The runtime-spec state document for a record. */
export function ociState(root: string, record: ContainerRecord): OciState {
  const status = containerStatus(root, record);
  return {
    ociVersion,
    id: record.id,
    pid: status === "stopped" ? 0 : record.initPid,
    status,
    bundle: record.bundle,
    rootfs: record.rootfs,
    created: record.created,
    owner: record.owner,
    annotations: record.spec.annotations,
  };
}
