// What this teaches: how bytes from an archive become content-store blobs without
// ever being held whole in memory. Each tar entry is streamed straight into an
// ingest of the store; the store hashes as it writes and commits only when size
// and digest verify. If anything goes wrong half-way (a truncated archive, a digest
// that does not match the blob's name, a lost connection) the ingest is aborted, so
// nothing half-written is left behind and nothing unverified ever becomes a blob.
// Small JSON documents (index.json, manifest.json, manifests, configs) are the only
// things read into memory, and only up to a fixed limit.
// Mirrors onUntarBlob/onUntarJSON in containerd's core/images/archive/importer.go and
// content.WriteBlob in core/content/helpers.go.

import { ApiError, invalidArgument, isErrorCode } from "../api/errors.ts";
import type { ContentApi, ContentInfo, Digest } from "../content/types.ts";
import { detectCompression } from "../archive/compression.ts";
import type { Compression } from "../archive/types.ts";
import { MAX_MANIFEST_BYTES } from "../images/manifest.ts";

/**
 * The largest JSON file read from an archive (index.json, manifest.json): the same
 * limit mini applies to manifests and configs (containerd's importer allows 20 MiB;
 * real ones are a few KiB).
 */
export const MAX_JSON_BYTES = MAX_MANIFEST_BYTES;

/** What one streamed entry became. */
export interface IngestedBlob {
  digest: Digest;
  size: number;
  /** Compression judged from the first bytes (docker archives do not say). */
  compression: Compression;
}

/** Options of ingestBlob(). */
export interface IngestOptions {
  /** The ingest's name in the store; the same ref names the same unfinished write. */
  ref: string;
  /** The digest the bytes must have (an OCI `blobs/sha256/<hex>` names it). */
  expected?: Digest;
  /** The size the tar header declares. */
  size: number;
  /** The archive entry, for error messages. */
  entryName: string;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Streams `body` into the content store and commits it. On failure the ingest is
 * aborted and the error names the archive entry; a digest mismatch says so plainly.
 */
export async function ingestBlob(
  content: ContentApi,
  body: AsyncIterable<Uint8Array>,
  options: IngestOptions,
): Promise<IngestedBlob> {
  const iterator = body[Symbol.asyncIterator]();
  let head = new Uint8Array(0);
  let received = 0;
  let sourceError: unknown;
  const stream = new ReadableStream<Uint8Array<ArrayBuffer>>({
    async pull(controller) {
      try {
        const { done, value } = await iterator.next();
        if (done) {
          controller.close();
          return;
        }
        if (head.byteLength < 8) {
          const joined = new Uint8Array(head.byteLength + value.byteLength);
          joined.set(head);
          joined.set(value, head.byteLength);
          head = joined.subarray(0, 8);
        }
        received += value.byteLength;
        controller.enqueue(value as Uint8Array<ArrayBuffer>);
      } catch (error) {
        // End the upload short instead of breaking it: the store then refuses the
        // commit (too few bytes) with a proper answer, so by the time the answer
        // arrives it has finished with the ingest and the abort below cannot race it.
        sourceError = error;
        controller.close();
      }
    },
    // No iterator.return() on cancel (the store answers early when it already has the
    // blob): ending a tar entry's iterator would destroy the whole archive stream. The
    // tar reader skips whatever is left of the entry instead.
  });

  let info: ContentInfo;
  try {
    info = await content.write(stream, {
      ref: options.ref,
      expected: options.expected,
      total: options.size,
    });
  } catch (error) {
    await abortIngest(content, options.ref);
    // A failure of the archive itself (truncated, corrupt gzip) explains more than
    // the upload error it caused.
    if (sourceError !== undefined) throw sourceError;
    if (options.expected && isErrorCode(error, "already_exists")) {
      return { digest: options.expected, size: options.size, compression: compressionOf(head) };
    }
    throw blobError(error, options, received);
  }
  // The store answers early, without reading the body, when it already has the
  // expected blob; the rest of the entry is then skipped by the tar reader.
  const alreadyStored = options.expected !== undefined && info.digest === options.expected;
  if (received !== options.size && !alreadyStored) {
    throw invalidArgument(
      `archive entry ${options.entryName}: read ${received} bytes, the tar header says ${options.size}`,
    );
  }
  return { digest: info.digest, size: info.size, compression: compressionOf(head) };
}

/**
 * Removes an unfinished ingest. The daemon may still be closing the failed upload
 * (the ref stays locked until it has), so a locked ref is retried for a while; a
 * daemon that is gone leaves the ingest to the expiry of the import's lease.
 */
async function abortIngest(content: ContentApi, ref: string): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt++) {
    try {
      await content.abort(ref);
      return;
    } catch (error) {
      if (isErrorCode(error, "not_found")) return;
      const locked = isErrorCode(error, "unavailable") && /locked/.test(messageOf(error));
      if (!locked) return;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}

function compressionOf(head: Uint8Array): Compression {
  try {
    return detectCompression(head);
  } catch {
    return "none"; // bzip2/xz layers: left for unpack to refuse with its own message
  }
}

function blobError(error: unknown, options: IngestOptions, received: number): Error {
  const message = messageOf(error);
  const where = `archive entry ${options.entryName}`;
  if (options.expected && /digest|size/i.test(message) && received === options.size) {
    return invalidArgument(
      `${where} does not match its name: its bytes do not hash to ${options.expected} ` +
        `(${message}); the archive is corrupt or was tampered with`,
    );
  }
  if (error instanceof ApiError) return new ApiError(error.code, `${where}: ${message}`);
  return new Error(`${where}: ${message}`);
}

/** Reads a whole (small) archive entry, refusing anything over `limit` bytes. */
export async function readSmallEntry(
  body: AsyncIterable<Uint8Array>,
  size: number,
  entryName: string,
  limit = MAX_JSON_BYTES,
): Promise<Uint8Array> {
  if (size > limit) {
    throw invalidArgument(
      `archive entry ${entryName} is ${size} bytes, over the ${limit}-byte limit for ` +
        "JSON metadata in an image archive",
    );
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for await (const chunk of body) {
    if (offset + chunk.byteLength > size) {
      throw invalidArgument(`archive entry ${entryName} is longer than its tar header says`);
    }
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  if (offset !== size) {
    throw invalidArgument(
      "the archive is truncated: the tar stream ended in the middle of an entry " +
        `(${entryName})`,
    );
  }
  return bytes;
}

/** Parses JSON bytes, naming `what` when they are not JSON. */
export function parseJson<T>(bytes: Uint8Array, what: string): T {
  try {
    return JSON.parse(new TextDecoder().decode(bytes)) as T;
  } catch (error) {
    throw invalidArgument(`${what} is not valid JSON: ${messageOf(error)}`);
  }
}

/** Stores a small in-memory document (a generated manifest or index) as a blob. */
export async function writeSmallBlob(
  content: ContentApi,
  bytes: Uint8Array<ArrayBuffer>,
  digest: Digest,
): Promise<void> {
  const ref = `import-${crypto.randomUUID().slice(0, 8)}-${digest}`;
  try {
    await content.write(bytes, { ref, expected: digest, total: bytes.length });
  } catch (error) {
    if (isErrorCode(error, "already_exists")) return;
    await abortIngest(content, ref);
    throw error;
  }
}
