// What this teaches: "several layers at once, but not all of them": a counting
// semaphore caps the transfers in flight (dockerd's max-concurrent-downloads, default
// 3), which keeps a 40-layer pull from opening 40 connections; ctr sets no cap unless
// asked to (--max-concurrent-downloads 0). And when one transfer
// fails, the others are allowed to settle before the error is reported, so nothing
// keeps writing after the caller has moved on.
// Mirrors the `semaphore.Weighted` limiter passed to containerd's `images.Dispatch`.

/** A counting semaphore. */
export class Limiter {
  #available: number;
  readonly #waiting: (() => void)[] = [];

  /** At most `capacity` at once; 0 (or less) means no limit, as ctr's flag default. */
  constructor(capacity: number) {
    this.#available = capacity > 0 ? Math.floor(capacity) : Infinity;
  }

  /** Runs `work` once a slot is free. */
  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.#available > 0) {
      this.#available--;
    } else {
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    }
    try {
      return await work();
    } finally {
      const next = this.#waiting.shift();
      if (next) next();
      else this.#available++;
    }
  }
}

/** Waits for every promise; then throws the first failure, if any. */
export async function settleAll<T>(promises: Promise<T>[]): Promise<T[]> {
  const results = await Promise.allSettled(promises);
  const failure = results.find((result) => result.status === "rejected");
  if (failure) throw (failure as PromiseRejectedResult).reason;
  return results.map((result) => (result as PromiseFulfilledResult<T>).value);
}
