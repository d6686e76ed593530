// What this teaches: Docker forgets a layer's compressed blob once it is unpacked, but
// it remembers *which* registry blobs were that layer, so a later push of the same
// layer to the same registry can say "Layer already exists" (or mount it from another
// repository) instead of compressing and uploading it again:
//   image/overlay2/distribution/diffid-by-digest/sha256/<blob hex>   → the diffID
//   image/overlay2/distribution/v2metadata-by-diffid/sha256/<diffID hex>
//       → [{"Digest": "sha256:<blob>", "SourceRepository": "localhost:5000/bb", "HMAC": ""}]
// Mirrors moby's distribution/metadata (v2_metadata_service.go: Add, GetMetadata,
// GetDiffID).

import { join } from "node:path";

/** One blob known to hold a layer, and where it was seen. */
export interface V2Metadata {
  Digest: string;
  SourceRepository: string;
  HMAC: string;
}

function hexOf(digest: string): string {
  return digest.startsWith("sha256:") ? digest.slice(7) : digest;
}

/** The distribution metadata under `image/overlay2/distribution`. */
export class DistributionMetadata {
  constructor(readonly root: string) {}

  /** Records that `blobDigest` (in `repository`, e.g. "localhost:5000/bb") is the layer `diffId`. */
  async add(diffId: string, blobDigest: string, repository: string): Promise<void> {
    const byDigest = join(this.root, "diffid-by-digest", "sha256");
    const byDiffId = join(this.root, "v2metadata-by-diffid", "sha256");
    await Deno.mkdir(byDigest, { recursive: true });
    await Deno.mkdir(byDiffId, { recursive: true });
    await Deno.writeTextFile(join(byDigest, hexOf(blobDigest)), diffId);
    const entries = await this.get(diffId);
    const kept = entries.filter((entry) =>
      !(entry.Digest === blobDigest && entry.SourceRepository === repository)
    );
    kept.push({ Digest: blobDigest, SourceRepository: repository, HMAC: "" });
    // Newest last, at most 50 entries (dockerd keeps a bounded list too).
    await Deno.writeTextFile(join(byDiffId, hexOf(diffId)), JSON.stringify(kept.slice(-50)));
  }

  /** The blobs known for a layer. */
  async get(diffId: string): Promise<V2Metadata[]> {
    try {
      const text = await Deno.readTextFile(
        join(this.root, "v2metadata-by-diffid", "sha256", hexOf(diffId)),
      );
      const parsed = JSON.parse(text);
      return Array.isArray(parsed) ? parsed : [];
    } catch {
      return [];
    }
  }

  /** The diffID a blob unpacked to, if known. */
  async diffIdOf(blobDigest: string): Promise<string | undefined> {
    try {
      return (await Deno.readTextFile(
        join(this.root, "diffid-by-digest", "sha256", hexOf(blobDigest)),
      )).trim();
    } catch {
      return undefined;
    }
  }
}
