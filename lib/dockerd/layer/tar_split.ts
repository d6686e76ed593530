// What this teaches: how Docker can hand out (push, save) a layer tar that is byte for
// byte the one it once unpacked, although it kept only the unpacked files. A layer's
// identity is the sha256 of its tar (the diffID, listed in the image config), so a
// re-created tar must reproduce every header, padding byte and entry order exactly,
// and no tar writer reproduces another writer's headers. While a layer is unpacked,
// Docker therefore records the tar's *skeleton*: every byte that is not file content
// (headers, PAX records, padding, the end-of-archive blocks) as "segments", and for
// each entry its name and size. Put back together with the file contents read from the
// diff directory, the skeleton yields the original stream. The record is stored gzip'd
// next to the layer's metadata, as layerdb/sha256/<chainID>/tar-split.json.gz, one
// JSON object per line: {"type":1,"name":...,"size":N,"payload":null,"position":k}
// for a file, {"type":2,"payload":"<base64 bytes>","position":k} for a segment.
// Mirrors github.com/vbatts/tar-split (tar/asm, tar/storage) as moby's layer store uses
// it (layer/layer_store.go applyTar, layer/ro_layer.go TarStream).

import { createHash } from "node:crypto";
import { Buffer } from "node:buffer";
import { AtFlags, close, openAt, OpenFlags, openInRoot, read } from "../../archive/syscalls.ts";

const BLOCK = 512;
const FILE_ENTRY = 1;
const SEGMENT_ENTRY = 2;

/** One line of a tar-split record. */
export interface TarSplitEntry {
  type: typeof FILE_ENTRY | typeof SEGMENT_ENTRY;
  name?: string;
  size?: number;
  /** Base64 bytes of a segment; null for files (tar-split would put a crc64 here). */
  payload: string | null;
  position: number;
}

/** Reads a NUL/space-terminated octal field, or a base-256 one (high bit set). */
function numericField(block: Uint8Array, offset: number, length: number): number {
  if (block[offset] & 0x80) {
    let value = block[offset] & 0x7f;
    for (let index = 1; index < length; index++) value = value * 256 + block[offset + index];
    return value;
  }
  const text = new TextDecoder().decode(block.subarray(offset, offset + length))
    .replace(/\0.*$/s, "").trim();
  return text === "" ? 0 : parseInt(text, 8);
}

function stringField(block: Uint8Array, offset: number, length: number): string {
  const field = block.subarray(offset, offset + length);
  const end = field.indexOf(0);
  return new TextDecoder().decode(end < 0 ? field : field.subarray(0, end));
}

/** PAX records `"<len> key=value\n"` (the length counts bytes) → key → value. */
function paxRecords(body: Uint8Array): Map<string, string> {
  const records = new Map<string, string>();
  const decoder = new TextDecoder();
  let offset = 0;
  while (offset < body.byteLength) {
    const space = body.indexOf(0x20, offset);
    if (space < 0) break;
    const length = Number(decoder.decode(body.subarray(offset, space)));
    if (!Number.isInteger(length) || length <= 0) break;
    const record = decoder.decode(body.subarray(space + 1, offset + length)).replace(/\n$/, "");
    const equals = record.indexOf("=");
    if (equals > 0) records.set(record.slice(0, equals), record.slice(equals + 1));
    offset += length;
  }
  return records;
}

/**
 * Watches an uncompressed tar stream go by and records its skeleton. Feed every chunk
 * to push() in order, then call finish(); entries() gives the record.
 */
export class TarSplitRecorder {
  readonly #entries: TarSplitEntry[] = [];
  #segment: Uint8Array[] = [];
  #pending = new Uint8Array(0);
  #state: "header" | "meta" | "payload" | "padding" | "trailer" = "header";
  #remaining = 0;
  #metaType = "";
  #metaBody: Uint8Array[] = [];
  #nextPath: string | undefined;
  #nextSize: number | undefined;
  #padding = 0;

  /** Consumes one chunk of the tar. */
  push(chunk: Uint8Array): void {
    let data = this.#pending.byteLength > 0 ? concat([this.#pending, chunk]) : chunk;
    this.#pending = new Uint8Array(0);
    while (data.byteLength > 0) {
      switch (this.#state) {
        case "trailer":
          this.#segment.push(data.slice());
          return;
        case "header": {
          if (data.byteLength < BLOCK) {
            this.#pending = data.slice();
            return;
          }
          const block = data.subarray(0, BLOCK);
          data = data.subarray(BLOCK);
          this.#header(block);
          break;
        }
        case "meta": {
          const take = Math.min(this.#remaining, data.byteLength);
          this.#metaBody.push(data.slice(0, take));
          this.#segment.push(data.slice(0, take));
          data = data.subarray(take);
          this.#remaining -= take;
          if (this.#remaining === 0) this.#endMeta();
          break;
        }
        case "payload": {
          const take = Math.min(this.#remaining, data.byteLength);
          data = data.subarray(take);
          this.#remaining -= take;
          if (this.#remaining === 0) this.#state = this.#padding > 0 ? "padding" : "header";
          break;
        }
        case "padding": {
          const take = Math.min(this.#padding, data.byteLength);
          this.#segment.push(data.slice(0, take));
          data = data.subarray(take);
          this.#padding -= take;
          if (this.#padding === 0) this.#state = "header";
          break;
        }
      }
    }
  }

  #header(block: Uint8Array): void {
    this.#segment.push(block.slice());
    if (block.every((byte) => byte === 0)) {
      // The end-of-archive blocks: everything from here on is kept verbatim.
      this.#state = "trailer";
      return;
    }
    const type = String.fromCharCode(block[156] || 0x30);
    const size = this.#nextSize ?? numericField(block, 124, 12);
    const padding = (BLOCK - (size % BLOCK)) % BLOCK;
    if (type === "x" || type === "g" || type === "L" || type === "K") {
      this.#metaType = type;
      this.#metaBody = [];
      this.#remaining = size + padding;
      this.#padding = padding;
      this.#state = this.#remaining > 0 ? "meta" : "header";
      if (this.#remaining === 0) this.#endMeta();
      return;
    }
    let name = this.#nextPath;
    if (name === undefined) {
      const magic = stringField(block, 257, 6);
      const prefix = magic === "ustar" ? stringField(block, 345, 155) : "";
      const base = stringField(block, 0, 100);
      name = prefix ? `${prefix}/${base}` : base;
    }
    this.#nextPath = undefined;
    this.#nextSize = undefined;
    const isRegular = type === "0" || type === "7" || block[156] === 0;
    this.#flushSegment();
    this.#entries.push({
      type: FILE_ENTRY,
      name,
      size: isRegular ? size : 0,
      payload: null,
      position: this.#entries.length,
    });
    if (isRegular && size > 0) {
      this.#remaining = size;
      this.#padding = padding;
      this.#state = "payload";
    } else if (size > 0) {
      // A non-file entry with a body (rare): keep the body verbatim in the segment.
      this.#metaType = "";
      this.#metaBody = [];
      this.#remaining = size + padding;
      this.#state = "meta";
    }
  }

  #endMeta(): void {
    this.#state = "header";
    const body = concat(this.#metaBody);
    const content = body.subarray(0, body.byteLength - this.#padding);
    if (this.#metaType === "x") {
      const records = paxRecords(content);
      if (records.has("path")) this.#nextPath = records.get("path");
      if (records.has("size")) this.#nextSize = Number(records.get("size"));
    } else if (this.#metaType === "L") {
      this.#nextPath = new TextDecoder().decode(content).replace(/\0+$/, "");
    }
    this.#metaType = "";
    this.#padding = 0;
  }

  #flushSegment(): void {
    if (this.#segment.length === 0) return;
    this.#entries.push({
      type: SEGMENT_ENTRY,
      payload: Buffer.from(concat(this.#segment)).toString("base64"),
      position: this.#entries.length,
    });
    this.#segment = [];
  }

  /** Ends the recording (call after the last chunk). */
  finish(): TarSplitEntry[] {
    if (this.#pending.byteLength > 0) {
      this.#segment.push(this.#pending);
      this.#pending = new Uint8Array(0);
    }
    this.#flushSegment();
    return this.#entries;
  }
}

function concat(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0];
  const joined = new Uint8Array(parts.reduce((sum, part) => sum + part.byteLength, 0));
  let offset = 0;
  for (const part of parts) {
    joined.set(part, offset);
    offset += part.byteLength;
  }
  return joined;
}

/** Writes a record as gzip'd NDJSON (tar-split.json.gz). */
export async function writeTarSplit(path: string, entries: TarSplitEntry[]): Promise<void> {
  const text = entries.map((entry) => JSON.stringify(entry)).join("\n") + "\n";
  const compressed = await new Response(
    new Blob([text]).stream().pipeThrough(new CompressionStream("gzip")),
  ).arrayBuffer();
  await Deno.writeFile(path, new Uint8Array(compressed), { mode: 0o600 });
}

/** Reads a tar-split.json.gz record. */
export async function readTarSplit(path: string): Promise<TarSplitEntry[]> {
  const file = await Deno.open(path);
  const text = await new Response(file.readable.pipeThrough(new DecompressionStream("gzip")))
    .text();
  return text.split("\n").filter((line) => line !== "").map((line) => JSON.parse(line));
}

/** The size in bytes of the tar a record reassembles to. */
export function tarSize(entries: TarSplitEntry[]): number {
  let size = 0;
  for (const entry of entries) {
    if (entry.type === SEGMENT_ENTRY) size += Buffer.from(entry.payload ?? "", "base64").byteLength;
    else size += entry.size ?? 0;
  }
  return size;
}

/** A tar entry's name as a path below the diff dir ("./bin/sh" → "bin/sh"); refuses "..". */
function entryPath(name: string): string {
  const parts = name.split("/").filter((part) => part !== "" && part !== ".");
  if (parts.includes("..")) {
    throw new Error(`tar-split entry ${JSON.stringify(name)} leaves the layer`);
  }
  return parts.join("/");
}

const READ_CHUNK = 1024 * 1024;

/**
 * Reassembles the original layer tar from its record and the diff dir. Files are read
 * with every path resolved inside the diff dir (a symlink in the layer cannot lead out).
 * When `expectedDiffId` is given the stream fails at its end unless the bytes hash to it.
 */
export function assembleTar(
  diffDir: string,
  entries: TarSplitEntry[],
  expectedDiffId?: string,
): ReadableStream<Uint8Array> {
  const hash = createHash("sha256");
  async function* produce(): AsyncGenerator<Uint8Array> {
    const rootFd = openAt(AtFlags.FDCWD, diffDir, OpenFlags.RDONLY | OpenFlags.DIRECTORY);
    try {
      for (const entry of entries) {
        if (entry.type === SEGMENT_ENTRY) {
          const bytes = new Uint8Array(Buffer.from(entry.payload ?? "", "base64"));
          hash.update(bytes);
          yield bytes;
          continue;
        }
        const size = entry.size ?? 0;
        if (size === 0) continue;
        const fd = openInRoot(rootFd, entryPath(entry.name ?? ""), OpenFlags.RDONLY);
        try {
          let left = size;
          while (left > 0) {
            const buffer = new Uint8Array(Math.min(READ_CHUNK, left));
            const count = read(fd, buffer);
            if (count === 0) {
              throw new Error(
                `layer file ${entry.name} is shorter than the ${size} bytes its tar entry had`,
              );
            }
            const piece = buffer.subarray(0, count);
            hash.update(piece);
            left -= count;
            yield piece;
          }
        } finally {
          close(fd);
        }
      }
    } finally {
      close(rootFd);
    }
    const diffId = `sha256:${hash.digest("hex")}`;
    if (expectedDiffId !== undefined && diffId !== expectedDiffId) {
      throw new Error(
        `the reassembled layer has diffID ${diffId}, not ${expectedDiffId}: ` +
          `its files in ${diffDir} were changed`,
      );
    }
  }
  return ReadableStream.from(produce());
}
