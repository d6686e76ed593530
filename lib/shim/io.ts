// What this teaches: the shim, not the daemon, holds a container's stdio. The runtime
// hands the container the pipes the shim gave it, and the shim copies what comes out
// into a log file (always, so output is never lost and `logs` works later) and into
// the FIFOs an attached client opened (`ctr run` in the foreground, `ctr tasks attach`).
// Because the pipes belong to the shim, a daemon restart never closes a container's
// stdout, and a client that goes away only loses its own copy (its FIFO breaks with
// EPIPE and is dropped). Mirrors containerd's `cmd/containerd-shim-runc-v2/process/io.go`
// (copyPipes) and, for the log format, Docker's json-file log driver.

import { closeFile, openFile, OpenFlags } from "../linux/files.ts";
import { raceTimeout, TIMED_OUT } from "./timeouts.ts";
import type { StdioPaths } from "./types.ts";

/** How long the shim waits for a client to open the other end of its stdout/stderr FIFO. */
export const FIFO_OPEN_TIMEOUT_MS = 10_000;

/** How long output may keep flowing after a process exited before the copy is cut. */
export const DRAIN_TIMEOUT_MS = 2_000;

/** Longest partial line kept before it is logged without its newline. */
const MAX_PARTIAL_LINE = 16 * 1024;

/** The two output streams of a process. */
export type OutputStream = "stdout" | "stderr";

/**
 * A process's output as JSON lines, one per line of output:
 * `{"log":"hello\n","stream":"stdout","time":"2024-...Z"}` (Docker's json-file format).
 */
export class OutputLog {
  readonly #decoders = { stdout: new TextDecoder(), stderr: new TextDecoder() };
  readonly #partial = { stdout: "", stderr: "" };
  readonly #encoder = new TextEncoder();

  private constructor(readonly path: string, private readonly file: Deno.FsFile) {}

  /** Opens (appending) or creates the log at `path`. */
  static async open(path: string): Promise<OutputLog> {
    const file = await Deno.open(path, { create: true, append: true, mode: 0o640 });
    return new OutputLog(path, file);
  }

  /** Logs a chunk of output; a line is written once its newline arrives. */
  write(stream: OutputStream, chunk: Uint8Array): void {
    let text = this.#partial[stream] + this.#decoders[stream].decode(chunk, { stream: true });
    let newline = text.indexOf("\n");
    const records: string[] = [];
    while (newline >= 0) {
      records.push(this.#record(stream, text.slice(0, newline + 1)));
      text = text.slice(newline + 1);
      newline = text.indexOf("\n");
    }
    if (text.length > MAX_PARTIAL_LINE) {
      records.push(this.#record(stream, text));
      text = "";
    }
    this.#partial[stream] = text;
    if (records.length > 0) this.#append(records.join(""));
  }

  /** Writes out unfinished lines (a last line without a newline) and closes the file. */
  close(): void {
    const records = (["stdout", "stderr"] as const)
      .filter((stream) => this.#partial[stream] !== "")
      .map((stream) => this.#record(stream, this.#partial[stream]));
    if (records.length > 0) this.#append(records.join(""));
    try {
      this.file.close();
    } catch { /* already closed */ }
  }

  #record(stream: OutputStream, line: string): string {
    return JSON.stringify({ log: line, stream, time: new Date().toISOString() }) + "\n";
  }

  #append(text: string): void {
    const bytes = this.#encoder.encode(text);
    let written = 0;
    while (written < bytes.length) written += this.file.writeSync(bytes.subarray(written));
  }
}

/** Reads a JSON-lines log back: the records in order. */
export async function readOutputLog(
  path: string,
): Promise<{ log: string; stream: OutputStream; time: string }[]> {
  const text = await Deno.readTextFile(path);
  return text.split("\n").filter((line) => line !== "").map((line) => JSON.parse(line));
}

/**
 * Opens a client's FIFO for writing. open(2) of a FIFO blocks until a reader opens the
 * other end; if none comes within the timeout, the shim opens a reader itself (without
 * blocking) to release the pending open, closes both, and reports the client as gone.
 */
export async function openFifoForWriting(path: string, timeoutMs = FIFO_OPEN_TIMEOUT_MS) {
  const opening = Deno.open(path, { write: true });
  const result = await raceTimeout(opening, timeoutMs);
  if (result !== TIMED_OUT) return result;
  try {
    closeFile(openFile(path, OpenFlags.RDONLY | OpenFlags.NONBLOCK | OpenFlags.CLOEXEC));
  } catch { /* the FIFO is gone: the pending open fails by itself */ }
  await opening.then((file) => file.close()).catch(() => {});
  throw new Error(`nobody opened the FIFO ${path} for reading within ${timeoutMs} ms`);
}

/**
 * What the shim needs from a process's stdio, with pipes (ProcessIo) or with a
 * terminal (TerminalIo in terminal.ts).
 */
export interface ProcessStdio {
  /** Whether the process reads a stdin the shim feeds. */
  readonly wantsStdin: boolean;
  /** Connects a client's FIFOs: output from now on, and stdin if still open. */
  attach(stdio: StdioPaths): Promise<void>;
  /** Stops feeding stdin (the client's CloseIO). */
  closeStdin(): void;
  /** After the exit: drains output (bounded), closes the log and the client FIFOs. */
  close(): Promise<void>;
  /** Sets the terminal size; only a terminal has one. */
  resize?(width: number, height: number): void;
}

/**
 * The stdio of one container process: the pipes of the runtime invocation that
 * started it, copied to the log and to attached FIFOs.
 */
export class ProcessIo implements ProcessStdio {
  readonly #sinks: Record<OutputStream, Set<Deno.FsFile>> = {
    stdout: new Set(),
    stderr: new Set(),
  };
  #stdinWriter?: WritableStreamDefaultWriter<Uint8Array>;
  #stdinClosed = false;
  #stdinSource?: Deno.FsFile;
  #stdinAttached = false;
  #stdinPath?: string;
  #pendingStdin?: string;
  #copies: Promise<void>[] = [];
  #streams: ReadableStream<Uint8Array>[] = [];
  #closed = false;

  private constructor(private readonly log: OutputLog, readonly wantsStdin: boolean) {}

  /**
   * Opens the log and the client's stdout and stderr FIFOs, before the runtime runs,
   * so not a byte of early output is missed. Then `connect` the runtime invocation.
   */
  static async open(logPath: string, stdio: StdioPaths): Promise<ProcessIo> {
    const log = await OutputLog.open(logPath);
    const io = new ProcessIo(log, Boolean(stdio.stdin));
    try {
      await io.attach({ stdout: stdio.stdout, stderr: stdio.stderr });
    } catch (error) {
      await io.close();
      throw error;
    }
    io.#pendingStdin = stdio.stdin || undefined;
    return io;
  }

  /** Starts copying the pipes of the runtime invocation that created the process. */
  connect(child: Deno.ChildProcess): void {
    if (this.wantsStdin) this.#stdinWriter = child.stdin.getWriter();
    this.#streams = [child.stdout, child.stderr];
    this.#copies = [this.#copy("stdout", child.stdout), this.#copy("stderr", child.stderr)];
    if (this.#pendingStdin) this.#pumpStdin(this.#pendingStdin);
    this.#pendingStdin = undefined;
  }

  /** Opens the FIFOs in `stdio` that exist and adds them (stdout, stderr; stdin if still open). */
  async attach(stdio: StdioPaths): Promise<void> {
    const opened: [OutputStream, Deno.FsFile][] = [];
    try {
      for (const stream of ["stdout", "stderr"] as const) {
        const path = stdio[stream];
        if (path) opened.push([stream, await openFifoForWriting(path)]);
      }
    } catch (error) {
      for (const [, file] of opened) file.close();
      throw error;
    }
    for (const [stream, file] of opened) this.#sinks[stream].add(file);
    if (stdio.stdin && this.#stdinWriter && !this.#stdinClosed && !this.#stdinAttached) {
      this.#pumpStdin(stdio.stdin);
    }
  }

  /** Closes the process's stdin (the client's CloseIO, or the stdin FIFO reaching EOF). */
  closeStdin(): void {
    if (this.#stdinClosed || !this.#stdinWriter) return;
    this.#stdinClosed = true;
    this.#stdinWriter.close().catch(() => {});
    try {
      this.#stdinSource?.close();
    } catch { /* already closed */ }
    if (this.#stdinPath && !this.#stdinSource) {
      // The client never opened its end: a writer of our own releases the pending open.
      try {
        closeFile(
          openFile(this.#stdinPath, OpenFlags.WRONLY | OpenFlags.NONBLOCK | OpenFlags.CLOEXEC),
        );
      } catch { /* no pending open, or the FIFO is gone */ }
    }
  }

  /**
   * Called once the process exited: waits for the output to drain (bounded, since a
   * process that escaped the container could hold the pipe), then closes the log and
   * the client FIFOs, which is the EOF an attached client waits for.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const drained = await raceTimeout(Promise.all(this.#copies), DRAIN_TIMEOUT_MS);
    if (drained === TIMED_OUT) {
      for (const stream of this.#streams) await stream.cancel().catch(() => {});
    }
    this.closeStdin();
    for (const sinks of Object.values(this.#sinks)) {
      for (const sink of sinks) {
        try {
          sink.close();
        } catch { /* already closed */ }
      }
      sinks.clear();
    }
    this.log.close();
  }

  async #copy(stream: OutputStream, source: ReadableStream<Uint8Array>): Promise<void> {
    try {
      for await (const chunk of source) {
        this.log.write(stream, chunk);
        for (const sink of [...this.#sinks[stream]]) {
          try {
            await writeAllTo(sink, chunk);
          } catch {
            // The client went away (EPIPE): stop copying to it, keep logging.
            this.#sinks[stream].delete(sink);
            try {
              sink.close();
            } catch { /* already closed */ }
          }
        }
      }
    } catch { /* the stream was cancelled after the drain timeout */ }
  }

  async #pumpStdin(path: string): Promise<void> {
    this.#stdinAttached = true;
    this.#stdinPath = path;
    try {
      const source = await Deno.open(path, { read: true });
      if (this.#stdinClosed) {
        source.close();
        return;
      }
      this.#stdinSource = source;
      const buffer = new Uint8Array(32 * 1024);
      while (!this.#stdinClosed) {
        const count = await source.read(buffer);
        if (count === null) break;
        await this.#stdinWriter!.write(buffer.slice(0, count));
      }
    } catch { /* the container closed its stdin, or the FIFO went away */ }
    this.closeStdin();
  }
}

/** Writes all of `bytes` to a file (a FIFO write may be short). */
export async function writeAllTo(file: Deno.FsFile, bytes: Uint8Array): Promise<void> {
  let written = 0;
  while (written < bytes.length) written += await file.write(bytes.subarray(written));
}
