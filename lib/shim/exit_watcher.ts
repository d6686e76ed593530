// What this teaches: how one daemon notices that any of hundreds of processes it did
// not necessarily start has died, without one thread per process. Each watched pid is
// turned into a pidfd (pidfd_open(2): a file descriptor naming exactly that process,
// immune to pid reuse) that becomes readable when the process ends, and handed to the
// process-wide poller (lib/linux/poller.ts: one ppoll(2) over all of them on a single
// helper thread); the event loop only hears about the deaths.
//
// The first version waited on each shim with its own blocking poll(2); each such call
// holds one of the threads Deno keeps for blocking work (about 32), so the 33rd
// container stalled the whole daemon. containerd does not meet this: Go parks a
// goroutine per shim connection for free. Mirrors the role of containerd's
// `core/runtime/v2/shim.go` (the shim connection's onClose → cleanupAfterDeadShim) and
// the epoll-style waiting of `pkg/sys/reaper`.

import { LinuxError } from "../linux/errors.ts";
import { openProcessDescriptor } from "../linux/identity.ts";
import { syscall } from "../linux/libc.ts";
import { type DescriptorPoller, PollEvents, sharedPoller } from "../linux/poller.ts";

/** Watches any number of processes for their end, on the poller's one helper thread. */
export class ProcessExitWatcher {
  /** The pidfd of each watched process. */
  readonly #watched = new Set<number>();
  #closed = false;

  constructor(private readonly poller: DescriptorPoller = sharedPoller()) {}

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
    let pidfd: number;
    try {
      pidfd = openProcessDescriptor(pid);
    } catch (error) {
      if (error instanceof LinuxError && error.code === "ESRCH") return Promise.resolve();
      // A rejection, not a throw: callers chain .then/.catch on the result.
      return Promise.reject(error);
    }
    const ended = Promise.withResolvers<void>();
    this.#watched.add(pidfd);
    try {
      // POLLIN when the process ended; POLLERR/POLLHUP/POLLNVAL also end the watch.
      // 0 is `close()` forgetting it: the promise then never resolves.
      this.poller.wait(pidfd, PollEvents.IN, (revents) => {
        this.#watched.delete(pidfd);
        syscall("close", pidfd);
        if (revents !== 0) ended.resolve();
      });
    } catch (error) {
      this.#watched.delete(pidfd);
      syscall("close", pidfd);
      return Promise.reject(error);
    }
    return ended.promise;
  }

  /** Stops watching; pending promises never resolve. */
  close(): void {
    this.#closed = true;
    for (const pidfd of [...this.#watched]) this.poller.forget(pidfd);
  }
}

let shared: ProcessExitWatcher | undefined;

/** The process-wide watcher (its waits share the process-wide poller's one thread). */
export function sharedExitWatcher(): ProcessExitWatcher {
  shared ??= new ProcessExitWatcher();
  return shared;
}
