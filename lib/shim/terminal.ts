// What this teaches: how a container gets a terminal through its shim. The shim listens
// on a "console socket" and runs `runtime create --console-socket PATH`; the container's
// init opens a pseudo-terminal inside the container and sends the primary end back over
// that socket as a file descriptor (SCM_RIGHTS). From then on the shim holds the
// terminal: what the container writes comes out of the primary end (one stream, there is
// no separate stderr on a terminal) and goes to the log and the client's stdout FIFO;
// the client's stdin FIFO is written into it; a resize is an ioctl on it.
// Mirrors containerd's `pkg/process/init.go` (console socket handling),
// `cmd/containerd-shim-runc-v2/process/io.go` (copyConsole) and
// `github.com/containerd/console`.

import { closeFile, readFileInBackground } from "../linux/files.ts";
import { syscallInBackground } from "../linux/libc.ts";
import { connectUnix, listenUnix, receiveConsole, setWindowSize } from "../linux/terminal.ts";
import {
  DRAIN_TIMEOUT_MS,
  openFifoForWriting,
  OutputLog,
  type ProcessStdio,
  writeAllTo,
} from "./io.ts";
import { raceTimeout, TIMED_OUT } from "./timeouts.ts";
import type { StdioPaths } from "./types.ts";

/** How long the shim waits for the runtime to send the terminal after a successful create. */
const CONSOLE_TIMEOUT_MS = 10_000;

/** The socket a runtime sends a container's terminal over (`--console-socket`). */
export class ConsoleSocket {
  readonly #listening: number;
  readonly #received: Promise<number>;
  #closed = false;

  private constructor(readonly path: string) {
    this.#listening = listenUnix(path);
    this.#received = receiveConsole(this.#listening).then(({ fd }) => fd);
    // Until someone awaits it, a failure here is only "the runtime never connected".
    this.#received.catch(() => {});
  }

  /** Listens at `path` (removing a stale socket first). */
  static async listen(path: string): Promise<ConsoleSocket> {
    await Deno.remove(path).catch(() => {});
    return new ConsoleSocket(path);
  }

  /** The terminal's primary end, once the runtime sent it. */
  async receive(): Promise<number> {
    const fd = await raceTimeout(this.#received, CONSOLE_TIMEOUT_MS);
    if (fd === TIMED_OUT) {
      throw new Error(`the runtime did not send a terminal over ${this.path}`);
    }
    return fd;
  }

  /**
   * Stops listening. If the runtime never connected, a connection of our own releases
   * the accept that waits on a helper thread.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const settled = await raceTimeout(this.#received.then(() => true, () => true), 0);
    if (settled === TIMED_OUT) {
      try {
        closeFile(connectUnix(this.path));
      } catch { /* nobody is accepting any more */ }
    }
    closeFile(this.#listening);
    await Deno.remove(this.path).catch(() => {});
  }
}

/** The stdio of a process that has a terminal. */
export class TerminalIo implements ProcessStdio {
  readonly #sinks = new Set<Deno.FsFile>();
  #primary = -1;
  #copy: Promise<void> = Promise.resolve();
  #stdinAttached = false;
  #stdinClosed = false;
  #stdinSource?: Deno.FsFile;
  #closed = false;

  private constructor(private readonly log: OutputLog, readonly wantsStdin: boolean) {}

  /** Opens the log and the client's stdout FIFO, before the runtime runs. */
  static async open(logPath: string, stdio: StdioPaths): Promise<TerminalIo> {
    const io = new TerminalIo(await OutputLog.open(logPath), Boolean(stdio.stdin));
    try {
      await io.#attachOutput(stdio);
    } catch (error) {
      io.log.close();
      throw error;
    }
    return io;
  }

  /** Takes the terminal's primary end and starts copying; `stdin` is the client's FIFO. */
  connect(primary: number, stdin: string | undefined): void {
    this.#primary = primary;
    this.#copy = this.#copyOut();
    if (stdin) this.#pumpStdin(stdin);
  }

  async attach(stdio: StdioPaths): Promise<void> {
    await this.#attachOutput(stdio);
    if (stdio.stdin && this.wantsStdin && !this.#stdinAttached && !this.#stdinClosed) {
      this.#pumpStdin(stdio.stdin);
    }
  }

  async #attachOutput(stdio: StdioPaths): Promise<void> {
    if (stdio.stdout) this.#sinks.add(await openFifoForWriting(stdio.stdout));
  }

  resize(width: number, height: number): void {
    if (this.#primary >= 0) setWindowSize(this.#primary, height, width);
  }

  closeStdin(): void {
    this.#stdinClosed = true;
    try {
      this.#stdinSource?.close();
    } catch { /* already closed */ }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await raceTimeout(this.#copy, DRAIN_TIMEOUT_MS);
    this.closeStdin();
    for (const sink of this.#sinks) {
      try {
        sink.close();
      } catch { /* already closed */ }
    }
    this.#sinks.clear();
    this.log.close();
    if (this.#primary >= 0) closeFile(this.#primary);
    this.#primary = -1;
  }

  async #copyOut(): Promise<void> {
    const buffer = new Uint8Array(32 * 1024);
    while (true) {
      // EIO (-1) once the last process holding the terminal's other end is gone.
      const count = await readFileInBackground(this.#primary, buffer);
      if (count <= 0) return;
      const chunk = buffer.slice(0, count);
      this.log.write("stdout", chunk);
      for (const sink of [...this.#sinks]) {
        try {
          await writeAllTo(sink, chunk);
        } catch {
          this.#sinks.delete(sink);
          try {
            sink.close();
          } catch { /* already closed */ }
        }
      }
    }
  }

  async #pumpStdin(path: string): Promise<void> {
    this.#stdinAttached = true;
    try {
      const source = await Deno.open(path, { read: true });
      this.#stdinSource = source;
      const buffer = new Uint8Array(32 * 1024);
      while (!this.#stdinClosed) {
        const count = await source.read(buffer);
        if (count === null) break;
        // A terminal can be full (nobody reads it): write on a helper thread.
        let offset = 0;
        while (offset < count && this.#primary >= 0) {
          const written = await syscallInBackground(
            "write",
            this.#primary,
            buffer.subarray(offset, count),
            count - offset,
          );
          if (written <= 0) return;
          offset += written;
        }
      }
    } catch { /* the FIFO or the terminal went away */ }
  }
}
