// What this teaches: a blob's name is the sha256 of its bytes, so the name can be
// computed by anyone holding the bytes and checked by anyone receiving them.
// Mirrors go-digest's digest.FromBytes.

import { createHash } from "node:crypto";
import type { Digest } from "../content/types.ts";

/** `sha256:<hex>` of some bytes held in memory (small documents; blobs are hashed as streams). */
export function sha256Digest(bytes: Uint8Array): Digest {
  return `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
}
