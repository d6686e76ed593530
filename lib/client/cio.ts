// What this teaches: how a client gets a container's stdio without the daemon in the
// data path. The client makes named pipes (FIFOs) in a directory of its own, passes
// their paths in Tasks.Create (or Exec, or Attach), and opens its ends; the shim opens
// the other ends. Output then flows container → shim → FIFO → client, and stdin the
// other way. The daemon only ever sees the paths.
// Mirrors containerd's `client/cio/io.go` and `io_unix.go` (NewFIFOSetInDir, copyIO).

import { join } from "node:path";
import { closeFile, mkfifo, openFile, OpenFlags } from "../linux/files.ts";
import type { StdioPaths } from "../shim/types.ts";

/** Three FIFOs in a private directory (`<tmp>/mini-ctr-fifo-XXXX/<id>-stdout`...). */
export class FifoSet {
  private constructor(
    readonly directory: string,
    readonly stdin: string | undefined,
    readonly stdout: string,
    readonly stderr: string | undefined,
    readonly terminal: boolean,
  ) {}

  /**
   * Creates the FIFOs: stdin only when the process should get input, and no stderr
   * with a terminal (a terminal is one stream).
   */
  static async create(
    id: string,
    options: { stdin: boolean; terminal?: boolean },
  ): Promise<FifoSet> {
    const directory = await Deno.makeTempDir({ prefix: "mini-ctr-fifo-" });
    const path = (name: string) => join(directory, `${id}-${name}`);
    const set = new FifoSet(
      directory,
      options.stdin ? path("stdin") : undefined,
      path("stdout"),
      options.terminal ? undefined : path("stderr"),
      options.terminal ?? false,
    );
    for (const fifo of [set.stdin, set.stdout, set.stderr]) {
      if (fifo) mkfifo(fifo, 0o600);
    }
    return set;
  }

  /** The paths to hand to Tasks.Create, Exec or Attach. */
  get stdio(): StdioPaths {
    return {
      stdin: this.stdin,
      stdout: this.stdout,
      stderr: this.stderr,
      terminal: this.terminal,
    };
  }

  /** Removes the FIFOs and their directory. */
  async remove(): Promise<void> {
    await Deno.remove(this.directory, { recursive: true }).catch(() => {});
  }
}

/** Where the copied stdio goes (the terminal of `mini-ctr run`, by default). */
export interface StdioStreams {
  stdin?: ReadableStream<Uint8Array>;
  stdout: WritableStream<Uint8Array>;
  stderr: WritableStream<Uint8Array>;
}

/**
 * The client's ends of a FifoSet, copying to and from `streams`. Construct it before
 * the daemon call that hands the paths to the shim: the opens wait for the shim.
 */
export class AttachedIo {
  readonly #output: Promise<void>;
  readonly #stdinCopy: Promise<void>;
  #stdinFile?: Deno.FsFile;
  #cancelled = false;

  constructor(private readonly fifos: FifoSet, streams: StdioStreams) {
    this.#output = Promise.all([
      this.#copyOut(fifos.stdout, streams.stdout),
      fifos.stderr ? this.#copyOut(fifos.stderr, streams.stderr) : undefined,
    ]).then(() => {});
    this.#stdinCopy = fifos.stdin && streams.stdin
      ? this.#copyIn(fifos.stdin, streams.stdin)
      : Promise.resolve();
  }

  /** Resolves when the shim closed stdout and stderr (the process ended and output drained). */
  get done(): Promise<void> {
    return this.#output;
  }

  async #copyOut(path: string, destination: WritableStream<Uint8Array>): Promise<void> {
    let file: Deno.FsFile;
    try {
      file = await Deno.open(path, { read: true });
    } catch {
      return;
    }
    const writer = destination.getWriter();
    try {
      const buffer = new Uint8Array(64 * 1024);
      while (true) {
        const count = await file.read(buffer);
        if (count === null) break;
        await writer.write(buffer.slice(0, count));
      }
    } catch {
      /* cancelled */
    } finally {
      writer.releaseLock();
      try {
        file.close();
      } catch { /* already closed */ }
    }
  }

  async #copyIn(path: string, source: ReadableStream<Uint8Array>): Promise<void> {
    try {
      this.#stdinFile = await Deno.open(path, { write: true });
      if (this.#cancelled) return;
      for await (const chunk of source) {
        let written = 0;
        while (written < chunk.length) {
          written += await this.#stdinFile.write(chunk.subarray(written));
        }
      }
    } catch {
      /* the process closed its stdin, or we were cancelled */
    } finally {
      // EOF on the FIFO: the shim closes the container's stdin.
      try {
        this.#stdinFile?.close();
      } catch { /* already closed */ }
    }
  }

  /**
   * Gives up on the shim (a failed create, or ending early): opens the other end of any
   * FIFO still waiting, without blocking, so every pending open returns.
   */
  cancel(): void {
    this.#cancelled = true;
    for (const path of [this.fifos.stdout, this.fifos.stderr]) {
      if (!path) continue;
      try {
        closeFile(openFile(path, OpenFlags.WRONLY | OpenFlags.NONBLOCK | OpenFlags.CLOEXEC));
      } catch { /* nobody waiting */ }
    }
    if (this.fifos.stdin && !this.#stdinFile) {
      try {
        closeFile(
          openFile(this.fifos.stdin, OpenFlags.RDONLY | OpenFlags.NONBLOCK | OpenFlags.CLOEXEC),
        );
      } catch { /* nobody waiting */ }
    }
  }

  /** Stops forwarding stdin (the process ended; the user's terminal may never send EOF). */
  closeStdin(): void {
    this.#cancelled = true;
    try {
      this.#stdinFile?.close();
    } catch { /* already closed */ }
  }

  /** Waits until stdin forwarding stopped. */
  get stdinDone(): Promise<void> {
    return this.#stdinCopy;
  }
}
