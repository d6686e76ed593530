// What this teaches: the contract between a container daemon and the one shim it runs
// per container. The daemon never touches a container's processes itself: it asks the
// shim (Create, Start, Kill, Wait, Exec, Delete...) over the shim's own socket, and the
// shim drives the OCI runtime, holds the stdio, reaps the processes and keeps their
// exit statuses. Mirrors containerd's `api/runtime/task/v2/shim.proto` (service
// `containerd.task.v2.Task`); mini carries it as JSON over HTTP on a Unix socket.

import type { Mount } from "../mount/types.ts";
import type { Process } from "../oci_spec/types.ts";

/** The route prefix of the shim API, containerd's TTRPC service name. */
export const SHIM_SERVICE = "containerd.task.v2.Task";

/** The version the shim reports in Connect. */
export const SHIM_VERSION = "mini-shim-1";

/** A process's lifecycle, as `ctr tasks ls` prints it (upper-cased). */
export type ProcessStatus = "created" | "running" | "stopped" | "paused" | "unknown";

/**
 * Where a process's stdio goes: FIFO paths the client has opened (the containerd `cio`
 * way), or nothing (output then lands only in the log file). `terminal` asks for a pty.
 */
export interface StdioPaths {
  stdin?: string;
  stdout?: string;
  stderr?: string;
  terminal?: boolean;
}

/** Shim Create: make the container (runtime `create`), not yet start it. */
export interface ShimCreateRequest {
  id: string;
  bundle: string;
  /** Mounts that assemble the root filesystem at `<bundle>/rootfs`; empty when the spec's root is absolute. */
  rootfs: Mount[];
  stdio: StdioPaths;
  /** Where the container's output is logged as JSON lines (default `<bundle>/container.log`). */
  logPath?: string;
}

/** Shim Exec: register an extra process inside the running container (Start runs it). */
export interface ShimExecRequest {
  execId: string;
  /** The OCI process to run (args, env, cwd, user...). */
  process: Process;
  stdio: StdioPaths;
}

/** What State reports about the init (no execId) or an exec process. */
export interface ProcessState {
  /** The container ID. */
  id: string;
  /** The exec ID; "" for the init process. */
  execId: string;
  pid: number;
  status: ProcessStatus;
  /** Valid when status is "stopped": 0-255, or 128+N for death by signal N. */
  exitStatus: number;
  exitedAt?: string;
  bundle: string;
  stdio: StdioPaths;
  /** The kernel's OOM killer killed a process of the container. */
  oomKilled: boolean;
  /** Where this process's output is logged. */
  logPath: string;
}

/** An exit, as Wait and Delete report it. */
export interface ExitResult {
  pid: number;
  exitStatus: number;
  exitedAt: string;
}

/** One process in the container, as Pids reports it. */
export interface ProcessInfo {
  pid: number;
  /** The exec ID when the process is an exec process the shim started. */
  execId?: string;
}

/** What Connect answers: who the shim is and what it runs. */
export interface ConnectResponse {
  shimPid: number;
  taskPid: number;
  version: string;
}

/** The command line of `mini-containerd-shim`, as `ps axf` shows it. */
export interface ShimArguments {
  namespace: string;
  id: string;
  /** mini-containerd's socket, where the shim publishes its events. */
  address: string;
  /** The bundle directory (`<state>/io.containerd.runtime.v2.task/<ns>/<id>`). */
  workdir: string;
  /** The OCI runtime binary (mini-runc or runc). */
  runtimeBinary: string;
  /** The runtime's `--root` state directory. */
  runtimeRoot: string;
  debug: boolean;
}

/** The shim API (what the daemon's ShimClient calls, what the shim's TaskService serves). */
export interface ShimApi {
  connect(): Promise<ConnectResponse>;
  create(request: ShimCreateRequest): Promise<{ pid: number }>;
  start(execId?: string): Promise<{ pid: number }>;
  state(execId?: string): Promise<ProcessState>;
  kill(signal: number, options?: { execId?: string; all?: boolean }): Promise<void>;
  wait(execId?: string, signal?: AbortSignal): Promise<ExitResult>;
  exec(request: ShimExecRequest): Promise<void>;
  pids(): Promise<ProcessInfo[]>;
  closeIO(execId?: string): Promise<void>;
  /** Connects new FIFOs to a running process's stdio (`ctr tasks attach`). */
  attach(stdio: StdioPaths, execId?: string): Promise<void>;
  /** Sets a terminal's size in character cells. */
  resizePty(width: number, height: number, execId?: string): Promise<void>;
  pause(): Promise<void>;
  resume(): Promise<void>;
  delete(execId?: string): Promise<ExitResult>;
  shutdown(): Promise<void>;
}
