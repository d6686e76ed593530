// What this teaches: how `docker run` and `docker exec` get a process's stdio across
// three processes. dockerd makes named pipes (FIFOs) in `<exec-root>/containerd/<id>/`
// (`init-stdin`, `init-stdout`, `init-stderr`; `<exec-id>-stdout`... for execs) and
// hands their paths to containerd, whose shim opens the other ends; the container's
// output then flows container → shim → FIFO → dockerd → every attached client, each
// over its own hijacked HTTP connection, framed with the 8-byte stdcopy header unless
// the container has a terminal. Stdin flows the other way; with `StdinOnce` the first
// client to half-close its side closes the container's stdin (what makes `echo hi |
// docker run -i busybox cat` end). The log does not depend on any of this: the shim
// writes `<id>-json.log` itself, so a container nobody is attached to costs dockerd
// no pipes at all, and output is kept while dockerd is down.
// Mirrors moby's container/stream/streams.go (Config, the stdout/stderr broadcasters),
// daemon/attach.go and container/stream/attach.go (CopyStreams), and the FIFO set of
// libcontainerd/remote/client.go (newFIFOSet / cio.NewFIFOSetInDir).

import { join } from "node:path";
import { mkfifo } from "../../linux/files.ts";
import { FifoReader, FifoWriter } from "./fifo_io.ts";
import type { StdioPaths } from "../../shim/types.ts";
import { type HijackedStream, StreamType } from "../server/hijack.ts";

/** The two output streams. */
export type OutputName = "stdout" | "stderr";

/** One client attached over a hijacked connection (`attach`, or an exec's `start`). */
export class AttachSession {
  readonly #finished = Promise.withResolvers<void>();
  #ended = false;

  constructor(
    readonly stream: HijackedStream,
    readonly options: {
      stdin: boolean;
      stdout: boolean;
      stderr: boolean;
      /** With a terminal the output is raw, one stream; without, it is stdcopy-framed. */
      tty: boolean;
    },
  ) {
    stream.closed.addEventListener("abort", () => this.#finished.resolve(), { once: true });
  }

  /** Resolves when the session ended (output over, or the client hung up). */
  get finished(): Promise<void> {
    return this.#finished.promise;
  }

  /** True once the client went away. */
  get gone(): boolean {
    return this.stream.closed.aborted;
  }

  /** Sends a chunk of output, if the client asked for that stream. */
  async write(name: OutputName, bytes: Uint8Array): Promise<void> {
    if (this.#ended || this.gone || !this.options[name]) return;
    if (this.options.tty) await this.stream.write(bytes);
    else {await this.stream.writeFrame(
        name === "stdout" ? StreamType.stdout : StreamType.stderr,
        bytes,
      );}
  }

  /** Ends the session by closing the connection (the client reads that as "stream over"). */
  async end(): Promise<void> {
    if (this.#ended) return;
    this.#ended = true;
    await this.stream.close().catch(() => {});
    this.#finished.resolve();
  }
}

/**
 * The FIFOs of one process (a container's init or an exec) on dockerd's side: readers
 * of stdout/stderr that fan out to the attached sessions, and the writer of stdin. All
 * three ends are non-blocking (fifo_io.ts): no thread waits on an idle pipe.
 */
export class ProcessStdio {
  readonly sessions = new Set<AttachSession>();
  readonly #outputDone: Promise<void>;
  readonly #readers: FifoReader[] = [];
  #stdinWriter?: Promise<FifoWriter | undefined>;
  #stdinClosed = false;
  readonly #cancelled = new AbortController();

  private constructor(
    readonly directory: string,
    readonly paths: StdioPaths,
    /** True when the process has a terminal: stdout only, raw. */
    readonly tty: boolean,
    private readonly stdinOnce: boolean,
  ) {
    const outputs: Promise<void>[] = [];
    if (paths.stdout) outputs.push(this.#readOutput("stdout", FifoReader.open(paths.stdout)));
    if (paths.stderr) outputs.push(this.#readOutput("stderr", FifoReader.open(paths.stderr)));
    this.#outputDone = Promise.all(outputs).then(() => {});
    if (paths.stdin) {
      this.#stdinWriter = FifoWriter.open(paths.stdin, this.#cancelled.signal).catch(() =>
        undefined
      );
    }
  }

  /**
   * Makes the FIFOs `<prefix>-stdin/-stdout/-stderr` in `directory` and opens dockerd's
   * ends (at once: the shim opens its ends when containerd hands it the paths). A
   * terminal has no separate stderr.
   */
  static async create(
    directory: string,
    prefix: string,
    options: { stdin: boolean; stdout: boolean; stderr: boolean; tty: boolean; stdinOnce: boolean },
  ): Promise<ProcessStdio> {
    await Deno.mkdir(directory, { recursive: true, mode: 0o700 });
    const path = (name: string) => join(directory, `${prefix}-${name}`);
    const paths: StdioPaths = {};
    if (options.stdin) paths.stdin = path("stdin");
    if (options.stdout) paths.stdout = path("stdout");
    if (options.stderr && !options.tty) paths.stderr = path("stderr");
    for (const fifo of [paths.stdin, paths.stdout, paths.stderr]) {
      if (fifo === undefined) continue;
      await Deno.remove(fifo).catch(() => {});
      mkfifo(fifo, 0o600);
    }
    if (options.tty) paths.terminal = true;
    return new ProcessStdio(directory, paths, options.tty, options.stdinOnce);
  }

  /**
   * Resolves once stdout and stderr reached EOF (the process ended and its output
   * drained). Sessions stay open until endSessions().
   */
  get outputDone(): Promise<void> {
    return this.#outputDone;
  }

  /** True when the process was given a stdin FIFO that is still open. */
  get hasOpenStdin(): boolean {
    return this.#stdinWriter !== undefined && !this.#stdinClosed;
  }

  /** Attaches a client: it gets the output from now on, and its input goes to stdin. */
  addSession(session: AttachSession): void {
    this.sessions.add(session);
    session.finished.then(() => this.sessions.delete(session));
    if (session.options.stdin) this.#pumpInput(session);
  }

  async #readOutput(name: OutputName, reader: FifoReader): Promise<void> {
    this.#readers.push(reader);
    try {
      for await (const chunk of reader.chunks()) {
        for (const session of [...this.sessions]) await session.write(name, chunk);
      }
    } catch { /* closed under us */ }
  }

  /**
   * Ends every attached session (closes their connections). Called by the owner once the
   * exit is recorded, so a client that asks for the exit code next finds it.
   */
  async endSessions(): Promise<void> {
    await Promise.all([...this.sessions].map((session) => session.end()));
  }

  async #pumpInput(session: AttachSession): Promise<void> {
    const writer = await this.#stdinWriter;
    const reader = session.stream.input.getReader();
    try {
      while (writer && !this.#stdinClosed) {
        const { value, done } = await reader.read();
        if (done) break;
        await writer.write(value);
      }
    } catch {
      /* the process closed its stdin */
    } finally {
      reader.releaseLock();
    }
    // The client's input ended (half-close): with StdinOnce that is the container's EOF.
    if (this.stdinOnce) this.closeStdin();
  }

  /** Closes the process's stdin: the shim sees EOF on the FIFO and passes it on. */
  closeStdin(): void {
    if (this.#stdinClosed) return;
    this.#stdinClosed = true;
    // If the shim has not opened its side yet, the close waits for it: EOF must arrive.
    this.#stdinWriter?.then((writer) => writer?.close());
  }

  /**
   * Stops reading and writing (the process is gone, or its create failed): closes
   * dockerd's ends, which also ends the output loops.
   */
  cancel(): void {
    this.#cancelled.abort();
    for (const reader of this.#readers) reader.close();
    this.closeStdin();
  }

  /**
   * Removes the FIFOs (once the process is gone). The directory is shared by the
   * container's init and its execs and goes when the container's run is cleaned up.
   */
  async remove(): Promise<void> {
    for (const path of [this.paths.stdin, this.paths.stdout, this.paths.stderr]) {
      if (path) await Deno.remove(path).catch(() => {});
    }
  }
}
