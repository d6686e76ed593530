// What this teaches: how one daemon notices that any of hundreds of processes it did
// not necessarily start has died, without one thread per process. Each watched pid is
// turned into a pidfd (pidfd_open(2): a file descriptor naming exactly that process,
// immune to pid reuse) that becomes readable when the process ends. One poll(2) over
// all of them, plus an eventfd used as a doorbell to add new ones, runs on a single
// helper thread (Deno FFI `nonblocking`); the event loop only hears about the deaths.
//
// The first version waited on each shim with its own blocking poll(2); each such call
// holds one of the threads Deno keeps for blocking work (about 32), so the 33rd
// container stalled the whole daemon. containerd does not meet this: Go parks a
// goroutine per shim connection for free. Mirrors the role of containerd's
// `core/runtime/v2/shim.go` (the shim connection's onClose → cleanupAfterDeadShim) and
// the epoll-style waiting of `pkg/sys/reaper`.

const libcSymbols = {
  poll: { parameters: ["buffer", "u64", "i32"], result: "i32", nonblocking: true },
  syscall: { parameters: ["i64", "i64", "i64"], result: "i64" },
  eventfd: { parameters: ["u32", "i32"], result: "i32" },
  write: { parameters: ["i32", "buffer", "u64"], result: "i64" },
  read: { parameters: ["i32", "buffer", "u64"], result: "i64" },
  close: { parameters: ["i32"], result: "i32" },
} as const satisfies Deno.ForeignLibraryInterface;

let library: Deno.DynamicLibrary<typeof libcSymbols> | undefined;

function libc(): Deno.DynamicLibrary<typeof libcSymbols> {
  library ??= Deno.dlopen("libc.so.6", libcSymbols);
  return library;
}

const SYS_pidfd_open = 434n;
const POLLIN = 0x1;
const EFD_NONBLOCK = 0o4000;
const EFD_CLOEXEC = 0o2000000;

/** One watched process: its pidfd and whoever waits for its end. */
interface Watched {
  pid: number;
  pidfd: number;
  ended: PromiseWithResolvers<void>;
}

/** Watches any number of processes for their end with one helper thread. */
export class ProcessExitWatcher {
  readonly #watched = new Map<number, Watched>();
  #doorbell = -1;
  #looping = false;
  #closed = false;

  /** How many processes are watched now (for tests and logs). */
  get size(): number {
    return this.#watched.size;
  }

  /**
   * Resolves once process `pid` has ended (exited, or is a zombie). Resolves at once
   * when there is no such process. The pid is pinned when this is called: a later
   * process that reuses the number is not confused with it.
   */
  watch(pid: number): Promise<void> {
    if (this.#closed) return new Promise(() => {});
    const pidfd = Number(libc().symbols.syscall(SYS_pidfd_open, BigInt(pid), 0n));
    if (pidfd < 0) return Promise.resolve(); // ESRCH: already gone
    const watched: Watched = { pid, pidfd, ended: Promise.withResolvers<void>() };
    this.#watched.set(pidfd, watched);
    this.#ring();
    if (!this.#looping) this.#loop();
    return watched.ended.promise;
  }

  /** Stops watching; pending promises never resolve. The thread returns soon after. */
  close(): void {
    this.#closed = true;
    this.#ring();
  }

  /** Wakes a poll(2) in progress so that it starts again with the current set. */
  #ring(): void {
    if (this.#doorbell < 0) {
      this.#doorbell = libc().symbols.eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
      if (this.#doorbell < 0) throw new Error("eventfd(2) failed: cannot watch processes");
    }
    const one = new BigUint64Array([1n]);
    libc().symbols.write(this.#doorbell, one, 8n);
  }

  async #loop(): Promise<void> {
    this.#looping = true;
    try {
      while (!this.#closed && this.#watched.size > 0) {
        const entries = [...this.#watched.values()];
        // struct pollfd { int fd; short events; short revents; }: two int32 per entry,
        // `events` in the low half of the second (little-endian), `revents` in the high.
        const fds = new Int32Array(2 * (entries.length + 1));
        fds[0] = this.#doorbell;
        fds[1] = POLLIN;
        entries.forEach((entry, index) => {
          fds[2 * index + 2] = entry.pidfd;
          fds[2 * index + 3] = POLLIN;
        });
        const ready = await libc().symbols.poll(fds, BigInt(entries.length + 1), -1);
        if (ready <= 0) continue; // EINTR: poll again
        if (fds[1] >>> 16 !== 0) {
          libc().symbols.read(this.#doorbell, new BigUint64Array(1), 8n);
        }
        entries.forEach((entry, index) => {
          // POLLIN when the process ended; POLLERR/POLLHUP/POLLNVAL also end the watch.
          if (fds[2 * index + 3] >>> 16 === 0) return;
          this.#watched.delete(entry.pidfd);
          libc().symbols.close(entry.pidfd);
          entry.ended.resolve();
        });
      }
    } finally {
      this.#looping = false;
      if (this.#closed) {
        for (const entry of this.#watched.values()) libc().symbols.close(entry.pidfd);
        this.#watched.clear();
      }
    }
  }
}

let shared: ProcessExitWatcher | undefined;

/** The process-wide watcher (one helper thread for the whole program). */
export function sharedExitWatcher(): ProcessExitWatcher {
  shared ??= new ProcessExitWatcher();
  return shared;
}
