// What this teaches: `docker exec` is two API calls, and the daemon remembers what
// happens between and after them. `POST /containers/{id}/exec` only records an exec
// instance (command, user, tty, which streams) and returns its ID; `POST
// /exec/{id}/start` runs it; `GET /exec/{id}/json` then tells the CLI the exit code it
// exits with. The instance outlives its process so that last question can be answered,
// and goes away with its container.
// Mirrors moby's daemon/exec/exec.go (Config, Store) and the ExecInspect shape of
// api/types/backend.

import type { ProcessStdio } from "./streams.ts";
import type { ExecCreateBody } from "./types.ts";

/** One exec instance. */
export class ExecInstance {
  running = false;
  /** null until the process ended. */
  exitCode: number | null = null;
  pid = 0;
  /** Set once `start` was called: an instance runs at most once. */
  started = false;
  stdio?: ProcessStdio;
  /** Resolves when the process started (resize waits for it) or failed to. */
  readonly ready = Promise.withResolvers<void>();
  /** Resolves when the exit code is known. */
  readonly exited = Promise.withResolvers<void>();

  constructor(
    readonly id: string,
    readonly containerId: string,
    readonly config: ExecCreateBody & { Cmd: string[] },
  ) {
    this.ready.promise.catch(() => {});
  }

  get tty(): boolean {
    return this.config.Tty ?? false;
  }

  /** Records the exit (first report wins: the event and the fallback query may both come). */
  recordExit(exitCode: number): void {
    if (this.exitCode !== null) return;
    this.exitCode = exitCode;
    this.running = false;
    this.exited.resolve();
  }

  /** The body of `GET /exec/{id}/json`. */
  inspect(): Record<string, unknown> {
    const [entrypoint, ...args] = this.config.Cmd ?? [];
    return {
      ID: this.id,
      Running: this.running,
      ExitCode: this.exitCode,
      ProcessConfig: {
        tty: this.tty,
        entrypoint,
        arguments: args,
        privileged: this.config.Privileged ?? false,
        ...(this.config.User ? { user: this.config.User } : {}),
      },
      OpenStdin: this.config.AttachStdin ?? false,
      OpenStderr: this.config.AttachStderr ?? false,
      OpenStdout: this.config.AttachStdout ?? false,
      CanRemove: false,
      ContainerID: this.containerId,
      DetachKeys: this.config.DetachKeys ?? "",
      Pid: this.pid,
    };
  }
}

/** Every exec instance, by ID. */
export class ExecStore {
  readonly #execs = new Map<string, ExecInstance>();

  add(instance: ExecInstance): void {
    this.#execs.set(instance.id, instance);
  }

  get(id: string): ExecInstance | undefined {
    return this.#execs.get(id);
  }

  /** The instances of one container. */
  ofContainer(containerId: string): ExecInstance[] {
    return [...this.#execs.values()].filter((instance) => instance.containerId === containerId);
  }

  /** Forgets a container's instances (it was removed). */
  deleteContainer(containerId: string): void {
    for (const instance of this.ofContainer(containerId)) this.#execs.delete(instance.id);
  }
}
