// What this teaches: nothing from a registry is trusted until its bytes hash to the
// digest that named them. Small documents (manifests, indexes) are read whole and
// checked here; large blobs are checked by the content store as they are committed.
// Mirrors the `digest.Verifier` use in containerd's `core/remotes/docker/fetcher.go`
// and `core/images` (readers bounded by a maximum manifest size).

import { createHash } from "node:crypto";
import type { Digest } from "../content/types.ts";
import { RegistryError } from "./errors.ts";

/** The largest manifest or index accepted (containerd and distribution both use 4 MiB). */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

/** The digest of `bytes` with the algorithm `like` uses (`sha256` by default). */
export function digestOf(bytes: Uint8Array, like: Digest = "sha256:"): Digest {
  const algorithm = like.slice(0, like.indexOf(":"));
  return `${algorithm}:${createHash(algorithm).update(bytes).digest("hex")}`;
}

/** Throws a digest_mismatch error unless `bytes` have the expected size and digest. */
export function verifyBytes(
  bytes: Uint8Array,
  expected: { digest: Digest; size: number },
  what: string,
): void {
  if (bytes.byteLength !== expected.size) {
    throw new RegistryError(
      "digest_mismatch",
      `${what}: received ${bytes.byteLength} bytes, but its descriptor says ${expected.size}`,
    );
  }
  const actual = digestOf(bytes, expected.digest);
  if (actual !== expected.digest) {
    throw new RegistryError(
      "digest_mismatch",
      `${what}: the bytes received hash to ${actual}, not ${expected.digest}; ` +
        `the registry (or something between it and you) sent the wrong content`,
    );
  }
}

/** Reads a response body into memory, refusing to go past `limit` bytes. */
export async function readBounded(
  body: ReadableStream<Uint8Array> | null,
  limit: number,
  what: string,
): Promise<Uint8Array<ArrayBuffer>> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  if (body) {
    const reader = body.getReader();
    while (true) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > limit) {
        await reader.cancel().catch(() => {});
        throw new RegistryError(
          "too_large",
          `${what} is larger than ${limit} bytes; refusing to read it into memory`,
        );
      }
      chunks.push(value);
    }
  }
  const joined = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    joined.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return joined;
}
