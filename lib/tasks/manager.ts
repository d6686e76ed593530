// What this teaches: the daemon's half of running containers. To create a task it
// reads the container record, asks the snapshotter for the rootfs mounts, writes the
// bundle (config.json, options.json), starts one shim and asks it to create the
// container; every later call is forwarded to that shim. The manager also watches each
// shim's pid, all of them through one pidfd poll loop (lib/shim/exit_watcher.ts: a
// thousand shims cost one helper thread). A shim that dies leaves a container nobody
// can wait for, so the manager cleans up after it (runtime `delete --force`, unmount,
// remove the bundle) and reports the task as exited with 137. After a daemon restart it
// walks the state directory, reconnects to every shim that still answers (patiently,
// while its process lives) and cleans up after the others.
// Mirrors containerd's `core/runtime/v2/manager.go` (Create, loadExistingTasks,
// cleanupAfterDeadShim) and `core/runtime/v2/shim.go`.

import { fileURLToPath } from "node:url";
import {
  alreadyExists,
  ApiError,
  failedPrecondition,
  invalidArgument,
  notFound,
} from "../api/errors.ts";
import { validateIdentifier } from "../api/identifiers.ts";
import type { ContainerStore } from "../containers/store.ts";
import { DEFAULT_RUNTIME_NAME } from "../containers/types.ts";
import { type EventPublisher, Topics } from "../events/types.ts";
import { isMountPoint } from "../linux/mountinfo.ts";
import { unmountAll } from "../mount/mount.ts";
import type { Mount } from "../mount/types.ts";
import type { Spec } from "../oci_spec/types.ts";
import { validateSpec } from "../oci_spec/validate.ts";
import {
  bundleDirectory,
  type BundleOptions,
  bundlePaths,
  runtimeRootDirectory,
  shimSocketPath,
  TASK_STATE_DIRECTORY,
} from "../shim/bundle.ts";
import { ShimClient } from "../shim/client.ts";
import { processGone, waitForProcessExit } from "../shim/reaper.ts";
import { OciRuntime } from "../shim/runtime.ts";
import { startShim } from "../shim/spawn.ts";
import { raceTimeout, TIMED_OUT } from "../shim/timeouts.ts";
import type { ConnectResponse, ProcessInfo, StdioPaths } from "../shim/types.ts";
import type { CreateTaskRequest, ExecProcessRequest, TaskExit, TaskInfo } from "./types.ts";

/** mini-runc, run by the shim under Deno (see OciRuntime): the default OCI runtime. */
export const DEFAULT_RUNTIME_BINARY = fileURLToPath(
  new URL("../../cmd/mini_runc.ts", import.meta.url),
);

/** Runtime names that mean "a runc-compatible binary through one shim per container". */
export const RUNC_RUNTIME_NAMES: readonly string[] = [
  DEFAULT_RUNTIME_NAME,
  "io.containerd.runc.v1",
  "io.containerd.runtime.v1.linux",
];

/** How long the daemon waits for a shim's answer to Connect or State. */
const SHIM_CALL_TIMEOUT_MS = 5_000;

/**
 * How long a restarted daemon keeps asking a shim whose process still runs before it
 * calls it hung and kills it (with its container). On a loaded machine a healthy shim
 * can miss one 5-second window; killing a live container for that would be worse than
 * a slower start.
 */
const SHIM_RECONNECT_PATIENCE_MS = 30_000;

/** The exit status reported for a task whose shim died (as containerd: SIGKILL). */
const DEAD_SHIM_EXIT_STATUS = 137;

/** What the manager logs through. */
export interface TaskLog {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/** What the manager needs from the daemon. */
export interface TaskManagerOptions {
  /** The daemon's state directory (bundles live under `<state>/io.containerd.runtime.v2.task`). */
  stateDir: string;
  /** The daemon's socket, passed to shims as `-address` for their events. */
  daemonAddress: string;
  containers: ContainerStore;
  /** The daemon's snapshotter: its name and the mounts that assemble a snapshot. */
  snapshots: {
    readonly snapshotter: string;
    mounts(namespace: string, key: string): Mount[] | Promise<Mount[]>;
  };
  events: EventPublisher;
  log: TaskLog;
  /** The OCI runtime when the container names none (default: mini-runc). */
  defaultRuntimeBinary?: string;
  debugShims?: boolean;
}

/** One task as the daemon holds it: where its shim is, and how it ended if the shim died. */
class ShimTask {
  /** Set once the shim died and the task was cleaned up: the exit to report. */
  tombstone?: TaskExit;
  readonly shimGone = Promise.withResolvers<TaskExit>();

  constructor(
    readonly namespace: string,
    readonly id: string,
    readonly bundle: string,
    readonly shim: ShimClient,
    readonly shimPid: number,
    readonly options: BundleOptions,
  ) {}
}

/** The daemon's task manager: one shim per task, found again after restarts. */
export class TaskManager {
  readonly #tasks = new Map<string, ShimTask | "creating">();
  readonly #stopping = new AbortController();

  constructor(private readonly options: TaskManagerOptions) {}

  /** True while `namespace/id` has a task (containers with tasks cannot be deleted). */
  hasTask(namespace: string, id: string): boolean {
    return this.#tasks.has(taskKey(namespace, id));
  }

  /** Creates a task: bundle, shim, `runtime create`. The init waits for Start. */
  async create(
    namespace: string,
    request: CreateTaskRequest,
  ): Promise<{ containerId: string; pid: number }> {
    const id = request?.containerId ?? "";
    validateIdentifier("container id", id);
    const container = this.options.containers.get(namespace, id);
    const key = taskKey(namespace, id);
    if (this.#tasks.has(key)) {
      throw alreadyExists(`task ${id} already exists: delete it first (mini-ctr tasks rm ${id})`);
    }
    const spec = validateSpec(container.spec, { requireProcess: true });
    if (!RUNC_RUNTIME_NAMES.includes(container.runtime.name)) {
      throw invalidArgument(
        `runtime ${container.runtime.name} is not supported: use ${DEFAULT_RUNTIME_NAME}`,
      );
    }
    let rootfs: Mount[] = [];
    if (container.snapshotKey !== "") {
      if (container.snapshotter !== this.options.snapshots.snapshotter) {
        throw failedPrecondition(
          `container ${id} uses snapshotter ${container.snapshotter}, but this daemon has only ` +
            this.options.snapshots.snapshotter,
        );
      }
      rootfs = await this.options.snapshots.mounts(namespace, container.snapshotKey);
    } else if (!spec.root?.path?.startsWith("/")) {
      throw failedPrecondition(
        `container ${id} has no snapshot and its spec's root.path ${
          JSON.stringify(spec.root?.path ?? "")
        } is not an absolute directory: create it from an image, or with --rootfs DIR`,
      );
    }
    const bundle = bundleDirectory(this.options.stateDir, namespace, id);
    const options: BundleOptions = {
      namespace,
      id,
      runtimeName: container.runtime.name,
      runtimeBinary: container.runtime.options?.binaryName ||
        this.options.defaultRuntimeBinary || DEFAULT_RUNTIME_BINARY,
      runtimeRoot: container.runtime.options?.root ||
        runtimeRootDirectory(this.options.stateDir, namespace),
    };
    this.#tasks.set(key, "creating");
    try {
      await this.#prepareBundle(bundle, spec, rootfs.length > 0, options);
      const started = await startShim({
        namespace,
        id,
        address: this.options.daemonAddress,
        workdir: bundle,
        runtimeBinary: options.runtimeBinary,
        runtimeRoot: options.runtimeRoot,
        debug: this.options.debugShims ?? false,
      });
      const shim = new ShimClient(started.address);
      let pid: number;
      try {
        ({ pid } = await shim.create({
          id,
          bundle,
          rootfs,
          // The spec decides whether the process gets a terminal; the stdio follows it.
          stdio: { ...request.stdio, terminal: spec.process?.terminal === true },
          logPath: request.logPath,
        }));
      } catch (error) {
        await shim.shutdown().catch(() => {});
        shim.close();
        await this.#stopShimProcess(started.pid, id);
        throw error;
      }
      const task = new ShimTask(namespace, id, bundle, shim, started.pid, options);
      this.#tasks.set(key, task);
      this.#watch(task);
      return { containerId: id, pid };
    } catch (error) {
      this.#tasks.delete(key);
      await this.#removeBundle(bundle).catch((cleanupError) =>
        this.options.log.error("cannot remove bundle", { bundle, error: String(cleanupError) })
      );
      throw error;
    }
  }

  async #prepareBundle(
    bundle: string,
    spec: Spec,
    hasRootfsMounts: boolean,
    options: BundleOptions,
  ): Promise<void> {
    const paths = bundlePaths(bundle);
    // A directory left from a crash mid-create: nothing can be using it now.
    await this.#removeBundle(bundle);
    await Deno.mkdir(bundle.slice(0, bundle.lastIndexOf("/")), { recursive: true, mode: 0o711 });
    await Deno.mkdir(bundle, { mode: 0o711 });
    const config: Spec = hasRootfsMounts
      ? { ...spec, root: { ...spec.root, path: "rootfs" } }
      : spec;
    await Deno.writeTextFile(paths.config, JSON.stringify(config, null, 2));
    if (hasRootfsMounts) await Deno.mkdir(paths.rootfs, { mode: 0o711 });
    await Deno.writeTextFile(paths.options, JSON.stringify(options));
    await Deno.mkdir(options.runtimeRoot, { recursive: true, mode: 0o711 });
  }

  /** Watches a shim's pid; a shim that dies while it still owns a task is cleaned up after. */
  #watch(task: ShimTask): void {
    waitForProcessExit(task.shimPid).then(async () => {
      if (this.#tasks.get(taskKey(task.namespace, task.id)) !== task || task.tombstone) return;
      await this.#cleanupAfterDeadShim(task, "the shim exited");
    }).catch((error) => this.options.log.error("watching shim failed", { error: String(error) }));
  }

  /**
   * Finishes a task whose shim is gone: `runtime delete --force` (kills what is left of
   * the container), unmounts the rootfs, removes the bundle, and reports exit 137.
   * The task stays listed as stopped until it is deleted.
   */
  async #cleanupAfterDeadShim(task: ShimTask, reason: string): Promise<void> {
    this.options.log.warn("cleaning up after dead shim", {
      namespace: task.namespace,
      id: task.id,
      reason,
    });
    task.shim.close();
    const initPid = await readPid(bundlePaths(task.bundle).initPid);
    await this.#forceDeleteContainer(task.options, task.bundle);
    await this.#removeBundle(task.bundle).catch((error) =>
      this.options.log.error("cannot remove bundle", { bundle: task.bundle, error: String(error) })
    );
    const socket = await shimSocketPath(this.options.daemonAddress, task.namespace, task.id);
    await Deno.remove(socket).catch(() => {});
    const exit: TaskExit = {
      id: task.id,
      pid: initPid,
      exitStatus: DEAD_SHIM_EXIT_STATUS,
      exitedAt: new Date().toISOString(),
    };
    task.tombstone = exit;
    task.shimGone.resolve(exit);
    this.options.events.publish(task.namespace, Topics.taskExit, {
      containerId: task.id,
      id: task.id,
      pid: exit.pid,
      exitStatus: exit.exitStatus,
      exitedAt: exit.exitedAt,
    });
  }

  async #forceDeleteContainer(options: BundleOptions, bundle: string): Promise<void> {
    const runtime = new OciRuntime(
      options.runtimeBinary,
      options.runtimeRoot,
      bundlePaths(bundle).runtimeLog,
    );
    try {
      await runtime.delete(options.id, true);
    } catch (error) {
      this.options.log.warn("runtime delete --force failed", {
        id: options.id,
        error: error instanceof Error ? error.message : String(error),
      });
    }
  }

  /** Kills a shim that failed to create its container (it exits by itself after Shutdown). */
  async #stopShimProcess(pid: number, id: string): Promise<void> {
    if (await raceTimeout(waitForProcessExit(pid), 2_000) !== TIMED_OUT) return;
    if (isShimOf(pid, id)) {
      try {
        Deno.kill(pid, "SIGKILL");
      } catch { /* gone meanwhile */ }
      await raceTimeout(waitForProcessExit(pid), 2_000);
    }
  }

  /**
   * Removes a bundle directory, unmounting its rootfs first. If the rootfs stays
   * mounted the directory is left alone: deleting through a live mount would delete
   * the container's snapshot files.
   */
  async #removeBundle(bundle: string): Promise<void> {
    const rootfs = bundlePaths(bundle).rootfs;
    await unmountAll(rootfs).catch(() => {});
    if (isMountPoint(rootfs)) {
      throw new Error(`${rootfs} is still mounted; not removing ${bundle}`);
    }
    await Deno.remove(bundle, { recursive: true }).catch((error) => {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    });
  }

  /**
   * Finds the shims of a previous daemon run: every bundle under the state directory
   * whose shim answers Connect is adopted; the others are cleaned up after.
   */
  async restore(): Promise<void> {
    const root = `${this.options.stateDir}/${TASK_STATE_DIRECTORY}`;
    for (const namespace of await listDirectories(root)) {
      for (const id of await listDirectories(`${root}/${namespace}`)) {
        await this.#restoreOne(namespace, id, `${root}/${namespace}/${id}`).catch((error) =>
          this.options.log.error("cannot restore task", {
            namespace,
            id,
            error: error instanceof Error ? error.message : String(error),
          })
        );
      }
    }
  }

  async #restoreOne(namespace: string, id: string, bundle: string): Promise<void> {
    const paths = bundlePaths(bundle);
    const options = await readJson<BundleOptions>(paths.options);
    const address = (await Deno.readTextFile(paths.address).catch(() => "")).trim();
    const recordedPid = await readPid(paths.shimPid);
    const shim = new ShimClient(address || "unix:///nonexistent");
    const answer = address === "" ? undefined : await connectPatiently(shim, recordedPid, id);
    const alive = answer !== undefined;
    // A shim that answers says who it is; trust that over the pid file.
    const shimPid = alive ? answer.shimPid : recordedPid;
    const task = new ShimTask(
      namespace,
      id,
      bundle,
      shim,
      shimPid,
      options ?? {
        namespace,
        id,
        runtimeName: DEFAULT_RUNTIME_NAME,
        runtimeBinary: this.options.defaultRuntimeBinary || DEFAULT_RUNTIME_BINARY,
        runtimeRoot: runtimeRootDirectory(this.options.stateDir, namespace),
      },
    );
    this.#tasks.set(taskKey(namespace, id), task);
    if (alive) {
      this.options.log.info("reconnected to shim", { namespace, id, pid: shimPid });
      this.#watch(task);
      return;
    }
    // No answer: a shim that still runs is hung; stop it before cleaning up.
    if (shimPid > 0 && isShimOf(shimPid, id)) {
      try {
        Deno.kill(shimPid, "SIGKILL");
      } catch { /* gone meanwhile */ }
    }
    await this.#cleanupAfterDeadShim(task, "the shim did not answer after a daemon restart");
  }

  #require(namespace: string, id: string): ShimTask {
    const task = this.#tasks.get(taskKey(namespace, id));
    if (task === undefined) throw notFound(`task ${id} not found in namespace ${namespace}`);
    if (task === "creating") throw failedPrecondition(`task ${id} is still being created`);
    return task;
  }

  #requireLive(namespace: string, id: string): ShimTask {
    const task = this.#require(namespace, id);
    if (task.tombstone) {
      throw notFound(
        `task ${id} already finished: its shim died (exit status ${task.tombstone.exitStatus})`,
      );
    }
    return task;
  }

  async start(namespace: string, id: string, execId?: string): Promise<{ pid: number }> {
    return await this.#requireLive(namespace, id).shim.start(execId);
  }

  /** Information about a task's init (or an exec process), straight from its shim. */
  async get(namespace: string, id: string, execId?: string): Promise<TaskInfo> {
    return await this.#info(this.#require(namespace, id), execId);
  }

  async list(namespace: string): Promise<TaskInfo[]> {
    const tasks = [...this.#tasks.values()].filter((task): task is ShimTask =>
      task !== "creating" && task.namespace === namespace
    ).sort((a, b) => a.id.localeCompare(b.id));
    return await Promise.all(tasks.map((task) => this.#info(task)));
  }

  async #info(task: ShimTask, execId?: string): Promise<TaskInfo> {
    const base = {
      id: task.id,
      execId: execId ?? "",
      stdio: {},
      logPath: bundlePaths(task.bundle).containerLog,
      bundle: task.bundle,
      oomKilled: false,
    };
    if (task.tombstone) {
      if (execId) throw notFound(`exec process ${execId} of ${task.id} is gone with its shim`);
      return {
        ...base,
        pid: task.tombstone.pid,
        status: "stopped",
        exitStatus: task.tombstone.exitStatus,
        exitedAt: task.tombstone.exitedAt,
        shimPid: 0,
      };
    }
    let state;
    try {
      state = await raceTimeout(task.shim.state(execId), SHIM_CALL_TIMEOUT_MS);
    } catch (error) {
      if (error instanceof ApiError && error.code !== "unavailable") throw error;
      state = TIMED_OUT;
    }
    if (state === TIMED_OUT) {
      return { ...base, pid: 0, status: "unknown", exitStatus: 0, shimPid: task.shimPid };
    }
    return {
      ...base,
      pid: state.pid,
      status: state.status,
      exitStatus: state.exitStatus,
      exitedAt: state.exitedAt,
      stdio: state.stdio,
      logPath: state.logPath,
      oomKilled: state.oomKilled,
      shimPid: task.shimPid,
    };
  }

  async kill(
    namespace: string,
    id: string,
    signal: number,
    options: { execId?: string; all?: boolean } = {},
  ): Promise<void> {
    await this.#requireLive(namespace, id).shim.kill(signal, options);
  }

  /**
   * Waits for the init (or an exec process) to exit. If the shim dies meanwhile, the
   * answer is the dead-shim exit (137) the cleanup records.
   */
  async wait(namespace: string, id: string, execId?: string): Promise<TaskExit> {
    const task = this.#require(namespace, id);
    if (task.tombstone) {
      if (execId) throw notFound(`exec process ${execId} of ${id} is gone with its shim`);
      return task.tombstone;
    }
    const stopping = this.#stopping.signal;
    try {
      const result = await Promise.race([task.shim.wait(execId, stopping), task.shimGone.promise]);
      return { ...result, id: execId || id };
    } catch (error) {
      if (stopping.aborted) throw new ApiError("unavailable", "mini-containerd is shutting down");
      if (!(error instanceof ApiError) || error.code !== "unavailable") throw error;
      // The connection broke: most likely the shim died. The watcher's cleanup answers.
      const exit = await raceTimeout(task.shimGone.promise, SHIM_CALL_TIMEOUT_MS);
      if (exit === TIMED_OUT) throw error;
      if (execId) throw notFound(`exec process ${execId} of ${id} is gone with its shim`);
      return exit;
    }
  }

  async exec(namespace: string, request: ExecProcessRequest): Promise<void> {
    const task = this.#requireLive(namespace, request?.containerId ?? "");
    await task.shim.exec({
      execId: request.execId,
      process: request.spec,
      stdio: request.stdio ?? {},
    });
  }

  async pids(namespace: string, id: string): Promise<ProcessInfo[]> {
    return await this.#requireLive(namespace, id).shim.pids();
  }

  async closeIO(namespace: string, id: string, execId?: string): Promise<void> {
    await this.#requireLive(namespace, id).shim.closeIO(execId);
  }

  async attach(namespace: string, id: string, stdio: StdioPaths, execId?: string): Promise<void> {
    await this.#requireLive(namespace, id).shim.attach(stdio, execId);
  }

  async resizePty(
    namespace: string,
    id: string,
    width: number,
    height: number,
    execId?: string,
  ): Promise<void> {
    await this.#requireLive(namespace, id).shim.resizePty(width, height, execId);
  }

  async pause(namespace: string, id: string): Promise<void> {
    await this.#requireLive(namespace, id).shim.pause();
  }

  async resume(namespace: string, id: string): Promise<void> {
    await this.#requireLive(namespace, id).shim.resume();
  }

  /**
   * Deletes a stopped task: the shim runs `runtime delete` and unmounts the rootfs,
   * then exits; the daemon removes the bundle. The exit status is the answer.
   */
  async delete(namespace: string, id: string): Promise<TaskExit> {
    const key = taskKey(namespace, id);
    const task = this.#require(namespace, id);
    if (task.tombstone) {
      this.#tasks.delete(key);
      this.options.events.publish(namespace, Topics.taskDelete, {
        containerId: id,
        id,
        pid: task.tombstone.pid,
        exitStatus: task.tombstone.exitStatus,
        exitedAt: task.tombstone.exitedAt,
      });
      return task.tombstone;
    }
    const exit = await task.shim.delete();
    // From here on the shim's exit is expected, not a death to clean up after.
    this.#tasks.delete(key);
    await task.shim.shutdown().catch((error) =>
      this.options.log.warn("shim shutdown failed", { id, error: String(error) })
    );
    task.shim.close();
    // The shim unmounted the rootfs in Delete and is on its way out: the bundle can go
    // now. Making sure it really exits happens in the background, off the reply's path.
    await this.#removeBundle(task.bundle).catch((error) =>
      this.options.log.error("cannot remove bundle", { bundle: task.bundle, error: String(error) })
    );
    this.#stopShimProcess(task.shimPid, id).catch(() => {});
    return { id, ...exit };
  }

  /** Deletes a stopped exec process. */
  async deleteProcess(namespace: string, id: string, execId: string): Promise<TaskExit> {
    validateIdentifier("exec id", execId ?? "");
    const exit = await this.#requireLive(namespace, id).shim.delete(execId);
    return { id: execId, ...exit };
  }

  /** Stops waiting on shims (daemon shutdown). Shims and containers keep running. */
  close(): void {
    this.#stopping.abort();
    for (const task of this.#tasks.values()) {
      if (task !== "creating") task.shim.close();
    }
  }
}

function taskKey(namespace: string, id: string): string {
  return `${namespace}/${id}`;
}

/**
 * Connect to a shim after a daemon restart: retried while the shim's process is still
 * there, for up to SHIM_RECONNECT_PATIENCE_MS. Undefined when it never answered.
 */
async function connectPatiently(
  shim: ShimClient,
  recordedPid: number,
  id: string,
): Promise<ConnectResponse | undefined> {
  const deadline = Date.now() + SHIM_RECONNECT_PATIENCE_MS;
  while (true) {
    const answer = await raceTimeout(shim.connect().catch(() => undefined), SHIM_CALL_TIMEOUT_MS);
    if (answer !== undefined && answer !== TIMED_OUT) return answer;
    const stillRunning = recordedPid > 0 && isShimOf(recordedPid, id);
    if (!stillRunning || Date.now() >= deadline) return undefined;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** True when `pid` runs mini-containerd-shim for container `id` (guards against pid reuse). */
function isShimOf(pid: number, id: string): boolean {
  if (processGone(pid)) return false;
  try {
    const commandLine = Deno.readTextFileSync(`/proc/${pid}/cmdline`).split("\0");
    const idIndex = commandLine.indexOf("-id");
    return commandLine.some((argument) => argument.includes("mini_containerd_shim")) &&
      idIndex >= 0 && commandLine[idIndex + 1] === id;
  } catch {
    return false;
  }
}

async function readPid(path: string): Promise<number> {
  const text = await Deno.readTextFile(path).catch(() => "");
  const pid = Number(text.trim());
  return Number.isInteger(pid) && pid > 0 ? pid : 0;
}

async function readJson<T>(path: string): Promise<T | undefined> {
  try {
    return JSON.parse(await Deno.readTextFile(path)) as T;
  } catch {
    return undefined;
  }
}

async function listDirectories(path: string): Promise<string[]> {
  const names: string[] = [];
  try {
    for await (const entry of Deno.readDir(path)) {
      if (entry.isDirectory) names.push(entry.name);
    }
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  return names.sort();
}
