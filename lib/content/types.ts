// What this teaches: the contract of a content-addressed store. Blobs are named by
// the sha256 of their bytes, written through resumable "ingests" named by a ref,
// and become visible only once their size and digest are verified. Mirrors
// containerd's `core/content/content.go` (Provider, Ingester, Manager, Writer).

import type { Labels } from "../metadata/db.ts";

/** A digest string, `sha256:<64 lowercase hex>` (the OCI image spec's digest). */
export type Digest = string;

/** Information about a committed blob as one namespace sees it. */
export interface ContentInfo {
  digest: Digest;
  size: number;
  createdAt: string;
  updatedAt: string;
  labels: Labels;
}

/** The state of an ingest (an unfinished write), as `ctr content active` shows it. */
export interface IngestStatus {
  ref: string;
  /** Bytes written so far; a resumed write continues from here. */
  offset: number;
  /** Expected total size, 0 when unknown. */
  total: number;
  expected?: Digest;
  startedAt: string;
  updatedAt: string;
}

/** Options of one write into the store. */
export interface WriteOptions {
  /** The ingest's name; the same ref resumes the same ingest. */
  ref: string;
  /** The digest the bytes must have; the commit fails otherwise. */
  expected?: Digest;
  /** The size the bytes must have, when known. */
  total?: number;
  /**
   * Where the body starts within the blob, for resuming: must equal the ingest's
   * current offset (see `status`), or the write is refused with that offset. Leave it
   * out to start over: an existing ingest under the same ref is truncated.
   */
  offset?: number;
  /** Labels set on the blob at commit (merged into an existing blob's labels). */
  labels?: Labels;
}

/**
 * The answer of the Write route: the committed blob, or (after a write that stops
 * short of committing) the ingest's status.
 */
export interface WriteResult {
  /** True when the blob is in the store now (committed, or it was already there). */
  committed: boolean;
  /** True when the blob was already in the store, so no bytes were needed. */
  existed?: boolean;
  info?: ContentInfo;
  status?: IngestStatus;
}

/** Filters for listing content: `labels.<key>==<value>` or `digest==...`, as ctr's filters. */
export type ContentFilter = string;

/**
 * The content store seen through the API, one namespace at a time. The daemon's
 * ContentService serves it; the client's ContentClient implements it over the socket.
 */
export interface ContentApi {
  info(digest: Digest): Promise<ContentInfo>;
  list(filters?: ContentFilter[]): Promise<ContentInfo[]>;
  /** Replaces the labels of a blob (an empty value deletes the key when `merge` is true). */
  updateLabels(digest: Digest, labels: Labels, options?: { merge?: boolean }): Promise<ContentInfo>;
  delete(digest: Digest): Promise<void>;
  /** Streams a blob's bytes from `offset`. */
  read(digest: Digest, offset?: number): Promise<ReadableStream<Uint8Array>>;
  /** Reads a whole small blob (manifests, configs); refuses blobs over `maxSize`. */
  readAll(digest: Digest, maxSize?: number): Promise<Uint8Array>;
  /**
   * Streams bytes into the ingest named `options.ref` and commits when the body ends:
   * the size and digest are verified, then the blob appears whole under `blobs/`.
   * When a blob with the `expected` digest is already in the store, the body is not
   * needed and the existing blob's info is returned ("already exists" is success).
   */
  write(
    body: ReadableStream<Uint8Array<ArrayBuffer>> | Uint8Array<ArrayBuffer>,
    options: WriteOptions,
  ): Promise<ContentInfo>;
  /**
   * Streams bytes into the ingest named `options.ref` without committing (containerd's
   * Writer.Write without Commit): the ingest keeps them for a later write to resume.
   */
  append(
    body: ReadableStream<Uint8Array<ArrayBuffer>> | Uint8Array<ArrayBuffer>,
    options: WriteOptions,
  ): Promise<IngestStatus>;
  status(ref: string): Promise<IngestStatus>;
  /** Active ingests; filters on `ref` and `expected` (`ref~=^layer-`). */
  listStatuses(filters?: ContentFilter[]): Promise<IngestStatus[]>;
  abort(ref: string): Promise<void>;
}
