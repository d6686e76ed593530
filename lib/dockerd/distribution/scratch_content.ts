// What this teaches: dockerd (20.10, without the containerd image store) keeps no blobs.
// A pulled or loaded layer is downloaded, unpacked into the layer store, and the
// compressed bytes are thrown away; only the mapping "registry blob digest → diffID"
// is remembered. Yet the archive importer and the registry client mini already has
// speak to a *content store*. So a transfer gets a scratch content store of its own,
// a plain directory of verified blobs under <data-root>/tmp/, deleted when the
// transfer ends. That is also why `mini-ctr -n moby images ls` shows none of dockerd's
// images: they never enter containerd.
// Mirrors moby's distribution/pull_v2.go (v2LayerDescriptor downloading to a temp
// file) in spirit; the ContentApi contract is containerd's core/content.

import { join } from "node:path";
import { ApiError, notFound } from "../../api/errors.ts";
import { LocalContentStore } from "../../content/local_store.ts";
import type {
  ContentApi,
  ContentFilter,
  ContentInfo,
  Digest,
  IngestStatus,
  WriteOptions,
} from "../../content/types.ts";
import type { Labels } from "../../metadata/db.ts";

/** A throw-away content store in a temp directory (no namespaces, labels in memory). */
export class ScratchContent implements ContentApi {
  readonly #local: LocalContentStore;
  readonly #labels = new Map<Digest, Labels>();
  readonly #created = new Map<Digest, string>();

  private constructor(readonly directory: string) {
    this.#local = new LocalContentStore(directory);
  }

  /** Creates a scratch store in a new directory below `parent`. */
  static async create(parent: string, prefix: string): Promise<ScratchContent> {
    await Deno.mkdir(parent, { recursive: true });
    return new ScratchContent(await Deno.makeTempDir({ dir: parent, prefix }));
  }

  /** Deletes the store and everything in it. */
  async destroy(): Promise<void> {
    await Deno.remove(this.directory, { recursive: true }).catch(() => {});
  }

  /** The path of a committed blob (for streaming it elsewhere). */
  blobPath(digest: Digest): string {
    return this.#local.blobPath(digest);
  }

  async info(digest: Digest): Promise<ContentInfo> {
    const size = await this.#local.blobSize(digest);
    if (size === undefined) throw notFound(`content ${digest} is not in the store`);
    const stamp = this.#created.get(digest) ?? new Date().toISOString();
    return {
      digest,
      size,
      createdAt: stamp,
      updatedAt: stamp,
      labels: this.#labels.get(digest) ?? {},
    };
  }

  async list(_filters: ContentFilter[] = []): Promise<ContentInfo[]> {
    const infos: ContentInfo[] = [];
    for (const digest of await this.#local.listBlobs()) infos.push(await this.info(digest));
    return infos;
  }

  async updateLabels(
    digest: Digest,
    labels: Labels,
    options: { merge?: boolean } = {},
  ): Promise<ContentInfo> {
    await this.info(digest);
    const next = options.merge ? { ...(this.#labels.get(digest) ?? {}) } : {};
    for (const [key, value] of Object.entries(labels)) {
      if (value === "" && options.merge) delete next[key];
      else next[key] = value;
    }
    this.#labels.set(digest, next);
    return await this.info(digest);
  }

  async delete(digest: Digest): Promise<void> {
    if (!await this.#local.deleteBlob(digest)) {
      throw notFound(`content ${digest} is not in the store`);
    }
    this.#labels.delete(digest);
  }

  async read(digest: Digest, offset = 0): Promise<ReadableStream<Uint8Array>> {
    return await this.#local.openBlob(digest, offset);
  }

  async readAll(digest: Digest, maxSize = 16 * 1024 * 1024): Promise<Uint8Array> {
    const size = await this.#local.blobSize(digest);
    if (size === undefined) throw notFound(`content ${digest} is not in the store`);
    if (size > maxSize) {
      throw new ApiError(
        "resource_exhausted",
        `blob ${digest} is ${size} bytes, more than ${maxSize}`,
      );
    }
    return await Deno.readFile(this.#local.blobPath(digest));
  }

  async write(
    body: ReadableStream<Uint8Array<ArrayBuffer>> | Uint8Array<ArrayBuffer>,
    options: WriteOptions,
  ): Promise<ContentInfo> {
    if (
      options.expected !== undefined && await this.#local.blobSize(options.expected) !== undefined
    ) {
      if (!(body instanceof Uint8Array)) await body.cancel().catch(() => {});
      return await this.#withLabels(options.expected, options.labels);
    }
    const writer = await this.#local.openWriter(options.ref, {
      total: options.total,
      offset: options.offset,
    });
    try {
      await writer.write(body);
      const digest = await writer.verify(options.expected);
      await writer.commit();
      this.#created.set(digest, new Date().toISOString());
      return await this.#withLabels(digest, options.labels);
    } finally {
      await writer.release();
    }
  }

  async #withLabels(digest: Digest, labels: Labels | undefined): Promise<ContentInfo> {
    if (labels && Object.keys(labels).length > 0) {
      return await this.updateLabels(digest, labels, { merge: true });
    }
    return await this.info(digest);
  }

  async append(
    body: ReadableStream<Uint8Array<ArrayBuffer>> | Uint8Array<ArrayBuffer>,
    options: WriteOptions,
  ): Promise<IngestStatus> {
    const writer = await this.#local.openWriter(options.ref, {
      total: options.total,
      offset: options.offset,
    });
    try {
      await writer.write(body);
    } finally {
      await writer.release();
    }
    return await this.status(options.ref);
  }

  async status(ref: string): Promise<IngestStatus> {
    const ingest = await this.#local.ingestStatus(ref);
    if (!ingest) throw notFound(`no active ingest for ref ${ref}`);
    return {
      ref,
      offset: ingest.offset,
      total: ingest.total,
      startedAt: ingest.startedAt,
      updatedAt: ingest.updatedAt,
    };
  }

  async listStatuses(_filters: ContentFilter[] = []): Promise<IngestStatus[]> {
    return (await this.#local.listIngests()).map((ingest) => ({
      ref: ingest.ref,
      offset: ingest.offset,
      total: ingest.total,
      startedAt: ingest.startedAt,
      updatedAt: ingest.updatedAt,
    }));
  }

  async abort(ref: string): Promise<void> {
    await this.#local.abort(ref);
  }

  /** Where the store lives (for logs). */
  toString(): string {
    return join(this.directory);
  }
}
