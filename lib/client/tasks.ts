// What this teaches: a typed client for the Tasks service. Each call is one route;
// `wait` is a long poll that returns when the process exits.
// Mirrors containerd's `client/task.go` and `client/process.go`.

import type { UnixTransport } from "../api/client.ts";
import { TASKS_SERVICE } from "../api/services.ts";
import type { ProcessInfo, StdioPaths } from "../shim/types.ts";
import type {
  CreateTaskRequest,
  ExecProcessRequest,
  TaskExit,
  TaskInfo,
  TasksApi,
} from "../tasks/types.ts";

const route = (method: string) => `/${TASKS_SERVICE}/${method}`;

/** Client for the Tasks service in one namespace. */
export class TasksClient implements TasksApi {
  constructor(private readonly transport: UnixTransport, private readonly namespace: string) {}

  async #call<T>(method: string, body: unknown, signal?: AbortSignal): Promise<T> {
    return await this.transport.call<T>(route(method), body, { namespace: this.namespace, signal });
  }

  create(request: CreateTaskRequest): Promise<{ containerId: string; pid: number }> {
    return this.#call("Create", request);
  }

  start(containerId: string, execId?: string): Promise<{ pid: number }> {
    return this.#call("Start", { containerId, execId });
  }

  async get(containerId: string, execId?: string): Promise<TaskInfo> {
    return (await this.#call<{ process: TaskInfo }>("Get", { containerId, execId })).process;
  }

  async list(): Promise<TaskInfo[]> {
    return (await this.#call<{ tasks: TaskInfo[] }>("List", {})).tasks;
  }

  async kill(
    containerId: string,
    signal: number,
    options: { execId?: string; all?: boolean } = {},
  ): Promise<void> {
    await this.#call("Kill", { containerId, signal, ...options });
  }

  /** Resolves with the exit once the process ended (a long poll). */
  wait(containerId: string, execId?: string, signal?: AbortSignal): Promise<TaskExit> {
    return this.#call("Wait", { containerId, execId }, signal);
  }

  async exec(request: ExecProcessRequest): Promise<void> {
    await this.#call("Exec", request);
  }

  async pids(containerId: string): Promise<ProcessInfo[]> {
    return (await this.#call<{ processes: ProcessInfo[] }>("ListPids", { containerId })).processes;
  }

  async closeIO(containerId: string, execId?: string): Promise<void> {
    await this.#call("CloseIO", { containerId, execId });
  }

  async attach(containerId: string, stdio: StdioPaths, execId?: string): Promise<void> {
    await this.#call("Attach", { containerId, stdio, execId });
  }

  async resizePty(
    containerId: string,
    width: number,
    height: number,
    execId?: string,
  ): Promise<void> {
    await this.#call("ResizePty", { containerId, width, height, execId });
  }

  async pause(containerId: string): Promise<void> {
    await this.#call("Pause", { containerId });
  }

  async resume(containerId: string): Promise<void> {
    await this.#call("Resume", { containerId });
  }

  delete(containerId: string): Promise<TaskExit> {
    return this.#call("Delete", { containerId });
  }

  deleteProcess(containerId: string, execId: string): Promise<TaskExit> {
    return this.#call("DeleteProcess", { containerId, execId });
  }
}
