// What this teaches: a shim drives the OCI runtime only through its command line, the
// same one for runc and mini-runc: `create --bundle B --pid-file P ID`, `start ID`,
// `exec --process F --detach --pid-file P ID`, `kill ID SIG`, `delete ID`, `ps`,
// `state`. Errors come back in the runtime's JSON log (`--log F --log-format json`),
// because its stderr may already be the container's. Mirrors containerd's
// `github.com/containerd/go-runc` (runc.go: Create, Start, Exec, Kill, Delete, Ps).

import { ApiError, failedPrecondition, notFound } from "../api/errors.ts";
import { raceTimeout, TIMED_OUT } from "./timeouts.ts";
import { childTraceEnvironment } from "../trace/hooks.ts";

/** Which stdio a runtime invocation passes on to the container process. */
export interface RuntimeStdio {
  /** Give the process a pipe for stdin (else /dev/null). */
  stdin: boolean;
  /** With a terminal: where the runtime sends the pty's primary end (`--console-socket`). */
  consoleSocket?: string;
}

/** A runtime invocation that failed, with the runtime's own message. */
export class RuntimeError extends Error {
  constructor(readonly command: string, message: string) {
    super(message);
    this.name = "RuntimeError";
  }
}

/**
 * The program and leading arguments that run a runtime. A binary (`runc`, a path) runs
 * as is; a TypeScript entry point (mini-runc's `cmd/mini_runc.ts`) runs under this
 * process's Deno, which saves the hop through a shell wrapper.
 */
export function runtimeCommand(binary: string): { program: string; leadingArgs: string[] } {
  if (binary.endsWith(".ts")) {
    return {
      program: Deno.execPath(),
      leadingArgs: ["run", "--allow-all", "--quiet", "--no-prompt", binary],
    };
  }
  return { program: binary, leadingArgs: [] };
}

/** Runs one OCI runtime binary with a fixed `--root` and log file. */
export class OciRuntime {
  readonly #program: string;
  readonly #leadingArgs: string[];

  constructor(
    readonly binary: string,
    readonly root: string,
    readonly logPath: string,
  ) {
    const command = runtimeCommand(binary);
    this.#program = command.program;
    this.#leadingArgs = command.leadingArgs;
  }

  #globalArgs(): string[] {
    return [
      ...this.#leadingArgs,
      "--root",
      this.root,
      "--log",
      this.logPath,
      "--log-format",
      "json",
    ];
  }

  /**
   * `create`: the runtime sets the container up and leaves its init waiting for
   * `start`. The child's pipes become the container's stdio (the runtime passes its
   * own fds 0-2 through), so the caller keeps reading them after the runtime exits.
   */
  spawnCreate(id: string, bundle: string, pidFile: string, stdio: RuntimeStdio): Deno.ChildProcess {
    return this.#spawnWithStdio(
      ["create", "--bundle", bundle, "--pid-file", pidFile, ...consoleArgs(stdio), id],
      bundle,
      stdio,
    );
  }

  /** `exec --detach`: starts an extra process in the container; same stdio rule as create. */
  spawnExec(
    id: string,
    processFile: string,
    pidFile: string,
    cwd: string,
    stdio: RuntimeStdio,
  ): Deno.ChildProcess {
    return this.#spawnWithStdio(
      [
        "exec",
        "--process",
        processFile,
        "--detach",
        "--pid-file",
        pidFile,
        ...consoleArgs(stdio),
        id,
      ],
      cwd,
      stdio,
    );
  }

  #spawnWithStdio(args: string[], cwd: string, stdio: RuntimeStdio): Deno.ChildProcess {
    return new Deno.Command(this.#program, {
      args: [...this.#globalArgs(), ...args],
      env: childTraceEnvironment(this.binary, args), // --trace (lib/trace)
      cwd,
      stdin: stdio.stdin ? "piped" : "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
  }

  /** Waits for a create/exec invocation; on failure throws with the runtime's message. */
  async finishSpawned(command: string, child: Deno.ChildProcess, since: number): Promise<void> {
    const status = await child.status;
    if (status.success) return;
    // Nothing runs in the container, so its stderr holds only the runtime's words.
    // A process the runtime left behind could keep the pipe open: read for a moment only.
    const read = await raceTimeout(readAllText(child.stderr).catch(() => ""), 2_000);
    const stderr = read === TIMED_OUT ? "" : read;
    await child.stdout.cancel().catch(() => {});
    throw new RuntimeError(
      command,
      await this.#failureMessage(command, status.code, stderr, since),
    );
  }

  /** `start`: lets the created init exec the user's command. */
  async start(id: string): Promise<void> {
    await this.#run(["start", id]);
  }

  /** `kill [--all] ID SIGNAL` */
  async kill(id: string, signal: number, all = false): Promise<void> {
    await this.#run(["kill", ...(all ? ["--all"] : []), id, String(signal)]);
  }

  /** `delete [--force] ID`: removes the container's runtime state and cgroup. */
  async delete(id: string, force = false): Promise<void> {
    await this.#run(["delete", ...(force ? ["--force"] : []), id]);
  }

  /** `pause ID` / `resume ID` (the freezer cgroup). */
  async pause(id: string): Promise<void> {
    await this.#run(["pause", id]);
  }

  async resume(id: string): Promise<void> {
    await this.#run(["resume", id]);
  }

  /** `ps --format json ID`: the host pids of every process in the container. */
  async ps(id: string): Promise<number[]> {
    const output = await this.#run(["ps", "--format", "json", id]);
    const parsed = JSON.parse(output.trim() || "[]");
    return Array.isArray(parsed) ? parsed.map(Number) : [];
  }

  /** `state ID`: the runtime-spec state document. */
  async state(id: string): Promise<{ status: string; pid: number }> {
    return JSON.parse(await this.#run(["state", id]));
  }

  async #run(args: string[]): Promise<string> {
    const since = Date.now();
    let output: Deno.CommandOutput;
    try {
      output = await new Deno.Command(this.#program, {
        args: [...this.#globalArgs(), ...args],
        env: childTraceEnvironment(this.binary, args), // --trace (lib/trace)
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).output();
    } catch (error) {
      throw new RuntimeError(
        args[0],
        `cannot run the OCI runtime ${this.binary}: ${
          error instanceof Error ? error.message : error
        }`,
      );
    }
    const decoder = new TextDecoder();
    if (output.success) return decoder.decode(output.stdout);
    throw new RuntimeError(
      args[0],
      await this.#failureMessage(args[0], output.code, decoder.decode(output.stderr), since),
    );
  }

  /** The runtime's last error message: from its JSON log if it wrote one, else its stderr. */
  async #failureMessage(
    command: string,
    code: number,
    stderr: string,
    since: number,
  ): Promise<string> {
    const logged = await lastLoggedError(this.logPath, since);
    const detail = logged ?? stderr.trim().split("\n").filter((line) => line !== "").at(-1) ??
      "no message";
    return `${this.binary} ${command} failed (exit status ${code}): ${detail}`;
  }
}

function consoleArgs(stdio: RuntimeStdio): string[] {
  return stdio.consoleSocket ? ["--console-socket", stdio.consoleSocket] : [];
}

/** Reads a whole stream as text. */
export async function readAllText(stream: ReadableStream<Uint8Array>): Promise<string> {
  const chunks: string[] = [];
  const decoder = new TextDecoder();
  for await (const chunk of stream) chunks.push(decoder.decode(chunk, { stream: true }));
  return chunks.join("");
}

/** The message of the last `"level":"error"` line logged at or after `since` (ms). */
async function lastLoggedError(logPath: string, since: number): Promise<string | undefined> {
  let text: string;
  try {
    text = await Deno.readTextFile(logPath);
  } catch {
    return undefined;
  }
  let message: string | undefined;
  for (const line of text.split("\n")) {
    if (!line.startsWith("{")) continue;
    try {
      const entry = JSON.parse(line) as { level?: string; msg?: string; time?: string };
      if (entry.level !== "error" && entry.level !== "fatal") continue;
      if (entry.time && Date.parse(entry.time) < since - 1000) continue;
      if (entry.msg) message = entry.msg;
    } catch { /* a partial line */ }
  }
  return message;
}

/** Maps a runtime failure onto an API error kind where the meaning is clear. */
export function apiErrorFromRuntime(error: unknown): unknown {
  if (!(error instanceof RuntimeError)) return error;
  if (/does not exist|not exist|no such container/i.test(error.message)) {
    return notFound(error.message);
  }
  if (/not running|is paused|is stopped|container not running/i.test(error.message)) {
    return failedPrecondition(error.message);
  }
  return new ApiError("failed_precondition", error.message);
}
