// What this teaches: how one program waits on many descriptors (FIFOs, pidfds) without a
// thread each. A blocking read, or an FFI call marked `nonblocking`, holds one of the
// ~32 threads Deno keeps for blocking work until it returns; a daemon that parked one
// per container would freeze at the 33rd. Instead one ppoll(2), on one worker thread,
// waits for all of them at once, and the event loop only hears which became ready.
// An eventfd is the doorbell: ringing it wakes the ppoll in progress, so that a
// descriptor added (or dropped) meanwhile is taken into account at once.
// Users: mini-dockerd's container FIFOs (lib/dockerd/containers/fifo_io.ts) and the exit
// watcher of mini-containerd and the shims (lib/shim/exit_watcher.ts).
// Mirrors Go's runtime netpoller (runtime/netpoll_epoll.go), which parks goroutines on
// one epoll instance; that is what containerd/fifo and pidfd waits ride on in Go.

import { openEventCounter } from "./files.ts";
import { syscall, syscallInBackground } from "./libc.ts";

/** poll(2) event bits (`events` asked for, `revents` reported). */
export const PollEvents = {
  IN: 0x1,
  OUT: 0x4,
  ERR: 0x8,
  HUP: 0x10,
  NVAL: 0x20,
} as const;

/**
 * Called once when a descriptor is ready, with the reported `revents` (IN, HUP, ...),
 * or with 0 when the wait was dropped with `forget`. It runs inside the poll loop, so it
 * must not throw: resolve a promise or record the result, and do the work elsewhere.
 */
export type ReadinessWaiter = (revents: number) => void;

interface Waiting {
  events: number;
  waiter: ReadinessWaiter;
}

/** Waits for the readiness of any number of descriptors with one ppoll(2) at a time. */
export class DescriptorPoller {
  readonly #waiting = new Map<number, Waiting>();
  #doorbell = -1;
  #looping = false;

  /** How many descriptors are waited on now (for tests and logs). */
  get size(): number {
    return this.#waiting.size;
  }

  /**
   * Calls `waiter` once, when `fd` is ready for `events` (or has failed or hung up).
   * A second wait on the same descriptor replaces the first.
   */
  wait(fd: number, events: number, waiter: ReadinessWaiter): void {
    this.#waiting.set(fd, { events, waiter });
    this.#wake();
  }

  /** Stops waiting on `fd` (before closing it); a pending waiter is called with 0. */
  forget(fd: number): void {
    const waiting = this.#waiting.get(fd);
    if (!waiting) return;
    this.#waiting.delete(fd);
    waiting.waiter(0);
    this.#wake();
  }

  /** Starts the loop, or makes the ppoll in progress start again with the current set. */
  #wake(): void {
    if (!this.#looping) {
      if (this.#waiting.size === 0) return;
      // Here, not in the loop: a failure is thrown to the caller of wait().
      if (this.#doorbell < 0) this.#doorbell = openEventCounter();
      void this.#loop();
      return;
    }
    syscall("write", this.#doorbell, new BigUint64Array([1n]), 8);
  }

  async #loop(): Promise<void> {
    this.#looping = true;
    let failures = 0;
    try {
      while (this.#waiting.size > 0) {
        const entries = [...this.#waiting];
        // struct pollfd { int fd; short events; short revents; }, the doorbell first.
        const table = new Int32Array(2 * (entries.length + 1));
        const view = new DataView(table.buffer);
        const fill = (index: number, fd: number, events: number) => {
          view.setInt32(8 * index, fd, true);
          view.setInt16(8 * index + 4, events, true);
        };
        fill(0, this.#doorbell, PollEvents.IN);
        entries.forEach(([fd, waiting], index) => fill(index + 1, fd, waiting.events));
        // No timeout, no signal mask: wait until something is ready (or a signal: EINTR).
        const ready = await syscallInBackground("ppoll", table, entries.length + 1, null, null, 8);
        if (ready < 0) {
          // Usually EINTR. A lasting failure (ENOMEM, too many descriptors) must not turn
          // into a busy loop: after a few in a row, wait a little before polling again.
          failures++;
          if (failures > 3) await new Promise((resolve) => setTimeout(resolve, 100));
          continue;
        }
        failures = 0;
        if (ready === 0) continue;
        if (view.getInt16(6, true) !== 0) {
          syscall("read", this.#doorbell, new BigUint64Array(1), 8);
        }
        entries.forEach(([fd, waiting], index) => {
          const revents = view.getInt16(8 * (index + 1) + 6, true);
          // Skip a descriptor forgotten (its number maybe reused) while the ppoll ran.
          if (revents === 0 || this.#waiting.get(fd) !== waiting) return;
          this.#waiting.delete(fd);
          callQuietly(waiting.waiter, revents);
        });
      }
    } catch (error) {
      // Nobody awaits the loop: an error here would be an unhandled rejection that ends
      // the daemon. Hand every waiter an error instead; they close and give up.
      console.error(`descriptor poller failed: ${error instanceof Error ? error.message : error}`);
      const waiting = [...this.#waiting.values()];
      this.#waiting.clear();
      for (const entry of waiting) callQuietly(entry.waiter, PollEvents.ERR);
    } finally {
      this.#looping = false;
    }
  }
}

/** Runs a waiter; one that throws (it must not) cannot stop the others being called. */
function callQuietly(waiter: ReadinessWaiter, revents: number): void {
  try {
    waiter(revents);
  } catch (error) {
    console.error(`a poll waiter threw: ${error instanceof Error ? error.message : error}`);
  }
}

let shared: DescriptorPoller | undefined;

/** The process-wide poller: every user shares its one worker thread. */
export function sharedPoller(): DescriptorPoller {
  shared ??= new DescriptorPoller();
  return shared;
}
