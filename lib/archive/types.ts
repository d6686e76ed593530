// What this teaches: the two directions between an image layer (a tar archive) and a
// directory. *Apply* unpacks a layer onto a directory, turning the layer's whiteout files
// into deletions; *diff* walks an overlay upper directory and turns the kernel's whiteouts
// back into layer form. Both report the two names a layer has: the digest of the blob as
// stored (often compressed) and the diffID of the uncompressed tar.
// Mirrors the contracts of containerd's pkg/archive (Apply, WriteDiff, ApplyOptions,
// WriteDiffOptions) and core/diff (Applier, Comparer).

import { ApiError } from "../api/errors.ts";

/**
 * How deletions are represented in the directory being written.
 * - "oci": the directory is a plain merged root filesystem, so `.wh.NAME` deletes NAME
 *   and `.wh..wh..opq` empties the directory of everything older than this layer.
 * - "overlay": the directory is an overlay upperdir that will serve as a lower layer, so
 *   deletions are *recorded* the way the kernel records them: `.wh.NAME` becomes a 0/0
 *   character device NAME, `.wh..wh..opq` becomes xattr `trusted.overlay.opaque=y`.
 */
export type WhiteoutFormat = "oci" | "overlay";

/** Compression of a layer blob. Apply detects it from the first bytes. */
export type Compression = "gzip" | "zstd" | "none";

/** Options of applyLayer(). */
export interface ApplyOptions {
  /** How whiteouts are written to the target (see WhiteoutFormat). */
  whiteoutFormat: WhiteoutFormat;
  /**
   * Whether character and block device entries may be created. Off, a device entry is
   * rejected: a layer from an untrusted source could otherwise hand a container a raw disk.
   * (FIFOs are always allowed; whiteout devices of the overlay format are written by the
   * applier itself and do not count.)
   */
  allowDevices: boolean;
  /**
   * Give entries the uid/gid recorded in the layer (needs CAP_CHOWN). Defaults to true
   * when running as root; false leaves files owned by the applying user, like
   * `tar --no-same-owner`.
   */
  sameOwner?: boolean;
  /** When set, apply fails unless the uncompressed tar has this digest (config rootfs.diff_ids). */
  expectedDiffId?: string;
}

/** What applyLayer() did. */
export interface ApplyResult {
  /** `sha256:…` of the uncompressed tar stream: the layer's diffID. */
  diffId: string;
  /** Bytes of the uncompressed tar stream. */
  size: number;
  /** Compression detected from the blob's first bytes. */
  compression: Compression;
  /** Tar entries processed (whiteouts included, PAX headers not). */
  entries: number;
  /** Things skipped without failing the apply (e.g. an xattr the file system refuses). */
  warnings: string[];
}

/** Options of diffLayer() and its variants. */
export interface DiffOptions {
  /** Compression of the produced blob; gzip is what `docker push` sends. */
  compression: Compression;
  /**
   * SOURCE_DATE_EPOCH (seconds): every mtime later than this is clamped to it, so the
   * same tree gives byte-identical layers, whenever it was built.
   */
  sourceDateEpoch?: number;
  /** gzip/zstd level; defaults to the library default (gzip 6, zstd 3). */
  compressionLevel?: number;
}

/** What a diff produced. */
export interface DiffResult {
  /** `sha256:…` of the blob as written (after compression): the manifest's layer digest. */
  digest: string;
  /** `sha256:…` of the uncompressed tar: goes into the config's rootfs.diff_ids. */
  diffId: string;
  /** Size in bytes of the blob as written. */
  size: number;
  /** Size in bytes of the uncompressed tar. */
  uncompressedSize: number;
  /** OCI layer media type matching the compression. */
  mediaType: string;
  /** Tar entries written (whiteout markers included). */
  entries: number;
}

/** A diff as a stream: read `stream` to the end, then `result` resolves. */
export interface DiffStream {
  stream: ReadableStream<Uint8Array<ArrayBuffer>>;
  result: Promise<DiffResult>;
}

/**
 * A layer entry that cannot be applied: unsafe (escapes the target, a device where none
 * are allowed), malformed or of an unsupported kind. Carries the entry's name so the
 * message can say which one. It is an `invalid_argument` API error: the layer is bad,
 * not the daemon.
 */
export class LayerEntryError extends ApiError {
  constructor(readonly entryName: string, reason: string) {
    super("invalid_argument", `layer entry ${JSON.stringify(entryName)}: ${reason}`);
    this.name = "LayerEntryError";
  }
}
