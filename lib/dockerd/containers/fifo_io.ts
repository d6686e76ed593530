// What this teaches: how one daemon can hold the stdio FIFOs of many containers without
// a thread per pipe. A blocking read of a FIFO parks a thread until data comes; Deno
// runs such reads (and FFI calls marked `nonblocking`) on a pool of about 32 threads,
// and once they all wait on idle pipes, every other file operation of the process
// queues behind them: the daemon freezes at ~15 attached containers. So dockerd opens
// its FIFO ends non-blocking and lets a single poll(2) call, on one worker thread, wait
// for all of them at once; reads and writes then happen on the main thread and return
// at once (EAGAIN when there is nothing to do). Two details of FIFOs make this work:
// opening the read end with O_NONBLOCK succeeds before any writer exists, and poll()
// reports POLLHUP only once a writer has come *and gone*, so "no writer yet" never
// looks like end of file. The stdin end is opened once the shim has opened its side
// (a non-blocking open for writing fails until then), and closing it is the EOF the
// shim passes on to the container.
// Mirrors what Go's runtime netpoller does for moby's FIFOs (containerd/fifo opens them
// O_NONBLOCK and registers them with epoll).

import { closeFile, openFile, OpenFlags } from "../../linux/files.ts";
import { LinuxError } from "../../linux/errors.ts";
import { lastErrno, syscall } from "../../linux/libc.ts";

const POLLIN = 0x1;
const POLLOUT = 0x4;
const POLLERR = 0x8;
const POLLHUP = 0x10;
const POLLNVAL = 0x20;
const EAGAIN = 11;
const EINTR = 4;
const ENXIO = 6;

type Waiter = (revents: number) => void;

/** poll(2) on a worker thread: the only call here that waits. */
const pollLibrary = {
  poll: { parameters: ["buffer", "u64", "i32"], result: "i32", nonblocking: true },
} as const;
let pollSymbols: Deno.DynamicLibrary<typeof pollLibrary>["symbols"] | undefined;

/** Waits for readiness of many descriptors with one poll(2) call at a time. */
class FifoPoller {
  readonly #waiters = new Map<number, { events: number; waiter: Waiter }>();
  #wake?: [number, number];
  #looping = false;

  /** Calls `waiter` once, when `fd` is ready for `events` (or hung up/failed). */
  wait(fd: number, events: number, waiter: Waiter): void {
    this.#waiters.set(fd, { events, waiter });
    this.#kick();
  }

  /** Forgets a descriptor (it is being closed); a pending waiter is called with 0. */
  forget(fd: number): void {
    const entry = this.#waiters.get(fd);
    if (!entry) return;
    this.#waiters.delete(fd);
    entry.waiter(0);
    this.#kick();
  }

  #kick(): void {
    if (!this.#looping) {
      if (this.#waiters.size > 0) this.#loop();
      return;
    }
    // Interrupt the poll in progress so it picks up the new set.
    const byte = new Uint8Array([1]);
    syscall("write", this.#wake![1], byte, 1);
  }

  async #loop(): Promise<void> {
    this.#looping = true;
    pollSymbols ??= Deno.dlopen("libc.so.6", pollLibrary).symbols;
    if (!this.#wake) {
      const pair = new Int32Array(2);
      // A pipe would do; a socket pair is what lib/linux offers. AF_UNIX, SOCK_STREAM|CLOEXEC.
      if (syscall("socketpair", 1, 1 | 0o2000000, 0, pair) !== 0) {
        throw new Error(`socketpair failed (errno ${lastErrno()})`);
      }
      this.#wake = [pair[0], pair[1]];
    }
    try {
      while (this.#waiters.size > 0) {
        const fds = [...this.#waiters.keys()];
        const table = new Int32Array(2 * (fds.length + 1));
        const view = new DataView(table.buffer);
        view.setInt32(0, this.#wake[0], true);
        view.setInt16(4, POLLIN, true);
        fds.forEach((fd, index) => {
          view.setInt32(8 * (index + 1), fd, true);
          view.setInt16(8 * (index + 1) + 4, this.#waiters.get(fd)!.events, true);
        });
        const ready = await pollSymbols.poll(table, BigInt(fds.length + 1), -1);
        if (ready < 0) continue; // EINTR
        if (view.getInt16(6, true) !== 0) {
          const drain = new Uint8Array(64);
          syscall("read", this.#wake[0], drain, drain.length);
        }
        fds.forEach((fd, index) => {
          const revents = view.getInt16(8 * (index + 1) + 6, true);
          const entry = this.#waiters.get(fd);
          if (revents === 0 || !entry) return;
          this.#waiters.delete(fd);
          entry.waiter(revents);
        });
      }
    } finally {
      this.#looping = false;
    }
  }
}

const poller = new FifoPoller();

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
