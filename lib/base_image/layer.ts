// What this teaches: how to make a layer *reproducible*. A layer's identity is the
// sha256 of its bytes, so anything that varies between two builds (file order,
// timestamps, owner names, the gzip header's own timestamp) would give a different
// image each time. Fixing all of them makes the same rootfs give the same digests on
// every machine with the same busybox.
// Mirrors what reproducible-build tooling does for image layers (SOURCE_DATE_EPOCH,
// sorted entries, --owner=0 --numeric-owner, gzip -n).

import { gzipSync } from "node:zlib";
import { sha256Digest } from "../image_archive/digest.ts";
import { type TarRecord, writeTar } from "../image_archive/tar_stream.ts";
import type { RootfsEntry } from "./types.ts";

/** The layer in both forms: the uncompressed tar (diffID) and the gzip blob (digest). */
export interface BuiltLayer {
  tar: Uint8Array;
  diffId: string;
  blob: Uint8Array;
  digest: string;
}

/** Writes the entries, in the given order, as one tar with every timestamp set to `mtime`. */
export async function layerTar(entries: RootfsEntry[], mtime: Date): Promise<Uint8Array> {
  const records: TarRecord[] = entries.map((entry) => ({
    name: entry.path,
    type: entry.type,
    mode: entry.mode,
    uid: entry.uid,
    gid: entry.gid,
    mtime,
    size: entry.content?.byteLength ?? 0,
    linkname: entry.linkTarget,
    body: entry.content ? () => entry.content! : undefined,
  }));
  return new Uint8Array(await new Response(writeTar(records)).arrayBuffer());
}

/**
 * Builds the gzip layer. node:zlib writes a gzip header with no file name and mtime
 * 0, and the same zlib at the same level gives the same bytes, so the blob digest is
 * as stable as the tar.
 */
export async function buildLayer(entries: RootfsEntry[], mtime: Date): Promise<BuiltLayer> {
  const tar = await layerTar(entries, mtime);
  const blob = new Uint8Array(gzipSync(tar, { level: 9 }));
  return { tar, diffId: sha256Digest(tar), blob, digest: sha256Digest(blob) };
}
