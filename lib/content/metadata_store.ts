// What this teaches: one blob store on disk, many namespaces on top. The bytes of a
// blob exist once under `blobs/`, but a namespace only sees a blob when its own record
// for it exists in the metadata database (with that namespace's labels). Ingests
// belong to a namespace too, and writes made under a lease add what they wrote to the
// lease. Deleting content only deletes the namespace's record; the garbage collector
// removes the file once no namespace records it. Mirrors containerd's
// `core/metadata/content.go` (the namespaced wrapper around the local store).
//
// Shared content: when a write announces an `expected` digest whose blob is already
// on disk (written by another namespace), the namespace just gets a record and no
// bytes are read, as containerd's default `sharing_policy = "shared"` does. The
// digest was verified when the bytes were first committed, so nothing is trusted
// that was not checked once.

import { ApiError, invalidArgument, notFound } from "../api/errors.ts";
import type { GcScheduler } from "../gc/types.ts";
import type { LeaseStore } from "../leases/store.ts";
import { type Labels, type MetadataDb, now, parseLabels, validateLabels } from "../metadata/db.ts";
import { parseFilters, recordLookup } from "../metadata/filters.ts";
import type { NamespaceStore } from "../metadata/namespaces.ts";
import { ReadWriteLock } from "./commit_lock.ts";
import { validateDigest } from "./digest.ts";
import type { IngestWriter, LocalContentStore } from "./local_store.ts";
import type { ContentInfo, Digest, IngestStatus, WriteOptions, WriteResult } from "./types.ts";

/** Longest ingest ref accepted; refs travel in URLs and file contents. */
const MAX_REF_LENGTH = 1024;

interface BlobRow {
  namespace: string;
  digest: string;
  size: number;
  labels: string;
  created_at: string;
  updated_at: string;
}

interface IngestRow {
  namespace: string;
  ref: string;
  expected: string | null;
}

/** Options of a write through the metadata store. */
export interface StoreWriteOptions extends WriteOptions {
  /** False to keep the bytes in the ingest without committing (default true). */
  commit?: boolean;
  /** A lease in the namespace that should hold the ingest and the committed blob. */
  lease?: string;
}

/** What the metadata store is built from. */
export interface MetadataContentStoreParts {
  db: MetadataDb;
  local: LocalContentStore;
  namespaces: NamespaceStore;
  leases: LeaseStore;
  gc: GcScheduler;
}

/** The namespaced content store the daemon's Content service serves. */
export class MetadataContentStore {
  /** Held shared by commits, exclusively by the GC's file sweep (see commit_lock.ts). */
  readonly commitLock = new ReadWriteLock();
  readonly local: LocalContentStore;
  readonly #db: MetadataDb;
  readonly #namespaces: NamespaceStore;
  readonly #leases: LeaseStore;
  readonly #gc: GcScheduler;

  constructor(parts: MetadataContentStoreParts) {
    this.#db = parts.db;
    this.local = parts.local;
    this.#namespaces = parts.namespaces;
    this.#leases = parts.leases;
    this.#gc = parts.gc;
    this.#db.ensureSchema(`
      CREATE TABLE IF NOT EXISTS content_blobs (
        namespace TEXT NOT NULL,
        digest TEXT NOT NULL,
        size INTEGER NOT NULL,
        labels TEXT NOT NULL DEFAULT '{}',
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (namespace, digest)
      );
      CREATE INDEX IF NOT EXISTS content_blobs_by_digest ON content_blobs (digest);
      CREATE TABLE IF NOT EXISTS content_ingests (
        namespace TEXT NOT NULL,
        ref TEXT NOT NULL,
        expected TEXT,
        created_at TEXT NOT NULL,
        PRIMARY KEY (namespace, ref)
      );
    `);
  }

  /** A blob as `namespace` sees it, or not_found. */
  info(namespace: string, digest: Digest): ContentInfo {
    validateDigest(digest);
    this.#requireNamespace(namespace);
    const row = this.#blobRow(namespace, digest);
    if (!row) throw notFound(`content ${digest} not found in namespace ${namespace}`);
    return toInfo(row);
  }

  /** The namespace's blobs matching any filter (fields: digest, size, labels.<key>). */
  list(namespace: string, filters: string[] = []): ContentInfo[] {
    this.#requireNamespace(namespace);
    const filter = parseFilters(filters);
    return this.#db.all<BlobRow>(
      "SELECT * FROM content_blobs WHERE namespace = ? ORDER BY digest",
      namespace,
    ).map(toInfo).filter((info) =>
      filter.matches(recordLookup({ digest: info.digest, size: info.size }, info.labels))
    );
  }

  /**
   * Changes a blob's labels. Without field paths the label set is replaced; with
   * paths (`labels`, `labels.<key>`) only those change, and a key missing from
   * `labels` (or set to "") is removed. Mirrors containerd's Update with a field mask.
   */
  update(
    namespace: string,
    digest: Digest,
    labels: Labels,
    fieldPaths: string[] = [],
  ): ContentInfo {
    validateLabels(labels);
    return this.#db.transaction(() => {
      const current = this.info(namespace, digest);
      let updated: Labels;
      if (fieldPaths.length === 0) {
        updated = { ...labels };
      } else {
        updated = { ...current.labels };
        for (const path of fieldPaths) {
          if (path === "labels") {
            updated = { ...labels };
          } else if (path.startsWith("labels.") && path.length > "labels.".length) {
            const key = path.slice("labels.".length);
            const value = labels[key];
            if (value === undefined || value === "") delete updated[key];
            else updated[key] = value;
          } else {
            throw invalidArgument(
              `cannot update field "${path}" of content: only labels and labels.<key> can change`,
            );
          }
        }
      }
      for (const [key, value] of Object.entries(updated)) if (value === "") delete updated[key];
      validateLabels(updated);
      const updatedAt = now();
      this.#db.run(
        "UPDATE content_blobs SET labels = ?, updated_at = ? WHERE namespace = ? AND digest = ?",
        JSON.stringify(updated),
        updatedAt,
        namespace,
        digest,
      );
      return { ...current, labels: updated, updatedAt };
    });
  }

  /** Removes the namespace's record; the file goes at the next garbage collection. */
  delete(namespace: string, digest: Digest): void {
    validateDigest(digest);
    this.#requireNamespace(namespace);
    const removed = this.#db.run(
      "DELETE FROM content_blobs WHERE namespace = ? AND digest = ?",
      namespace,
      digest,
    );
    if (removed === 0) throw notFound(`content ${digest} not found in namespace ${namespace}`);
    this.#gc.schedule();
  }

  /** Streams a blob the namespace has, from `offset`. */
  async read(namespace: string, digest: Digest, offset = 0): Promise<ReadableStream<Uint8Array>> {
    const info = this.info(namespace, digest);
    try {
      return await this.local.openBlob(digest, offset);
    } catch (error) {
      if (error instanceof ApiError && error.code === "not_found") {
        throw notFound(
          `content ${digest} (${info.size} bytes) is recorded in namespace ${namespace} but its ` +
            `blob file is missing from the store: delete the record and write the blob again`,
        );
      }
      throw error;
    }
  }

  /**
   * Writes a blob through an ingest: stream the body in, then (unless `commit` is
   * false) verify and commit it. See WriteOptions for offsets and resuming.
   */
  async write(
    namespace: string,
    body: ReadableStream<Uint8Array> | Uint8Array,
    options: StoreWriteOptions,
  ): Promise<WriteResult> {
    const commit = options.commit ?? true;
    const ref = validateRef(options.ref);
    const expected = options.expected === undefined || options.expected === ""
      ? undefined
      : validateDigest(options.expected, "expected digest");
    const total = validateSize(options.total, "expected size");
    const offset = options.offset === undefined
      ? undefined
      : validateSize(options.offset, "offset");
    const labels = validateLabels(options.labels ?? {});
    this.#namespaces.ensure(namespace);
    if (options.lease !== undefined) this.#leases.get(namespace, options.lease);

    if (commit && expected !== undefined && !offset) {
      const existing = await this.#recordExisting(
        namespace,
        expected,
        total,
        labels,
        options.lease,
      );
      if (existing) {
        if (body instanceof ReadableStream) await body.cancel().catch(() => {});
        return { committed: true, existed: true, info: existing };
      }
    }

    const writer = await this.local.openWriter(ingestKey(namespace, ref), { total, offset });
    let result: WriteResult | undefined;
    try {
      this.#recordIngest(namespace, ref, expected, options.lease);
      await writer.write(body);
      if (commit) {
        result = await this.#commit(namespace, ref, writer, expected, labels, options.lease);
      }
    } catch (error) {
      await this.#forgetIngestIfGone(namespace, ref);
      throw error;
    } finally {
      await writer.release();
    }
    return result ?? { committed: false, status: await this.status(namespace, ref) };
  }

  /** The state of the namespace's ingest `ref`, or not_found. */
  async status(namespace: string, ref: string): Promise<IngestStatus> {
    this.#requireNamespace(namespace);
    const row = this.#ingestRow(namespace, ref);
    const status = row ? await this.#statusOf(row) : undefined;
    if (!status) throw notFound(`no active ingest for ref ${ref} in namespace ${namespace}`);
    return status;
  }

  /** The namespace's active ingests matching any filter (fields: ref, expected). */
  async listStatuses(namespace: string, filters: string[] = []): Promise<IngestStatus[]> {
    this.#requireNamespace(namespace);
    const filter = parseFilters(filters);
    const statuses: IngestStatus[] = [];
    const rows = this.#db.all<IngestRow>(
      "SELECT namespace, ref, expected FROM content_ingests WHERE namespace = ? ORDER BY ref",
      namespace,
    );
    for (const row of rows) {
      const status = await this.#statusOf(row);
      if (status && filter.matches(recordLookup({ ref: status.ref, expected: status.expected }))) {
        statuses.push(status);
      }
    }
    return statuses;
  }

  /** Removes an ingest and its bytes; refused while a write to it is running. */
  async abort(namespace: string, ref: string): Promise<void> {
    this.#requireNamespace(namespace);
    if (!this.#ingestRow(namespace, ref)) {
      throw notFound(`no active ingest for ref ${ref} in namespace ${namespace}`);
    }
    try {
      await this.local.abort(ingestKey(namespace, ref));
    } catch (error) {
      if (!(error instanceof ApiError && error.code === "not_found")) throw error;
    }
    this.#forgetIngest(namespace, ref);
  }

  // ---- for garbage collection (see gc_source.ts) ----

  /** Every blob record of every namespace. */
  allBlobRecords(): { namespace: string; digest: Digest; labels: Labels }[] {
    return this.#db.all<BlobRow>("SELECT namespace, digest, labels FROM content_blobs")
      .map((row) => ({
        namespace: row.namespace,
        digest: row.digest,
        labels: parseLabels(row.labels),
      }));
  }

  /** The labels of one record, or undefined. */
  recordLabels(namespace: string, digest: Digest): Labels | undefined {
    const row = this.#blobRow(namespace, digest);
    return row ? parseLabels(row.labels) : undefined;
  }

  /** Every ingest record of every namespace. */
  allIngestRecords(): { namespace: string; ref: string }[] {
    return this.#db.all<IngestRow>("SELECT namespace, ref FROM content_ingests");
  }

  /** Removes a record without scheduling GC (the collector itself calls this). */
  removeRecord(namespace: string, digest: Digest): void {
    this.#db.run("DELETE FROM content_blobs WHERE namespace = ? AND digest = ?", namespace, digest);
  }

  /**
   * Deletes blob files that no namespace records, and ingest directories that no
   * namespace owns (left by a crash). Holds the commit lock exclusively, so no
   * commit is between its rename and its record. Returns what it removed.
   */
  async removeUnreferencedFiles(): Promise<string[]> {
    return await this.commitLock.exclusive(async () => {
      const removed: string[] = [];
      const referenced = new Set(
        this.#db.all<{ digest: string }>("SELECT DISTINCT digest FROM content_blobs")
          .map((row) => row.digest),
      );
      for (const digest of await this.local.listBlobs()) {
        if (!referenced.has(digest) && await this.local.deleteBlob(digest)) {
          removed.push(`content ${digest}`);
        }
      }
      const owned = new Set(
        this.allIngestRecords().map((row) => ingestKey(row.namespace, row.ref)),
      );
      for (const ingest of await this.local.listIngests()) {
        if (owned.has(ingest.ref) || this.local.isLocked(ingest.ref)) continue;
        await this.local.removeIngestDirectory(ingest);
        removed.push(`ingest ${ingest.ref}`);
      }
      return removed;
    });
  }

  // ---- internals ----

  /**
   * When the expected blob is already known, records it for the namespace (labels
   * merged, lease updated) and returns its info; undefined when it must be written.
   */
  async #recordExisting(
    namespace: string,
    digest: Digest,
    total: number,
    labels: Labels,
    lease: string | undefined,
  ): Promise<ContentInfo | undefined> {
    const row = this.#blobRow(namespace, digest);
    if (row) {
      // A different announced size cannot be this blob: let the write fail verification.
      if (total > 0 && total !== Number(row.size)) return undefined;
      return this.#upsertBlob(namespace, digest, Number(row.size), labels, lease);
    }
    return await this.commitLock.shared(async () => {
      const size = await this.local.blobSize(digest);
      if (size === undefined || (total > 0 && total !== size)) return undefined;
      return this.#upsertBlob(namespace, digest, size, labels, lease);
    });
  }

  async #commit(
    namespace: string,
    ref: string,
    writer: IngestWriter,
    expected: Digest | undefined,
    labels: Labels,
    lease: string | undefined,
  ): Promise<WriteResult> {
    const digest = await writer.verify(expected);
    const size = writer.offset;
    return await this.commitLock.shared(async () => {
      const outcome = await writer.commit();
      const existed = outcome === "exists" && this.#blobRow(namespace, digest) !== undefined;
      const info = this.#db.transaction(() => {
        this.#forgetIngest(namespace, ref);
        return this.#upsertBlob(namespace, digest, size, labels, lease);
      });
      return { committed: true, existed, info };
    });
  }

  /** Inserts the namespace's record, or merges labels into the existing one. */
  #upsertBlob(
    namespace: string,
    digest: Digest,
    size: number,
    labels: Labels,
    lease: string | undefined,
  ): ContentInfo {
    return this.#db.transaction(() => {
      const row = this.#blobRow(namespace, digest);
      const timestamp = now();
      let info: ContentInfo;
      if (row) {
        info = toInfo(row);
        if (Object.keys(labels).length > 0) {
          const merged = validateLabels({ ...info.labels, ...labels });
          this.#db.run(
            "UPDATE content_blobs SET labels = ?, updated_at = ? WHERE namespace = ? AND digest = ?",
            JSON.stringify(merged),
            timestamp,
            namespace,
            digest,
          );
          info = { ...info, labels: merged, updatedAt: timestamp };
        }
      } else {
        this.#db.run(
          `INSERT INTO content_blobs (namespace, digest, size, labels, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?)`,
          namespace,
          digest,
          size,
          JSON.stringify(labels),
          timestamp,
          timestamp,
        );
        info = { digest, size, labels, createdAt: timestamp, updatedAt: timestamp };
      }
      if (lease !== undefined) {
        this.#leases.addResource(namespace, lease, { type: "content", id: digest });
      }
      return info;
    });
  }

  #recordIngest(namespace: string, ref: string, expected: Digest | undefined, lease?: string) {
    this.#db.transaction(() => {
      this.#db.run(
        `INSERT INTO content_ingests (namespace, ref, expected, created_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (namespace, ref) DO UPDATE SET expected = excluded.expected`,
        namespace,
        ref,
        expected ?? null,
        now(),
      );
      if (lease !== undefined) {
        this.#leases.addResource(namespace, lease, { type: "ingests", id: ref });
      }
    });
  }

  #forgetIngest(namespace: string, ref: string): void {
    this.#db.transaction(() => {
      this.#db.run("DELETE FROM content_ingests WHERE namespace = ? AND ref = ?", namespace, ref);
      this.#leases.forgetResource(namespace, { type: "ingests", id: ref });
    });
  }

  /** After a failed write: drops the record when the ingest itself was removed. */
  async #forgetIngestIfGone(namespace: string, ref: string): Promise<void> {
    if (!await this.local.ingestStatus(ingestKey(namespace, ref))) {
      this.#forgetIngest(namespace, ref);
    }
  }

  async #statusOf(row: IngestRow): Promise<IngestStatus | undefined> {
    const key = ingestKey(row.namespace, row.ref);
    const local = await this.local.ingestStatus(key);
    if (!local) {
      // A record whose directory is gone (a crash between the two): drop it.
      if (!this.local.isLocked(key)) this.#forgetIngest(row.namespace, row.ref);
      return undefined;
    }
    const status: IngestStatus = {
      ref: row.ref,
      offset: local.offset,
      total: local.total,
      startedAt: local.startedAt,
      updatedAt: local.updatedAt,
    };
    if (row.expected) status.expected = row.expected;
    return status;
  }

  #requireNamespace(namespace: string): void {
    if (!this.#namespaces.exists(namespace)) {
      throw notFound(
        `namespace ${namespace} not found: nothing was written to it yet ` +
          `(writes create it; or run \`mini-ctr namespaces create ${namespace}\`)`,
      );
    }
  }

  #blobRow(namespace: string, digest: Digest): BlobRow | undefined {
    return this.#db.get<BlobRow>(
      "SELECT * FROM content_blobs WHERE namespace = ? AND digest = ?",
      namespace,
      digest,
    );
  }

  #ingestRow(namespace: string, ref: string): IngestRow | undefined {
    return this.#db.get<IngestRow>(
      "SELECT namespace, ref, expected FROM content_ingests WHERE namespace = ? AND ref = ?",
      namespace,
      ref,
    );
  }
}

/**
 * The ref the local store sees: namespaces cannot contain "/", so prefixing keeps
 * two namespaces' ingests with the same ref apart.
 */
export function ingestKey(namespace: string, ref: string): string {
  return `${namespace}/${ref}`;
}

function toInfo(row: BlobRow): ContentInfo {
  return {
    digest: row.digest,
    size: Number(row.size),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    labels: parseLabels(row.labels),
  };
}

function validateRef(ref: unknown): string {
  if (typeof ref !== "string" || ref === "") {
    throw invalidArgument("ref is required: name the ingest, e.g. after the digest you write");
  }
  if (ref.length > MAX_REF_LENGTH) {
    throw invalidArgument(`ref is longer than ${MAX_REF_LENGTH} characters`);
  }
  if ([...ref].some((character) => character.charCodeAt(0) < 0x20)) {
    throw invalidArgument("ref must not contain control characters");
  }
  return ref;
}

function validateSize(value: unknown, what: string): number {
  if (value === undefined || value === null || value === "") return 0;
  const number = typeof value === "string" ? Number(value) : value;
  if (typeof number !== "number" || !Number.isSafeInteger(number) || number < 0) {
    throw invalidArgument(`${what} ${JSON.stringify(value)} is not a byte count`);
  }
  return number;
}
