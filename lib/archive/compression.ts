// What this teaches: a layer blob is a tar, usually gzip- or zstd-compressed, and the
// media type is only a hint: unpackers look at the first bytes ("magic numbers") to know
// which decompressor to run. Compression and decompression are streamed, so a 1 GB layer
// never sits in memory.
// Mirrors containerd's pkg/archive/compression (DetectCompression, DecompressStream,
// CompressStream).

import { once } from "node:events";
import type { Transform } from "node:stream";
import zlib from "node:zlib";
import type { Compression } from "./types.ts";
import { invalidArgument } from "../api/errors.ts";
import { compressionOf } from "./magic.ts";

/** The compression of a blob, judged from its first bytes (at least 6 when available). */
export function detectCompression(head: Uint8Array): Compression {
  const found = compressionOf(head);
  if (found === undefined) return "none";
  if (found === "gzip" || found === "zstd") return found;
  // Formats Docker once accepted that OCI layers do not use; named so the error is clear.
  throw invalidArgument(
    `layer is ${found}-compressed; only gzip, zstd and plain tar are supported`,
  );
}

// Larger output chunks than zlib's 16 KiB default mean fewer callbacks per megabyte.
const chunkSize = 256 * 1024;

function decompressor(compression: Compression): Transform | undefined {
  if (compression === "gzip") return zlib.createGunzip({ chunkSize });
  if (compression === "zstd") return zlib.createZstdDecompress({ chunkSize });
  return undefined;
}

function compressor(compression: Compression, level: number | undefined): Transform | undefined {
  if (compression === "gzip") {
    // node:zlib writes a gzip header with mtime 0 and no file name: the same bytes in give
    // the same blob out, which reproducible layers depend on.
    return zlib.createGzip({ chunkSize, ...(level === undefined ? {} : { level }) });
  }
  if (compression === "zstd") {
    const params = level === undefined ? {} : { [zlib.constants.ZSTD_c_compressionLevel]: level };
    return zlib.createZstdCompress({ chunkSize, params });
  }
  return undefined;
}

/**
 * Runs `input` through a node:zlib transform with backpressure in both directions: the
 * feeder waits for "drain", the transform's output is pulled by the consumer.
 */
async function* throughTransform(
  transform: Transform,
  input: AsyncIterable<Uint8Array>,
): AsyncGenerator<Uint8Array> {
  const stopFeeding = new AbortController();
  const feeding = (async () => {
    try {
      for await (const chunk of input) {
        if (!transform.write(chunk)) await once(transform, "drain", { signal: stopFeeding.signal });
      }
      transform.end();
    } catch (error) {
      if (!stopFeeding.signal.aborted) transform.destroy(error as Error);
    }
  })();
  try {
    for await (const chunk of transform) yield chunk as Uint8Array;
  } finally {
    stopFeeding.abort();
    transform.destroy();
    await feeding;
  }
}

/** Reads a web stream as an async iterable, cancelling it if the consumer stops early. */
async function* chunksOf(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  alreadyRead: Uint8Array[],
): AsyncGenerator<Uint8Array> {
  let finished = false;
  try {
    yield* alreadyRead;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      yield value;
    }
    finished = true;
  } finally {
    if (!finished) await reader.cancel().catch(() => {});
    reader.releaseLock();
  }
}

/** A decompressed view of a layer blob, with the compression that was found. */
export interface Decompressed {
  compression: Compression;
  chunks: AsyncIterable<Uint8Array>;
}

/** Detects the blob's compression from its first bytes and streams the decompressed tar. */
export async function decompressStream(blob: ReadableStream<Uint8Array>): Promise<Decompressed> {
  const reader = blob.getReader();
  const head: Uint8Array[] = [];
  let headLength = 0;
  while (headLength < 6) {
    const { done, value } = await reader.read();
    if (done) break;
    head.push(value);
    headLength += value.length;
  }
  const firstBytes = head.length === 1 ? head[0] : concatBytes(head);
  let compression: Compression;
  try {
    compression = detectCompression(firstBytes.subarray(0, 6));
  } catch (error) {
    await reader.cancel().catch(() => {});
    throw error;
  }
  const raw = chunksOf(reader, head);
  const transform = decompressor(compression);
  return { compression, chunks: transform === undefined ? raw : throughTransform(transform, raw) };
}

/** Compresses a stream of tar bytes (or passes it through for "none"). */
export function compressStream(
  input: AsyncIterable<Uint8Array>,
  compression: Compression,
  level?: number,
): AsyncIterable<Uint8Array> {
  const transform = compressor(compression, level);
  return transform === undefined ? input : throughTransform(transform, input);
}

function concatBytes(parts: Uint8Array[]): Uint8Array {
  const result = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    result.set(part, offset);
    offset += part.length;
  }
  return result;
}
