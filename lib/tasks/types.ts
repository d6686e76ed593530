// What this teaches: a task is a container's running side: a process tree started from
// a container record, owned by one shim. The daemon's task API adds little to the
// shim's: it finds the container, prepares the bundle, starts the shim, and then
// forwards each call. Mirrors containerd's `api/services/tasks/v1/tasks.proto` and
// `core/runtime/task.go`.

import type { Process } from "../oci_spec/types.ts";
import type { ProcessInfo, ProcessStatus, StdioPaths } from "../shim/types.ts";

/** Tasks.Create: start a shim for the container and create (not start) its init. */
export interface CreateTaskRequest {
  containerId: string;
  /** FIFO paths the client opened (`ctr run` in the foreground); none for a detached task. */
  stdio?: StdioPaths;
  /** Where the shim logs the container's output (default `<bundle>/container.log`). */
  logPath?: string;
}

/** What Get and List report about a task (or, with execId, one of its exec processes). */
export interface TaskInfo {
  /** The container ID. */
  id: string;
  /** The exec ID, "" for the init. */
  execId: string;
  pid: number;
  status: ProcessStatus;
  exitStatus: number;
  exitedAt?: string;
  stdio: StdioPaths;
  logPath: string;
  bundle: string;
  /** The shim's pid (0 once the shim is gone). */
  shimPid: number;
  oomKilled: boolean;
}

/** An exit as Wait and Delete report it. */
export interface TaskExit {
  id: string;
  pid: number;
  exitStatus: number;
  exitedAt: string;
}

/** Tasks.Exec: an extra process in a running task. */
export interface ExecProcessRequest {
  containerId: string;
  execId: string;
  spec: Process;
  stdio?: StdioPaths;
}

/** The Tasks service seen through the API, one namespace at a time. */
export interface TasksApi {
  create(request: CreateTaskRequest): Promise<{ containerId: string; pid: number }>;
  start(containerId: string, execId?: string): Promise<{ pid: number }>;
  get(containerId: string, execId?: string): Promise<TaskInfo>;
  list(): Promise<TaskInfo[]>;
  kill(
    containerId: string,
    signal: number,
    options?: { execId?: string; all?: boolean },
  ): Promise<void>;
  wait(containerId: string, execId?: string): Promise<TaskExit>;
  exec(request: ExecProcessRequest): Promise<void>;
  pids(containerId: string): Promise<ProcessInfo[]>;
  closeIO(containerId: string, execId?: string): Promise<void>;
  attach(containerId: string, stdio: StdioPaths, execId?: string): Promise<void>;
  resizePty(containerId: string, width: number, height: number, execId?: string): Promise<void>;
  pause(containerId: string): Promise<void>;
  resume(containerId: string): Promise<void>;
  delete(containerId: string): Promise<TaskExit>;
  deleteProcess(containerId: string, execId: string): Promise<TaskExit>;
}
