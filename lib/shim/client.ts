// What this teaches: the daemon's side of the shim API: a typed client on the shim's
// socket, one call per method. The daemon holds one per running task and, after a
// restart, builds a new one from the `address` file in the bundle.
// Mirrors containerd's `core/runtime/v2/shim.go` (shimTask, the TTRPC task client).

import { UnixTransport } from "../api/client.ts";
import { ApiError } from "../api/errors.ts";
import {
  type ConnectResponse,
  type ExitResult,
  type ProcessInfo,
  type ProcessState,
  SHIM_SERVICE,
  type ShimApi,
  type ShimCreateRequest,
  type ShimExecRequest,
  type StdioPaths,
} from "./types.ts";

const route = (method: string) => `/${SHIM_SERVICE}/${method}`;

/** Turns `unix:///path` into `/path`. */
export function socketPathFromAddress(address: string): string {
  return address.startsWith("unix://") ? address.slice("unix://".length) : address;
}

/** A connection to one shim. */
export class ShimClient implements ShimApi {
  readonly transport: UnixTransport;

  constructor(readonly address: string) {
    this.transport = new UnixTransport(socketPathFromAddress(address));
  }

  close(): void {
    this.transport.close();
  }

  async #call<T>(method: string, body: unknown = {}, signal?: AbortSignal): Promise<T> {
    try {
      return await this.transport.call<T>(route(method), body, { signal });
    } catch (error) {
      if (error instanceof ApiError && error.code === "unavailable") {
        throw new ApiError(
          "unavailable",
          `shim at ${this.address} does not answer: ${error.message}`,
        );
      }
      throw error;
    }
  }

  connect(): Promise<ConnectResponse> {
    return this.#call("Connect");
  }

  create(request: ShimCreateRequest): Promise<{ pid: number }> {
    return this.#call("Create", request);
  }

  start(execId?: string): Promise<{ pid: number }> {
    return this.#call("Start", { execId });
  }

  state(execId?: string): Promise<ProcessState> {
    return this.#call("State", { execId });
  }

  async kill(signal: number, options: { execId?: string; all?: boolean } = {}): Promise<void> {
    await this.#call("Kill", { signal, ...options });
  }

  wait(execId?: string, signal?: AbortSignal): Promise<ExitResult> {
    return this.#call("Wait", { execId }, signal);
  }

  async exec(request: ShimExecRequest): Promise<void> {
    await this.#call("Exec", request);
  }

  async pids(): Promise<ProcessInfo[]> {
    return (await this.#call<{ processes: ProcessInfo[] }>("Pids")).processes;
  }

  async closeIO(execId?: string): Promise<void> {
    await this.#call("CloseIO", { execId });
  }

  async attach(stdio: StdioPaths, execId?: string): Promise<void> {
    await this.#call("Attach", { stdio, execId });
  }

  async resizePty(width: number, height: number, execId?: string): Promise<void> {
    await this.#call("ResizePty", { width, height, execId });
  }

  async pause(): Promise<void> {
    await this.#call("Pause");
  }

  async resume(): Promise<void> {
    await this.#call("Resume");
  }

  delete(execId?: string): Promise<ExitResult> {
    return this.#call("Delete", { execId });
  }

  async shutdown(): Promise<void> {
    await this.#call("Shutdown");
  }
}
