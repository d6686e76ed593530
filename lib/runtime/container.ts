// What this teaches: the lifecycle of an OCI container as a runtime drives it, one CLI
// invocation per step. `create` builds everything and leaves the init waiting on the exec
// FIFO; `start` opens the FIFO so the init execve()s the command; `kill` signals it;
// `delete` removes what is left (cgroup, state) once it has stopped. A failure at any
// point of `create` undoes what was done: no process, cgroup or state directory stays.
// Mirrors runc's create.go/start.go/kill.go/delete.go/run.go/utils_linux.go and
// libcontainer/container_linux.go (Start, Run, Exec, Signal, Destroy) and state_linux.go.

import { closeFile, mkfifo, openFile, OpenFlags, readFile, socketPair } from "../linux/files.ts";
import { Errno, LinuxError } from "../linux/errors.ts";
import { kill as sendSignal } from "../linux/identity.ts";
import { signalNumbers } from "../linux/signals.ts";
import { connectUnix } from "../linux/terminal.ts";
import { cgroupManagerAt, cgroupManagerFor } from "./cgroups/mod.ts";
import type { CgroupManager } from "./cgroups/mod.ts";
import { runHooks } from "./hooks.ts";
import { abandonInit, type LaunchedInit, launchInit } from "./launch.ts";
import type { Logger } from "./log.ts";
import { loadSpec, SpecError, validateSpec } from "./spec.ts";
import {
  ContainerNotFoundError,
  containerStatus,
  execFifoPath,
  isInitAlive,
  loadRecord,
  ociState,
  processStartTime,
  saveRecord,
  stateDirectory,
  validateContainerId,
  writeFileAtomic,
} from "./state.ts";
import { proxyTerminal, receiveTerminal } from "./terminal_proxy.ts";
import type {
  ContainerRecord,
  InitConfig,
  LinuxResources,
  OciState,
  Process,
  Spec,
} from "./types.ts";
import { ociVersion } from "./types.ts";
import { initTraceContext, runtimeTrace } from "../trace/runtime.ts";

/** Settings every command shares (runc's global flags). */
export interface RuntimeOptions {
  /** --root: where state directories live. */
  root: string;
  logger: Logger;
}

/** `create` (and the create half of `run`). */
export interface CreateOptions {
  bundle: string;
  pidFile?: string;
  consoleSocket?: string;
  noPivot?: boolean;
  preserveFds?: number;
  /** `run` in the foreground with a terminal: we receive the pty ourselves. */
  foregroundTerminal?: boolean;
  /** An init the entry point spawned early (prelaunch.ts) for this very spec. */
  prelaunched?: LaunchedInit;
  /** Give the init new pipes as stdio (read through `child`) instead of ours. */
  pipes?: { stdin: boolean };
}

/** A container `create` left waiting, with its init's handle (we are its parent). */
export interface CreatedContainer {
  record: ContainerRecord;
  child: Deno.ChildProcess;
  /** The pty primary end, when `foregroundTerminal` was asked for. */
  terminal?: number;
}

const sleep = (milliseconds: number) => new Promise((resolve) => setTimeout(resolve, milliseconds));

function absolutePath(path: string): string {
  return path.startsWith("/") ? path : `${Deno.cwd()}/${path}`;
}

function realDirectory(path: string, what: string): string {
  let real: string;
  try {
    real = Deno.realPathSync(path);
  } catch {
    throw new SpecError(`${what} (${path}) does not exist`);
  }
  if (!Deno.statSync(real).isDirectory) throw new SpecError(`${what} (${path}) is not a directory`);
  return real;
}

/** The exit status a shell would report: the code, or 128 + the signal's number. */
export function exitCodeOf(status: Deno.CommandStatus): number {
  if (status.signal) return 128 + (signalNumbers[status.signal.replace(/^SIG/, "")] ?? 0);
  return status.code;
}

function stateWhileCreating(record: ContainerRecord, pid: number): OciState {
  return {
    ociVersion,
    id: record.id,
    status: "creating",
    pid,
    bundle: record.bundle,
    rootfs: record.rootfs,
    created: record.created,
    owner: record.owner,
    annotations: record.spec.annotations,
  };
}

function consoleSocketFor(
  process: Process,
  options: { consoleSocket?: string; foregroundTerminal?: boolean },
): { toInit?: number; ours?: number } {
  if (!process.terminal) {
    if (options.consoleSocket) {
      throw new SpecError(
        "--console-socket was given but process.terminal is false: set terminal to true or drop the flag",
      );
    }
    return {};
  }
  if (options.consoleSocket) return { toInit: connectUnix(absolutePath(options.consoleSocket)) };
  if (options.foregroundTerminal) {
    const [ours, toInit] = socketPair();
    return { toInit, ours };
  }
  throw new SpecError(
    "cannot allocate tty if mini-runc will detach without setting console socket " +
      "(pass --console-socket, or set process.terminal to false)",
  );
}

/** Waits for the init's messages until "ready", running the runtime hooks when asked. */
async function awaitReady(
  launched: LaunchedInit,
  record: ContainerRecord,
): Promise<void> {
  for (;;) {
    const message = launched.channel.receive();
    if (message === null) {
      const status = await launched.child.status;
      throw new Error(
        `container init exited before it was ready (exit status ${exitCodeOf(status)})`,
      );
    }
    if (message.type === "error") throw new Error(message.message);
    if (message.type === "ready") return;
    if (message.type === "hooks") {
      const state = stateWhileCreating(record, launched.child.pid);
      await runHooks("prestart", record.spec.hooks?.prestart, state);
      await runHooks("createRuntime", record.spec.hooks?.createRuntime, state);
      launched.channel.send({ type: "hooks-done" });
      continue;
    }
    throw new Error(`container init sent an unexpected "${message.type}" message`);
  }
}

/** `mini-runc create`: everything up to the waiting init. Undoes it all on failure. */
export async function createContainer(
  runtime: RuntimeOptions,
  id: string,
  options: CreateOptions,
): Promise<CreatedContainer> {
  let launched = options.prelaunched;
  if (launched) launched.adopted = true;
  let directory: string | undefined; // set once this call created it
  let cgroup: CgroupManager | undefined;
  let ours: number | undefined;
  try {
    validateContainerId(id);
    const bundle = realDirectory(absolutePath(options.bundle), "bundle");
    const spec: Spec = loadSpec(bundle);
    for (const warning of validateSpec(spec)) runtime.logger.warn(warning);
    const rootPath = spec.root!.path.startsWith("/")
      ? spec.root!.path
      : `${bundle}/${spec.root!.path}`;
    const rootfs = realDirectory(rootPath, "rootfs");

    Deno.mkdirSync(runtime.root, { recursive: true, mode: 0o711 });
    try {
      Deno.mkdirSync(stateDirectory(runtime.root, id), { mode: 0o711 });
    } catch (error) {
      if (error instanceof Deno.errors.AlreadyExists) {
        throw new Error(`container with id ${id} already exists`);
      }
      throw error;
    }
    directory = stateDirectory(runtime.root, id);
    const fifo = execFifoPath(runtime.root, id);
    mkfifo(fifo, 0o622);
    const process = spec.process!;
    const console = consoleSocketFor(process, options);
    ours = console.ours;
    const namespaces = spec.linux?.namespaces ?? [];
    const pidNamespace = namespaces.find((namespace) => namespace.type === "pid");
    cgroup = cgroupManagerFor(id, spec.linux?.cgroupsPath);
    const runtimeHooks = (spec.hooks?.prestart?.length ?? 0) +
        (spec.hooks?.createRuntime?.length ?? 0) > 0;

    // Start the init now unless the entry point already did: its Deno boots while we
    // set up the cgroup.
    launched ??= launchInit({
      pidNamespace: pidNamespace ? (pidNamespace.path ?? "new") : null,
      consoleSocketFd: console.toInit,
      pipes: options.pipes,
    });
    if (console.toInit !== undefined) closeFile(console.toInit);
    const config: InitConfig = {
      mode: "create",
      id,
      bundle,
      rootfs,
      spec,
      process,
      namespaces,
      cgroup: cgroup.location,
      execFifo: fifo,
      noPivot: options.noPivot ?? false,
      preserveFds: options.preserveFds ?? 0,
      runtimeHooks,
      trace: initTraceContext(), // --trace: the init records its steps too (lib/trace)
    };
    launched.channel.send({ type: "config", config });
    runtimeTrace()?.step(
      "init spawned, config sent",
      `pid ${launched.child.pid}, namespaces: ${namespaces.map((entry) => entry.type).join(" ")}`,
    ); // --trace
    runtime.logger.debug(
      `init ${launched.child.pid} spawned${options.prelaunched ? " early" : ""}`,
    );

    cgroup.create();
    const resources = spec.linux?.resources ?? {};
    cgroup.set({ ...resources, devices: resources.devices ?? [] });
    cgroup.apply(launched.child.pid);
    runtimeTrace()?.step(
      "cgroup created, limits set, init joined it",
      `v${cgroup.location.version} ${Object.values(cgroup.location.paths)[0]}`,
    ); // --trace
    launched.channel.send({ type: "go" });
    runtime.logger.debug(`cgroup ready: ${Object.values(cgroup.location.paths)[0]}`);

    const record: ContainerRecord = {
      id,
      bundle,
      rootfs,
      initPid: launched.child.pid,
      initStartTime: processStartTime(launched.child.pid),
      created: new Date().toISOString(),
      owner: "",
      cgroup: cgroup.location,
      namespaces: namespaces.map((namespace) => namespace.type),
      spec,
    };
    await awaitReady(launched, record);
    runtimeTrace()?.step("init ready: rootfs built, waiting on the exec FIFO"); // --trace
    runtime.logger.debug("init ready: rootfs set up, waiting on the exec FIFO");
    launched.channel.close();
    saveRecord(runtime.root, record);
    if (options.pidFile) writeFileAtomic(absolutePath(options.pidFile), String(record.initPid));
    const terminal = ours === undefined ? undefined : receiveTerminal(ours);
    return { record, child: launched.child, terminal };
  } catch (error) {
    if (launched) await abandonInit(launched);
    if (ours !== undefined) closeFile(ours);
    try {
      cgroup?.destroy();
    } catch (cleanupError) {
      runtime.logger.warn(`cleanup: ${(cleanupError as Error).message}`);
    }
    if (directory) Deno.removeSync(directory, { recursive: true });
    throw error;
  }
}

/** Sleeps without yielding to the event loop: precise for sub-millisecond waits. */
function sleepSync(milliseconds: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, milliseconds);
}

/**
 * Opens the exec FIFO for reading: the init, blocked opening its writing end, wakes up,
 * writes one byte and execs. We open without blocking and poll for that byte, so that an
 * init that died instead is noticed (runc's linuxContainer.exec waits on a blocking open
 * in a goroutine and checks the init every 100 ms). The init normally answers within a
 * millisecond, so the first polls are short synchronous waits.
 */
async function releaseInit(root: string, record: ContainerRecord): Promise<void> {
  const fifoPath = execFifoPath(root, record.id);
  const fd = openFile(fifoPath, OpenFlags.RDONLY | OpenFlags.NONBLOCK | OpenFlags.CLOEXEC);
  try {
    const buffer = new Uint8Array(1);
    for (let attempt = 0;; attempt++) {
      let count = 0;
      try {
        count = readFile(fd, buffer); // 0: no writer yet; EAGAIN: writer, no byte yet
      } catch (error) {
        if (!(error instanceof LinuxError && error.errno === Errno.EAGAIN)) throw error;
      }
      if (count === 1) break;
      if (attempt % 100 === 99 && !isInitAlive(record.initPid, record.initStartTime)) {
        throw new Error(`container ${record.id}'s init exited before it could be started`);
      }
      if (attempt < 400) sleepSync(0.25);
      else await sleep(10);
    }
  } finally {
    closeFile(fd);
  }
  Deno.removeSync(fifoPath);
}

/** `mini-runc start`: releases a created container's init. */
export async function startContainer(runtime: RuntimeOptions, id: string): Promise<void> {
  const record = loadRecord(runtime.root, id);
  const status = containerStatus(runtime.root, record);
  if (status === "stopped") throw new Error("cannot start a container that has stopped");
  if (status !== "created") throw new Error("cannot start an already running container");
  runtimeTrace()?.step("start: open the exec FIFO", `init pid ${record.initPid}`); // --trace
  await releaseInit(runtime.root, record);
  runtimeTrace()?.step("init released: it execs the command"); // --trace
  try {
    await runHooks("poststart", record.spec.hooks?.poststart, ociState(runtime.root, record));
  } catch (error) {
    runtime.logger.warn((error as Error).message);
  }
}

/** `mini-runc state`. */
export function containerState(runtime: RuntimeOptions, id: string): OciState {
  return ociState(runtime.root, loadRecord(runtime.root, id));
}

function signalProcess(pid: number, signal: number): void {
  try {
    sendSignal(pid, signal);
  } catch (error) {
    if (!(error instanceof LinuxError && error.errno === Errno.ESRCH)) throw error;
  }
}

/** Signals every process in the container's cgroup (frozen meanwhile, for SIGKILL). */
function signalAllProcesses(record: ContainerRecord, signal: number): void {
  const cgroup = cgroupManagerAt(record.cgroup);
  let frozen = false;
  if (signal === signalNumbers.KILL) {
    try {
      cgroup.freeze(true); // no fork can slip between listing and killing
      frozen = true;
    } catch {
      // No freezer: best effort.
    }
  }
  try {
    for (const pid of cgroup.pids()) signalProcess(pid, signal);
  } finally {
    if (frozen) cgroup.freeze(false);
  }
}

/** `mini-runc kill`: one signal to the init, or to every process with `all`. */
export function killContainer(
  runtime: RuntimeOptions,
  id: string,
  signal: number,
  all: boolean,
): void {
  const record = loadRecord(runtime.root, id);
  const status = containerStatus(runtime.root, record);
  if (all) {
    signalAllProcesses(record, signal);
    return;
  }
  if (status === "stopped") throw new Error("container not running");
  signalProcess(record.initPid, signal);
}

/** Waits until the init and every process in the cgroup are gone. */
async function waitUntilEmpty(record: ContainerRecord): Promise<void> {
  const cgroup = cgroupManagerAt(record.cgroup);
  for (let attempt = 0; attempt < 2000; attempt++) {
    const initAlive = isInitAlive(record.initPid, record.initStartTime);
    if (!initAlive && cgroup.pids().length === 0) return;
    await sleep(5);
  }
  throw new Error(`processes of container ${record.id} did not exit after SIGKILL`);
}

/** Removes a stopped container: leftover processes, cgroup, state; then poststop hooks. */
async function destroyContainer(runtime: RuntimeOptions, record: ContainerRecord) {
  // Without its own PID namespace, the init's death does not take the others with it.
  if (!record.namespaces.includes("pid")) signalAllProcesses(record, signalNumbers.KILL);
  await waitUntilEmpty(record);
  cgroupManagerAt(record.cgroup).destroy();
  Deno.removeSync(stateDirectory(runtime.root, record.id), { recursive: true });
  runtimeTrace()?.step("delete: cgroup and state removed", record.id); // --trace
  const state = { ...ociState(runtime.root, record), status: "stopped" as const, pid: 0 };
  try {
    await runHooks("poststop", record.spec.hooks?.poststop, state);
  } catch (error) {
    runtime.logger.warn((error as Error).message);
  }
}

/** `mini-runc delete [--force]`. */
export async function deleteContainer(
  runtime: RuntimeOptions,
  id: string,
  force: boolean,
): Promise<void> {
  let record: ContainerRecord;
  try {
    record = loadRecord(runtime.root, id);
  } catch (error) {
    if (error instanceof ContainerNotFoundError) {
      // A create that died half-way may have left a directory without state.json.
      try {
        Deno.removeSync(stateDirectory(runtime.root, id), { recursive: true });
      } catch {
        // Nothing there either.
      }
      if (force) return;
    }
    throw error;
  }
  const status = containerStatus(runtime.root, record);
  if (status === "created" || ((status === "running" || status === "paused") && force)) {
    if (status === "paused") cgroupManagerAt(record.cgroup).freeze(false);
    signalAllProcesses(record, signalNumbers.KILL);
    signalProcess(record.initPid, signalNumbers.KILL);
  } else if (status !== "stopped") {
    throw new Error(`cannot delete container ${id} that is not stopped: ${status}`);
  }
  await destroyContainer(runtime, record);
}

/** `mini-runc pause` / `resume`: freezes or thaws every process of the container. */
export function pauseContainer(runtime: RuntimeOptions, id: string, paused: boolean): void {
  const record = loadRecord(runtime.root, id);
  const status = containerStatus(runtime.root, record);
  if (paused && status !== "running") throw new Error(`container ${id} is ${status}, not running`);
  if (!paused && status !== "paused") throw new Error(`container ${id} is ${status}, not paused`);
  cgroupManagerAt(record.cgroup).freeze(paused);
}

/** `mini-runc update`: writes new limits to a live container's cgroup and records them. */
export function updateContainer(
  runtime: RuntimeOptions,
  id: string,
  resources: LinuxResources,
): void {
  const record = loadRecord(runtime.root, id);
  if (containerStatus(runtime.root, record) === "stopped") {
    throw new Error(`container ${id} is stopped: nothing to update`);
  }
  const merged: LinuxResources = { ...record.spec.linux?.resources };
  if (resources.memory) merged.memory = { ...merged.memory, ...resources.memory };
  if (resources.cpu) merged.cpu = { ...merged.cpu, ...resources.cpu };
  if (resources.pids) merged.pids = resources.pids;
  if (resources.unified) merged.unified = { ...merged.unified, ...resources.unified };
  const spec: Spec = { ...record.spec, linux: { ...record.spec.linux, resources: merged } };
  validateSpec(spec);
  // Only the changed parts are written: rewriting device rules of a running container
  // would briefly deny its devices.
  cgroupManagerAt(record.cgroup).set({
    memory: resources.memory,
    cpu: resources.cpu,
    pids: resources.pids,
    unified: resources.unified,
  });
  saveRecord(runtime.root, { ...record, spec });
}

/** Forwards the usual terminal and job-control signals from us to `pid`. */
export function forwardSignals(pid: number): () => void {
  const signals: Deno.Signal[] = ["SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2"];
  const handlers = signals.map((signal) => {
    const handler = () => signalProcess(pid, signalNumbers[signal.slice(3)]);
    Deno.addSignalListener(signal, handler);
    return [signal, handler] as const;
  });
  return () => handlers.forEach(([signal, handler]) => Deno.removeSignalListener(signal, handler));
}

/** Options of `mini-runc run`. */
export interface RunOptions extends CreateOptions {
  detach: boolean;
  /** --keep: do not delete the container after it exits. */
  keep?: boolean;
}

/** `mini-runc run`: create + start, then (unless detached) wait and delete. */
export async function runContainer(
  runtime: RuntimeOptions,
  id: string,
  options: RunOptions,
): Promise<number> {
  const created = await createContainer(runtime, id, {
    ...options,
    foregroundTerminal: !options.detach && !options.consoleSocket,
  });
  try {
    await startContainer(runtime, id);
  } catch (error) {
    await deleteContainer(runtime, id, true).catch(() => {});
    throw error;
  }
  if (options.detach) {
    created.child.unref();
    return 0;
  }
  runtime.logger.debug("started");
  const stopForwarding = forwardSignals(created.record.initPid);
  const proxy = created.terminal === undefined ? undefined : proxyTerminal(created.terminal);
  const status = await created.child.status;
  await proxy;
  stopForwarding();
  runtime.logger.debug(`container exited: ${JSON.stringify(status)}`);
  if (!options.keep) await destroyContainer(runtime, created.record);
  runtime.logger.debug("deleted");
  return exitCodeOf(status);
}
