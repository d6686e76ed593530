// Shared helpers of the content and GC tests: byte helpers, a request body that
// pauses half way (to catch a write in flight), and a bounded wait.

import { sha256Digest } from "../../lib/content/digest.ts";

export const encoder = new TextEncoder();

/** Bytes of a string, typed as fetch bodies want them. */
export function bytes(text: string): Uint8Array<ArrayBuffer> {
  return encoder.encode(text) as Uint8Array<ArrayBuffer>;
}

/** `size` deterministic pseudo-random bytes (so digests differ per seed). */
export function pseudoRandomBytes(size: number, seed = 1): Uint8Array<ArrayBuffer> {
  const data = new Uint8Array(size);
  let state = seed >>> 0 || 1;
  for (let index = 0; index < size; index++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    data[index] = state & 0xff;
  }
  return data;
}

export { sha256Digest };

/**
 * A request body that sends `first`, then waits until `release()` before sending
 * `rest` (if any) and ending. `fail()` makes the body error instead.
 */
export function pausedBody(first: Uint8Array<ArrayBuffer>, rest?: Uint8Array<ArrayBuffer>) {
  const gate = Promise.withResolvers<"go" | "fail">();
  let step = 0;
  const stream = new ReadableStream<Uint8Array<ArrayBuffer>>({
    async pull(controller) {
      if (step === 0) {
        step++;
        controller.enqueue(first);
        return;
      }
      if (step === 1) {
        step++;
        if (await gate.promise === "fail") {
          controller.error(new Error("body aborted by the test"));
          return;
        }
        if (rest) controller.enqueue(rest);
        return;
      }
      controller.close();
    },
  });
  return {
    stream,
    release: () => gate.resolve("go"),
    fail: () => gate.resolve("fail"),
  };
}

/** Polls `check` until it returns true; fails with `what` after 20 s (a hang guard, not a timing assertion). */
export async function waitFor(what: string, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** The names of the files under a directory (empty when it does not exist). */
export function listNames(path: string): string[] {
  try {
    return [...Deno.readDirSync(path)].map((entry) => entry.name).sort();
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return [];
    throw error;
  }
}
