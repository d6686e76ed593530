// What this teaches: how unpacked layers are named. A layer's diffID is the digest of
// its uncompressed tar; the chainID names a whole stack, so two images that share
// their first layers share those snapshots: chainID(L0) = diffID(L0),
// chainID(Ln) = sha256(chainID(Ln-1) + " " + diffID(Ln)).
// Mirrors the OCI image spec's config.md ("Layer ChainID") and containerd's
// `identity.ChainIDs` (opencontainers/image-spec/identity).

import { createHash } from "node:crypto";
import { validateDigest } from "../reference/digest.ts";
import type { Digest } from "../content/types.ts";

/** The chainID of every prefix of `diffIds`: element i names layers 0..i. */
export function chainIds(diffIds: readonly Digest[]): Digest[] {
  const result: Digest[] = [];
  for (const [index, diffId] of diffIds.entries()) {
    validateDigest(diffId, `diffID ${index}`);
    if (index === 0) {
      result.push(diffId);
    } else {
      const hex = createHash("sha256").update(`${result[index - 1]} ${diffId}`).digest("hex");
      result.push(`sha256:${hex}`);
    }
  }
  return result;
}

/** The chainID of the whole stack, or undefined for an image without layers. */
export function chainId(diffIds: readonly Digest[]): Digest | undefined {
  return chainIds(diffIds).at(-1);
}
