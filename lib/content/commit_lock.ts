// What this teaches: why committing a blob and collecting garbage must not overlap.
// A commit first renames the file into blobs/ and then records it in the database;
// a collector that lists "blobs no record points at" between those two steps would
// delete a blob that is about to be referenced. Commits therefore hold a shared lock
// across both steps and the collector's file sweep holds it exclusively. Mirrors the
// `wlock` (a sync.RWMutex) of containerd's `core/metadata/db.go`.

/** An async readers-writer lock: many shared holders, or one exclusive holder. */
export class ReadWriteLock {
  #sharedHolders = 0;
  #exclusiveHeld = false;
  #waiters: { exclusive: boolean; wake: () => void }[] = [];

  /** Runs `work` while holding the lock shared. */
  async shared<T>(work: () => Promise<T>): Promise<T> {
    // Waiting exclusive holders go first, so a stream of commits cannot starve GC.
    if (this.#exclusiveHeld || this.#waiters.length > 0) {
      await new Promise<void>((wake) => this.#waiters.push({ exclusive: false, wake }));
    } else {
      this.#sharedHolders++;
    }
    try {
      return await work();
    } finally {
      this.#sharedHolders--;
      this.#wakeNext();
    }
  }

  /** Runs `work` while holding the lock exclusively. */
  async exclusive<T>(work: () => Promise<T>): Promise<T> {
    if (this.#exclusiveHeld || this.#sharedHolders > 0 || this.#waiters.length > 0) {
      await new Promise<void>((wake) => this.#waiters.push({ exclusive: true, wake }));
    } else {
      this.#exclusiveHeld = true;
    }
    try {
      return await work();
    } finally {
      this.#exclusiveHeld = false;
      this.#wakeNext();
    }
  }

  /** Hands the lock to the next waiters: one exclusive, or every shared one in a row. */
  #wakeNext(): void {
    if (this.#exclusiveHeld || this.#waiters.length === 0) return;
    if (this.#waiters[0].exclusive) {
      if (this.#sharedHolders > 0) return;
      this.#exclusiveHeld = true;
      this.#waiters.shift()!.wake();
      return;
    }
    while (this.#waiters.length > 0 && !this.#waiters[0].exclusive) {
      this.#sharedHolders++;
      this.#waiters.shift()!.wake();
    }
  }
}
