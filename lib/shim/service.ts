// What this teaches: what a shim does for its one container. Create mounts the rootfs
// into the bundle and runs `runtime create` with pipes the shim keeps as the
// container's stdio; Start runs `runtime start`; a helper thread per process waits for
// its exit (the shim is their subreaper), drains its output, checks the cgroup for an
// OOM kill, records the status and publishes `/tasks/exit`. Exec runs extra processes
// with `runtime exec --detach`. Delete runs `runtime delete` and unmounts the rootfs.
// With this repository's mini-runc the runtime runs in-process (runtime_in_process.ts).
// Mirrors containerd's `cmd/containerd-shim-runc-v2/task/service.go` and
// `cmd/containerd-shim-runc-v2/runc/container.go`.

import {
  alreadyExists,
  ApiError,
  failedPrecondition,
  invalidArgument,
  notFound,
} from "../api/errors.ts";
import { validateIdentifier } from "../api/identifiers.ts";
import { Topics } from "../events/types.ts";
import type { EventPublisher } from "../events/types.ts";
import { kill as sendSignal } from "../linux/identity.ts";
import { mountAll, unmountAll } from "../mount/mount.ts";
import { bundlePaths, execPaths, shimSocketPath } from "./bundle.ts";
import { ProcessIo } from "./io.ts";
import { type MemoryCgroup, memoryCgroupOf, oomKillCount } from "./oom.ts";
import { ContainerProcess } from "./process.ts";
import { waitForChild } from "./reaper.ts";
import { apiErrorFromRuntime, type OciRuntime, type RuntimeStdio } from "./runtime.ts";
import { InProcessMiniRunc, openRuntime } from "./runtime_in_process.ts";
import { abandonInit, type LaunchedInit } from "../runtime/launch.ts";
import { ConsoleSocket, TerminalIo } from "./terminal.ts";
import { raceTimeout } from "./timeouts.ts";
import { currentTrace } from "../trace/active.ts";
import { describeMountsForTrace } from "../trace/describe.ts";
import {
  type ConnectResponse,
  type ExitResult,
  type ProcessInfo,
  type ProcessState,
  SHIM_VERSION,
  type ShimArguments,
  type ShimCreateRequest,
  type ShimExecRequest,
  type StdioPaths,
} from "./types.ts";

/** How the shim logs (its stderr is `<bundle>/shim.log`). */
export interface ShimLog {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/** How long Delete waits for a created-but-never-started init to die after `delete --force`. */
const KILLED_INIT_TIMEOUT_MS = 5_000;

/** The task service of one shim: one container, its init and its exec processes. */
export class TaskService {
  readonly runtime: OciRuntime;
  readonly #paths: ReturnType<typeof bundlePaths>;
  #init?: ContainerProcess;
  readonly #execs = new Map<string, ContainerProcess>();
  #rootfsMounted = false;
  #memoryCgroup?: MemoryCgroup;
  #oomReported = false;
  #deleted = false;
  #consoles = 0;
  readonly #shutdownRequested = Promise.withResolvers<void>();

  /** An init spawned at shim start-up for the in-process create (prelaunch.ts). */
  #prelaunched?: LaunchedInit;
  #initSpawnedEarly = false;

  constructor(
    readonly args: ShimArguments,
    private readonly publisher: EventPublisher,
    private readonly log: ShimLog,
    prelaunched?: LaunchedInit,
  ) {
    this.#prelaunched = prelaunched;
    this.#paths = bundlePaths(args.workdir);
    this.runtime = openRuntime(args.runtimeBinary, args.runtimeRoot, this.#paths.runtimeLog);
  }

  /** Resolves when the daemon asked the shim to exit. */
  get shutdownRequested(): Promise<void> {
    return this.#shutdownRequested.promise;
  }

  connect(): ConnectResponse {
    return { shimPid: Deno.pid, taskPid: this.#init?.pid ?? 0, version: SHIM_VERSION };
  }

  /** Creates the container: mounts, `runtime create`, stdio, reaping. */
  async create(request: ShimCreateRequest): Promise<{ pid: number }> {
    if (this.#init) throw alreadyExists(`task ${this.args.id} already exists in this shim`);
    if (request.id !== this.args.id) {
      throw invalidArgument(`this shim serves container ${this.args.id}, not ${request.id}`);
    }
    if (request.bundle && request.bundle !== this.args.workdir) {
      throw invalidArgument(`this shim's bundle is ${this.args.workdir}, not ${request.bundle}`);
    }
    const init = new ContainerProcess(
      this.args.id,
      "",
      request.stdio ?? {},
      request.logPath || this.#paths.containerLog,
    );
    // Claim the slot now: a second Create while this one runs must fail, not race.
    this.#init = init;
    try {
      if ((request.rootfs ?? []).length > 0) {
        await Deno.mkdir(this.#paths.rootfs, { recursive: true });
        currentTrace()?.step("mount rootfs", describeMountsForTrace(request.rootfs)); // --trace
        mountAll(request.rootfs, this.#paths.rootfs);
        this.#rootfsMounted = true;
      }
      if (this.runtime instanceof InProcessMiniRunc && !init.stdio.terminal) {
        await this.#createInProcess(init, this.runtime);
      } else {
        await this.abandonPrelaunched();
        await this.#spawnWithStdio(
          init,
          "create",
          (stdio) =>
            this.runtime.spawnCreate(this.args.id, this.args.workdir, this.#paths.initPid, stdio),
        );
        init.pid = Number((await Deno.readTextFile(this.#paths.initPid)).trim());
      }
    } catch (error) {
      this.#init = undefined;
      // Whatever the runtime got to create before the failure is taken down again.
      await this.runtime.delete(this.args.id, true).catch(() => {});
      await init.io?.close();
      await this.#unmountRootfs();
      throw apiErrorFromRuntime(error);
    }
    this.#memoryCgroup = memoryCgroupOf(init.pid);
    this.#reap(init);
    this.log.info("container created", {
      pid: init.pid,
      runtime: init.child ? "in-process" : this.args.runtimeBinary,
      initSpawnedEarly: this.#initSpawnedEarly,
    });
    this.publisher.publish(this.args.namespace, Topics.taskCreate, {
      containerId: this.args.id,
      bundle: this.args.workdir,
      pid: init.pid,
    });
    return { pid: init.pid };
  }

  /** Starts the init (`runtime start`) or a registered exec process (`runtime exec`). */
  async start(execId = ""): Promise<{ pid: number }> {
    const process = this.#process(execId);
    if (process.status !== "created") {
      throw failedPrecondition(
        `${describe(process)} is ${process.status}, only a created process can be started`,
      );
    }
    const started = Promise.withResolvers<void>();
    process.starting = started.promise;
    try {
      if (execId === "") {
        try {
          await this.runtime.start(this.args.id);
        } catch (error) {
          throw apiErrorFromRuntime(error);
        }
        process.transition("running");
        this.publisher.publish(this.args.namespace, Topics.taskStart, {
          containerId: this.args.id,
          pid: process.pid,
        });
      } else {
        await this.#startExec(process);
      }
      return { pid: process.pid };
    } finally {
      started.resolve();
      process.starting = undefined;
    }
  }

  async #startExec(process: ContainerProcess): Promise<void> {
    const init = this.#requireInit();
    if (init.status !== "running") {
      throw failedPrecondition(`cannot exec in container ${this.args.id}: it is ${init.status}`);
    }
    const paths = execPaths(this.args.workdir, process.execId);
    await Deno.writeTextFile(paths.process, JSON.stringify(process.spec));
    try {
      await this.#spawnWithStdio(
        process,
        "exec",
        (stdio) =>
          this.runtime.spawnExec(this.args.id, paths.process, paths.pid, this.args.workdir, stdio),
      );
      process.pid = Number((await Deno.readTextFile(paths.pid)).trim());
    } catch (error) {
      await process.io?.close();
      process.markExited(255);
      this.#execs.delete(process.execId);
      throw apiErrorFromRuntime(error);
    }
    process.transition("running");
    this.#reap(process);
    this.publisher.publish(this.args.namespace, Topics.taskExecStarted, {
      containerId: this.args.id,
      execId: process.execId,
      pid: process.pid,
    });
  }

  /**
   * Runs the runtime invocation that creates a process (`create` or `exec`) with its
   * stdio: pipes the shim keeps, or a terminal received over a console socket.
   */
  async #spawnWithStdio(
    process: ContainerProcess,
    command: "create" | "exec",
    spawn: (stdio: RuntimeStdio) => Deno.ChildProcess,
  ): Promise<void> {
    if (!process.stdio.terminal) {
      const io = await ProcessIo.open(process.logPath, process.stdio);
      const started = Date.now();
      const child = spawn({ stdin: io.wantsStdin });
      try {
        await this.runtime.finishSpawned(command, child, started);
      } catch (error) {
        await io.close();
        throw error;
      }
      io.connect(child);
      process.io = io;
      return;
    }
    const socketPath = await shimSocketPath(this.args.address, this.args.namespace, this.args.id);
    const consoleSocket = await ConsoleSocket.listen(`${socketPath}.console${++this.#consoles}`);
    let io: TerminalIo | undefined;
    try {
      io = await TerminalIo.open(process.logPath, process.stdio);
      const started = Date.now();
      const child = spawn({ stdin: false, consoleSocket: consoleSocket.path });
      await this.runtime.finishSpawned(command, child, started);
      // With a terminal the runtime's own pipes carry nothing of the container's.
      child.stdout.cancel().catch(() => {});
      child.stderr.cancel().catch(() => {});
      io.connect(await consoleSocket.receive(), process.stdio.stdin);
      process.io = io;
    } catch (error) {
      await io?.close();
      throw error;
    } finally {
      await consoleSocket.close();
    }
  }

  /** `create` with mini-runc as a library: the init is our child, its pipes our stdio. */
  async #createInProcess(init: ContainerProcess, runtime: InProcessMiniRunc): Promise<void> {
    const prelaunched = this.#prelaunched;
    this.#prelaunched = undefined;
    let io: ProcessIo;
    try {
      io = await ProcessIo.open(init.logPath, init.stdio);
    } catch (error) {
      if (prelaunched) await abandonInit(prelaunched);
      throw error;
    }
    let child: Deno.ChildProcess;
    try {
      child = await runtime.createInProcess(
        this.args.id,
        this.args.workdir,
        this.#paths.initPid,
        io.wantsStdin,
        prelaunched,
      );
    } catch (error) {
      await io.close();
      throw error;
    }
    this.#initSpawnedEarly = prelaunched !== undefined;
    // A prelaunched init always has a stdin pipe: closed here, it reads as /dev/null would.
    if (!io.wantsStdin && prelaunched) child.stdin.close().catch(() => {});
    io.connect(child);
    init.io = io;
    init.child = child;
    init.pid = child.pid;
  }

  /** Ends an init spawned at start-up that no Create will use (kill, reap). */
  async abandonPrelaunched(): Promise<void> {
    const prelaunched = this.#prelaunched;
    this.#prelaunched = undefined;
    if (prelaunched && !prelaunched.adopted) await abandonInit(prelaunched);
  }

  /** Sets the terminal size of the init or an exec process (`ctr` sends it on SIGWINCH). */
  resizePty(execId: string, width: number, height: number): void {
    const process = this.#process(execId);
    if (!process.stdio.terminal || !process.io?.resize) {
      throw failedPrecondition(`${describe(process)} has no terminal`);
    }
    if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
      throw invalidArgument(`terminal size ${width}x${height} is not a size in cells`);
    }
    process.io.resize(width, height);
  }

  /** Waits for the process in the background and records how it ended. */
  #reap(process: ContainerProcess): void {
    const exitStatus = process.child && this.runtime instanceof InProcessMiniRunc
      ? this.runtime.initExitStatus(process.child)
      : waitForChild(process.pid);
    exitStatus.then(async (exitStatus) => {
      await process.io?.close();
      await process.starting;
      const kills = oomKillCount(this.#memoryCgroup);
      if (kills > 0) {
        process.oomKilled = exitStatus === 137;
        if (!this.#oomReported) {
          this.#oomReported = true;
          this.publisher.publish(this.args.namespace, Topics.taskOOM, {
            containerId: this.args.id,
          });
        }
      }
      const exit = process.markExited(exitStatus);
      this.log.info("process exited", {
        execId: process.execId || "init",
        pid: process.pid,
        status: exitStatus,
      });
      currentTrace()?.step(
        "reaped",
        `pid ${process.pid} exited with status ${exitStatus}: publish /tasks/exit`,
      ); // --trace
      this.publisher.publish(this.args.namespace, Topics.taskExit, {
        containerId: this.args.id,
        id: process.execId || this.args.id,
        pid: process.pid,
        exitStatus: exit.exitStatus,
        exitedAt: exit.exitedAt,
      });
    }).catch((error) => this.log.error("reaping failed", { pid: process.pid, error }));
  }

  state(execId = ""): ProcessState {
    return this.#process(execId).state(this.args.workdir);
  }

  /** Signals the init (through the runtime, `all` for every process) or an exec process. */
  async kill(signal: number, options: { execId?: string; all?: boolean } = {}): Promise<void> {
    if (!Number.isInteger(signal) || signal < 1 || signal > 64) {
      throw invalidArgument(`signal ${signal} is not a signal number (1-64)`);
    }
    const process = this.#process(options.execId ?? "");
    if (process.status === "stopped") {
      throw notFound(
        `${describe(process)} already finished (exit status ${process.exit?.exitStatus})`,
      );
    }
    if (process.execId === "") {
      try {
        await this.runtime.kill(this.args.id, signal, options.all ?? false);
      } catch (error) {
        throw apiErrorFromRuntime(error);
      }
      return;
    }
    if (process.status === "created") {
      throw failedPrecondition(`${describe(process)} has not been started`);
    }
    sendSignal(process.pid, signal);
  }

  /** Resolves with the exit once the process ended (at once if it already has). */
  async wait(execId = "", signal?: AbortSignal): Promise<ExitResult> {
    const process = this.#process(execId);
    if (!signal) return await process.exited;
    const aborted = new Promise<never>((_, reject) => {
      const onAbort = () => reject(new ApiError("aborted", "wait was cancelled"));
      if (signal.aborted) onAbort();
      signal.addEventListener("abort", onAbort, { once: true });
    });
    return await Promise.race([process.exited, aborted]);
  }

  /** Registers an exec process; Start runs it. */
  exec(request: ShimExecRequest): void {
    validateIdentifier("exec id", request?.execId ?? "");
    const init = this.#requireInit();
    if (init.status !== "running") {
      throw failedPrecondition(`cannot exec in container ${this.args.id}: it is ${init.status}`);
    }
    if (this.#execs.has(request.execId)) {
      throw alreadyExists(`exec process ${request.execId} already exists in ${this.args.id}`);
    }
    const spec = request.process;
    if (!spec || !Array.isArray(spec.args) || spec.args.length === 0) {
      throw invalidArgument("exec process needs args (the command to run)");
    }
    const process = new ContainerProcess(
      this.args.id,
      request.execId,
      request.stdio ?? {},
      execPaths(this.args.workdir, request.execId).log,
      {
        ...spec,
        terminal: Boolean(request.stdio?.terminal),
        cwd: spec.cwd || "/",
        user: spec.user ?? { uid: 0, gid: 0 },
      },
    );
    this.#execs.set(request.execId, process);
    this.publisher.publish(this.args.namespace, Topics.taskExecAdded, {
      containerId: this.args.id,
      execId: request.execId,
    });
  }

  /** Every process in the container (`runtime ps`), with exec IDs where the shim knows them. */
  async pids(): Promise<ProcessInfo[]> {
    const init = this.#requireInit();
    if (init.status === "stopped") return [];
    let pids: number[];
    try {
      pids = await this.runtime.ps(this.args.id);
    } catch (error) {
      throw apiErrorFromRuntime(error);
    }
    return pids.map((pid) => {
      const exec = [...this.#execs.values()].find((process) => process.pid === pid);
      return exec ? { pid, execId: exec.execId } : { pid };
    });
  }

  closeIO(execId = ""): void {
    this.#process(execId).io?.closeStdin();
  }

  /** Connects a client's FIFOs to a running process (its output from now on, its stdin). */
  async attach(stdio: StdioPaths, execId = ""): Promise<void> {
    const process = this.#process(execId);
    if (process.status === "stopped" || !process.io) {
      throw failedPrecondition(`${describe(process)} is ${process.status}: nothing to attach to`);
    }
    await process.io.attach(stdio ?? {});
  }

  async pause(): Promise<void> {
    const init = this.#requireInit();
    if (init.status !== "running") {
      throw failedPrecondition(`task ${this.args.id} is ${init.status}`);
    }
    try {
      await this.runtime.pause(this.args.id);
    } catch (error) {
      throw apiErrorFromRuntime(error);
    }
    init.transition("paused");
    this.publisher.publish(this.args.namespace, Topics.taskPaused, { containerId: this.args.id });
  }

  async resume(): Promise<void> {
    const init = this.#requireInit();
    if (init.status !== "paused") throw failedPrecondition(`task ${this.args.id} is not paused`);
    try {
      await this.runtime.resume(this.args.id);
    } catch (error) {
      throw apiErrorFromRuntime(error);
    }
    init.transition("running");
    this.publisher.publish(this.args.namespace, Topics.taskResumed, { containerId: this.args.id });
  }

  /**
   * Deletes a stopped exec process, or the container: `runtime delete` (forced for a
   * created init that never ran), unmount the rootfs. The exit status is the answer.
   */
  async delete(execId = ""): Promise<ExitResult> {
    const process = this.#process(execId);
    if (execId !== "") {
      if (process.status !== "stopped" && process.status !== "created") {
        throw failedPrecondition(`${describe(process)} is ${process.status}: kill it first`);
      }
      this.#execs.delete(execId);
      const exit = process.exit ?? { pid: 0, exitStatus: 0, exitedAt: new Date().toISOString() };
      await Deno.remove(execPaths(this.args.workdir, execId).process).catch(() => {});
      await Deno.remove(execPaths(this.args.workdir, execId).pid).catch(() => {});
      this.#publishDelete(execId, exit);
      return exit;
    }
    if (process.status !== "stopped" && process.status !== "created") {
      throw failedPrecondition(
        `task ${this.args.id} is ${process.status}: kill it first (or force the removal)`,
      );
    }
    const neverStarted = process.status === "created";
    try {
      await this.runtime.delete(this.args.id, neverStarted);
    } catch (error) {
      const apiError = apiErrorFromRuntime(error);
      // Already gone from the runtime's state is what we wanted anyway.
      if (!(apiError instanceof ApiError && apiError.code === "not_found")) throw apiError;
    }
    if (neverStarted) await raceTimeout(process.exited, KILLED_INIT_TIMEOUT_MS);
    await process.io?.close();
    await this.#unmountRootfs();
    this.#deleted = true;
    const exit = process.exit ??
      { pid: process.pid, exitStatus: 137, exitedAt: new Date().toISOString() };
    this.#publishDelete(this.args.id, exit);
    this.log.info("container deleted", { status: exit.exitStatus });
    return exit;
  }

  /** Lets the shim exit, once its container is deleted (or was never created). */
  shutdown(): void {
    if (this.#init && !this.#deleted) {
      throw failedPrecondition(
        `shim of ${this.args.id} still has a task (${this.#init.status}): delete it first`,
      );
    }
    this.#shutdownRequested.resolve();
  }

  #publishDelete(id: string, exit: ExitResult): void {
    this.publisher.publish(this.args.namespace, Topics.taskDelete, {
      containerId: this.args.id,
      id,
      pid: exit.pid,
      exitStatus: exit.exitStatus,
      exitedAt: exit.exitedAt,
    });
  }

  async #unmountRootfs(): Promise<void> {
    if (!this.#rootfsMounted) return;
    await unmountAll(this.#paths.rootfs);
    this.#rootfsMounted = false;
  }

  #requireInit(): ContainerProcess {
    if (!this.#init || this.#deleted) {
      throw notFound(`task ${this.args.id} not found: it was not created yet, or was deleted`);
    }
    return this.#init;
  }

  #process(execId: string): ContainerProcess {
    if (execId === "" || execId === undefined) return this.#requireInit();
    this.#requireInit();
    const process = this.#execs.get(execId);
    if (!process) throw notFound(`exec process ${execId} not found in task ${this.args.id}`);
    return process;
  }
}

function describe(process: ContainerProcess): string {
  return process.execId === ""
    ? `task ${process.containerId}`
    : `exec process ${process.execId} of ${process.containerId}`;
}
