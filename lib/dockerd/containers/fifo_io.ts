// What this teaches: how one daemon can hold the stdio FIFOs of many containers without
// a thread per pipe. A blocking read of a FIFO parks a thread until data comes; Deno
// runs such reads (and FFI calls marked `nonblocking`) on a pool of about 32 threads,
// and once they all wait on idle pipes, every other file operation of the process
// queues behind them: the daemon freezes at ~15 attached containers. So dockerd opens
// its FIFO ends non-blocking and lets a single poll(2) call, on one worker thread, wait
// for all of them at once (lib/linux/poller.ts); reads and writes then happen on the
// main thread and return at once (EAGAIN when there is nothing to do). Two details of
// FIFOs make this work: opening the read end with O_NONBLOCK succeeds before any writer
// exists, and poll() reports POLLHUP only once a writer has come *and gone*, so "no
// writer yet" never looks like end of file. The stdin end is opened once the shim has
// opened its side (a non-blocking open for writing fails until then), and closing it is
// the EOF the shim passes on to the container.
// Mirrors what Go's runtime netpoller does for moby's FIFOs (containerd/fifo opens them
// O_NONBLOCK and registers them with epoll).

import { closeFile, openFile, OpenFlags } from "../../linux/files.ts";
import { LinuxError } from "../../linux/errors.ts";
import { lastErrno, syscall } from "../../linux/libc.ts";
import { PollEvents, sharedPoller } from "../../linux/poller.ts";

const { IN: POLLIN, OUT: POLLOUT, ERR: POLLERR, HUP: POLLHUP, NVAL: POLLNVAL } = PollEvents;
const EAGAIN = 11;
const EINTR = 4;
const ENXIO = 6;

/** The one poll(2) loop of the process (lib/linux/poller.ts), shared with the exit watcher. */
const poller = sharedPoller();

/** The read end of a FIFO, opened without blocking; yields chunks until the writer is gone. */
export class FifoReader {
  #closed = false;

  private constructor(readonly path: string, private readonly fd: number) {}

  /** Opens `path` for reading (returns at once, with or without a writer). */
  static open(path: string): FifoReader {
    return new FifoReader(
      path,
      openFile(path, OpenFlags.RDONLY | OpenFlags.NONBLOCK | OpenFlags.CLOEXEC),
    );
  }

  /** The data written into the FIFO, chunk by chunk, until every writer closed it. */
  async *chunks(): AsyncGenerator<Uint8Array> {
    const buffer = new Uint8Array(32 * 1024);
    try {
      while (!this.#closed) {
        const revents = await new Promise<number>((resolve) =>
          poller.wait(this.fd, POLLIN, resolve)
        );
        if (revents === 0 || this.#closed) return; // closed under us
        if (revents & POLLNVAL) return;
        // Drain what is there; 0 means the writer is gone and nothing is left.
        while (true) {
          const count = syscall("read", this.fd, buffer, buffer.length);
          if (count > 0) {
            yield buffer.slice(0, count);
            // Closed while the consumer held the chunk: the number may belong to a new
            // descriptor by now, so never read it again.
            if (this.#closed) return;
            continue;
          }
          if (count === 0) return;
          const errno = lastErrno();
          if (errno === EINTR) continue;
          if (errno === EAGAIN) break;
          return;
        }
        if (revents & (POLLHUP | POLLERR) && !(revents & POLLIN)) return;
      }
    } finally {
      this.close();
    }
  }

  /** Stops reading (the generator ends) and closes the descriptor. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    poller.forget(this.fd);
    closeFile(this.fd);
  }
}

/** The write end of a FIFO. */
export class FifoWriter {
  #closed = false;

  private constructor(readonly path: string, private readonly fd: number) {}

  /**
   * Opens `path` for writing once a reader has opened it (the shim does when containerd
   * hands it the path). Without O_NONBLOCK that open would park a thread until then;
   * with it, the open fails with ENXIO while there is no reader, so it is retried on a
   * short timer. Waiting for the reader matters: data written into a FIFO that nobody
   * has open is discarded when the writer closes. Resolves undefined if `signal` aborts.
   */
  static async open(path: string, signal: AbortSignal): Promise<FifoWriter | undefined> {
    let delay = 5;
    while (!signal.aborted) {
      try {
        return new FifoWriter(
          path,
          openFile(path, OpenFlags.WRONLY | OpenFlags.NONBLOCK | OpenFlags.CLOEXEC),
        );
      } catch (error) {
        if (!(error instanceof LinuxError) || error.errno !== ENXIO) throw error;
      }
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = Math.min(delay * 2, 200);
    }
    return undefined;
  }

  /** Writes all of `bytes`, waiting for room when the pipe is full. Throws once closed. */
  async write(bytes: Uint8Array): Promise<void> {
    let offset = 0;
    const copy = new Uint8Array(bytes); // FFI needs an ArrayBuffer-backed buffer of our own
    while (offset < copy.length) {
      if (this.#closed) throw new Error(`${this.path} is closed`);
      const chunk = copy.subarray(offset);
      const count = syscall("write", this.fd, chunk, chunk.length);
      if (count > 0) {
        offset += count;
        continue;
      }
      const errno = lastErrno();
      if (errno === EINTR) continue;
      if (errno !== EAGAIN) throw new Error(`write to ${this.path} failed (errno ${errno})`);
      const revents = await new Promise<number>((resolve) =>
        poller.wait(this.fd, POLLOUT, resolve)
      );
      if (revents === 0 || revents & (POLLERR | POLLNVAL)) {
        throw new Error(`${this.path} is closed`);
      }
    }
  }

  /** Closes the end: the reader sees end of file. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    poller.forget(this.fd);
    closeFile(this.fd);
  }
}
