// What this teaches: inside the shim every container process (the init, and each exec
// process) is a small state machine: created → running (→ paused → running) → stopped,
// and once stopped it keeps its exit status and time until the daemon deletes it.
// Keeping the status is the point: whoever asks later (a Wait issued after the exit, a
// daemon that was down when it happened) still gets the answer.
// Mirrors containerd's `cmd/containerd-shim-runc-v2/process/{init.go,exec.go}` and
// their state files (init_state.go, exec_state.go).

import type { Process } from "../oci_spec/types.ts";
import type { ProcessStdio } from "./io.ts";
import type { ExitResult, ProcessState, ProcessStatus, StdioPaths } from "./types.ts";

/** One process of the container, as the shim tracks it. */
export class ContainerProcess {
  status: ProcessStatus = "created";
  pid = 0;
  exit?: ExitResult;
  io?: ProcessStdio;
  oomKilled = false;
  /**
   * Set while Start runs. An exit that arrives meanwhile (a command that ends at once)
   * waits for it, so `/tasks/exit` is never published before `/tasks/start`.
   */
  starting?: Promise<void>;
  /**
   * The process handle when the shim spawned the process itself (mini-runc in-process):
   * Deno reaps it, so its status comes from here rather than from waitpid().
   */
  child?: Deno.ChildProcess;
  readonly #exited = Promise.withResolvers<ExitResult>();

  constructor(
    readonly containerId: string,
    /** "" for the container's init, else the exec ID. */
    readonly execId: string,
    readonly stdio: StdioPaths,
    readonly logPath: string,
    /** For exec processes: the OCI process to run. */
    readonly spec?: Process,
  ) {}

  /** Resolves when the process has ended (at once if it already has). */
  get exited(): Promise<ExitResult> {
    return this.#exited.promise;
  }

  /** Records the exit; the status stays until the process is deleted. */
  markExited(exitStatus: number): ExitResult {
    this.exit = { pid: this.pid, exitStatus, exitedAt: new Date().toISOString() };
    this.status = "stopped";
    this.#exited.resolve(this.exit);
    return this.exit;
  }

  /** Moves to `status` unless the process already stopped (an exit can beat a Start reply). */
  transition(status: Exclude<ProcessStatus, "stopped">): void {
    if (this.status !== "stopped") this.status = status;
  }

  /** The State answer for this process. */
  state(bundle: string): ProcessState {
    return {
      id: this.containerId,
      execId: this.execId,
      pid: this.pid,
      status: this.status,
      exitStatus: this.exit?.exitStatus ?? 0,
      exitedAt: this.exit?.exitedAt,
      bundle,
      stdio: this.stdio,
      oomKilled: this.oomKilled,
      logPath: this.logPath,
    };
  }
}
