// What this teaches: the same ContentApi contract served two ways. Clients use
// ContentClient over the socket; code inside the daemon (an importer, the images
// service) uses this in-process view, bound to one namespace (and optionally a
// lease) just like a client. Mirrors how containerd's services wrap the metadata
// content store with the namespace taken from the request context.

import { ApiError } from "../api/errors.ts";
import type { Labels } from "../metadata/db.ts";
import type { MetadataContentStore } from "./metadata_store.ts";
import type {
  ContentApi,
  ContentFilter,
  ContentInfo,
  Digest,
  IngestStatus,
  WriteOptions,
} from "./types.ts";

/** Default cap of readAll: manifests and configs are small; layers are streamed. */
export const DEFAULT_READ_ALL_LIMIT = 16 * 1024 * 1024;

/** The content store as one namespace sees it, inside the daemon. */
export class NamespacedContent implements ContentApi {
  constructor(
    private readonly store: MetadataContentStore,
    readonly namespace: string,
    readonly lease?: string,
  ) {}

  info(digest: Digest): Promise<ContentInfo> {
    return Promise.resolve().then(() => this.store.info(this.namespace, digest));
  }

  list(filters?: ContentFilter[]): Promise<ContentInfo[]> {
    return Promise.resolve().then(() => this.store.list(this.namespace, filters));
  }

  updateLabels(
    digest: Digest,
    labels: Labels,
    options: { merge?: boolean } = {},
  ): Promise<ContentInfo> {
    const paths = options.merge ? Object.keys(labels).map((key) => `labels.${key}`) : [];
    return Promise.resolve().then(() =>
      this.store.update(this.namespace, digest, labels, paths.length > 0 ? paths : [])
    );
  }

  delete(digest: Digest): Promise<void> {
    return Promise.resolve().then(() => this.store.delete(this.namespace, digest));
  }

  read(digest: Digest, offset = 0): Promise<ReadableStream<Uint8Array>> {
    return this.store.read(this.namespace, digest, offset);
  }

  async readAll(digest: Digest, maxSize = DEFAULT_READ_ALL_LIMIT): Promise<Uint8Array> {
    return await readWholeBlob(await this.info(digest), () => this.read(digest), maxSize);
  }

  async write(
    body: ReadableStream<Uint8Array<ArrayBuffer>> | Uint8Array<ArrayBuffer>,
    options: WriteOptions,
  ): Promise<ContentInfo> {
    const result = await this.store.write(this.namespace, body, { ...options, lease: this.lease });
    return result.info!;
  }

  async append(
    body: ReadableStream<Uint8Array<ArrayBuffer>> | Uint8Array<ArrayBuffer>,
    options: WriteOptions,
  ): Promise<IngestStatus> {
    const result = await this.store.write(this.namespace, body, {
      ...options,
      commit: false,
      lease: this.lease,
    });
    return result.status!;
  }

  status(ref: string): Promise<IngestStatus> {
    return this.store.status(this.namespace, ref);
  }

  listStatuses(filters?: ContentFilter[]): Promise<IngestStatus[]> {
    return this.store.listStatuses(this.namespace, filters);
  }

  abort(ref: string): Promise<void> {
    return this.store.abort(this.namespace, ref);
  }
}

/**
 * Reads a whole blob into memory after checking its size against `maxSize`; shared
 * by the in-daemon view and the socket client.
 */
export async function readWholeBlob(
  info: ContentInfo,
  open: () => Promise<ReadableStream<Uint8Array>>,
  maxSize: number,
): Promise<Uint8Array> {
  if (info.size > maxSize) {
    throw new ApiError(
      "resource_exhausted",
      `content ${info.digest} is ${info.size} bytes, more than the ${maxSize} readAll accepts: ` +
        `stream it with read() instead`,
    );
  }
  const whole = new Uint8Array(info.size);
  let offset = 0;
  for await (const chunk of await open()) {
    if (offset + chunk.byteLength > info.size) {
      throw new ApiError("internal", `content ${info.digest} is longer than its recorded size`);
    }
    whole.set(chunk, offset);
    offset += chunk.byteLength;
  }
  if (offset !== info.size) {
    throw new ApiError(
      "internal",
      `content ${info.digest} ended after ${offset} of ${info.size} bytes`,
    );
  }
  return whole;
}
