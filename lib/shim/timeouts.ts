// What this teaches: a shim must never hang forever on someone else: a client that
// never opens its FIFO, output that never ends, a daemon that never answers. Each of
// those waits is raced against a deadline, and the loser is dealt with explicitly.

/** What raceTimeout resolves with when the deadline came first. */
export const TIMED_OUT = Symbol("timed out");

/** Resolves with `promise`'s value, or TIMED_OUT after `milliseconds`. */
export async function raceTimeout<T>(
  promise: Promise<T>,
  milliseconds: number,
): Promise<T | typeof TIMED_OUT> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<typeof TIMED_OUT>((resolve) => {
    timer = setTimeout(() => resolve(TIMED_OUT), milliseconds);
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
