// What this teaches: a content address is `<algorithm>:<hex>`, and the store must
// check the string before using it in a path, or `sha256:../../etc` would walk out
// of `blobs/`. mini supports sha256 only, as containerd's local store does by default.
// Mirrors `github.com/opencontainers/go-digest` (Parse, Validate, Encoded).

import { createHash } from "node:crypto";
import { invalidArgument } from "../api/errors.ts";
import type { Digest } from "./types.ts";

const sha256Pattern = /^sha256:[a-f0-9]{64}$/;

/** Throws invalid_argument unless `value` is `sha256:` followed by 64 lowercase hex digits. */
export function validateDigest(value: unknown, what = "digest"): Digest {
  if (typeof value !== "string" || value === "") {
    throw invalidArgument(`${what} is required (sha256:<64 hex digits>)`);
  }
  if (sha256Pattern.test(value)) return value;
  const colon = value.indexOf(":");
  const algorithm = colon > 0 ? value.slice(0, colon) : "";
  if (algorithm !== "" && algorithm !== "sha256" && /^[a-z0-9+._-]+$/.test(algorithm)) {
    throw invalidArgument(
      `${what} ${JSON.stringify(value)} uses the unsupported algorithm "${algorithm}": ` +
        `mini's content store only holds sha256 digests`,
    );
  }
  throw invalidArgument(
    `${what} ${
      JSON.stringify(value)
    } is invalid: expected sha256: followed by 64 lowercase hex digits`,
  );
}

/** The hex part of a validated digest (the blob's file name under `blobs/sha256/`). */
export function digestHex(digest: Digest): string {
  return validateDigest(digest).slice("sha256:".length);
}

/** The digest of some bytes or a string, computed in one go (for small data only). */
export function sha256Digest(data: Uint8Array | string): Digest {
  return `sha256:${createHash("sha256").update(data).digest("hex")}`;
}
