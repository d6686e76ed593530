// What this teaches: a layer is read as one stream, front to back, never seeked: each
// entry's header arrives, then its data, then the next header. The diffID is the sha256
// of exactly the bytes the tar parser consumes, computed on the way through, so unpacking
// and verifying a layer is a single pass.
// Mirrors containerd's pkg/archive/tar.go (the tar.Reader loop of applyNaive) and the
// digest-while-reading of core/diff/apply (the "uncompressed" digester).

import { createHash } from "node:crypto";
import { extract, type Header } from "tar-stream";
import { decodePaxRecords, parsePaxTime, type PaxRecords, paxText } from "./pax.ts";
import type { FileTime } from "./syscalls.ts";
import { LayerEntryError } from "./types.ts";

/** The kinds of tar entries a layer may hold. */
export type TarEntryType =
  | "file"
  | "link"
  | "symlink"
  | "directory"
  | "character-device"
  | "block-device"
  | "fifo";

/** One entry's header, with PAX overrides already applied. */
export interface TarEntry {
  /** The name exactly as stored (not yet checked: see paths.ts). */
  name: string;
  type: TarEntryType;
  size: number;
  /** Permission bits including setuid/setgid/sticky (no file type bits). */
  mode: number;
  uid: number;
  gid: number;
  mtime: FileTime;
  /** Symlink target or hardlink source, as stored. */
  linkname: string;
  devmajor: number;
  devminor: number;
  /** The entry's PAX records with raw byte values (xattrs live here), if it had any. */
  pax: PaxRecords | undefined;
}

/** Receives the data of one regular-file entry, chunk by chunk. */
export interface EntryDataSink {
  write(chunk: Uint8Array): void;
  /** All data delivered; finish the file (metadata, close). */
  end(): void;
  /** The apply failed mid-file; release what is held (close the descriptor). */
  abort(): void;
}

/** Called once per entry; returns a sink for a regular file's data, or undefined to skip it. */
export type EntryHandler = (entry: TarEntry) => EntryDataSink | undefined;

/** Totals of a read tar stream. */
export interface TarReadResult {
  /** sha256 of every byte of the uncompressed stream. */
  diffId: string;
  size: number;
  entries: number;
}

const knownTypes = new Set<string>([
  "file",
  "link",
  "symlink",
  "directory",
  "character-device",
  "block-device",
  "fifo",
]);

// tar-stream 3.2.2 decodes PAX record values as UTF-8 text, which corrupts binary xattr
// values such as security.capability. Its extractor passes each PAX body to the
// (internal) method `_decodeLongHeader`; wrapping it lets us keep the raw bytes too.
// tests/archive/xattr_test.ts fails if a tar-stream upgrade changes this.
interface ExtractInternals {
  _header: { type: string; name: string };
  _decodeLongHeader(body: Uint8Array): void;
}

function toEntry(header: Header, pax: PaxRecords | undefined): TarEntry {
  const type = header.type === "contiguous-file" ? "file" : header.type;
  if (!knownTypes.has(type)) {
    throw new LayerEntryError(
      header.name,
      `unsupported tar entry type ${JSON.stringify(header.type ?? "unknown")}`,
    );
  }
  const paxMtime = paxText(pax, "mtime");
  const mtime = (paxMtime === undefined ? undefined : parsePaxTime(paxMtime)) ??
    { seconds: Math.floor(header.mtime.getTime() / 1000), nanoseconds: 0 };
  const paxUid = paxText(pax, "uid");
  const paxGid = paxText(pax, "gid");
  return {
    name: header.name,
    type: type as TarEntryType,
    size: header.size,
    mode: header.mode & 0o7777,
    uid: paxUid === undefined ? header.uid : Number(paxUid),
    gid: paxGid === undefined ? header.gid : Number(paxGid),
    mtime,
    linkname: header.linkname ?? "",
    devmajor: header.devmajor,
    devminor: header.devminor,
    pax,
  };
}

/**
 * Parses an uncompressed tar stream, calling `onEntry` for each entry in order and
 * feeding file data to the sink it returns, while hashing the stream for the diffID.
 * Rejects on the first error from the parser or from a handler.
 */
export async function readTar(
  chunks: AsyncIterable<Uint8Array>,
  onEntry: EntryHandler,
): Promise<TarReadResult> {
  const extractor = extract();
  const internals = extractor as unknown as ExtractInternals;
  let globalPax: PaxRecords | undefined;
  let pendingPax: PaxRecords | undefined;
  const decodeLongHeader = internals._decodeLongHeader;
  internals._decodeLongHeader = function (this: ExtractInternals, body: Uint8Array) {
    if (this._header.type === "pax-header") pendingPax = decodePaxRecords(body, this._header.name);
    if (this._header.type === "pax-global-header") globalPax = decodePaxRecords(body);
    return decodeLongHeader.call(this, body);
  };

  let failure: Error | undefined;
  const fail = (error: unknown) => {
    if (failure !== undefined) return;
    failure = error instanceof Error ? error : new Error(String(error));
    extractor.destroy(failure);
  };

  let entries = 0;
  extractor.on("entry", (header, stream, next) => {
    entries++;
    const localPax = pendingPax;
    pendingPax = undefined;
    const pax = globalPax === undefined ? localPax : new Map([...globalPax, ...(localPax ?? [])]);
    let sink: EntryDataSink | undefined;
    // Listen first: a failing handler destroys the parser, which destroys this stream.
    stream.on("error", (error: Error) => {
      sink?.abort();
      fail(error);
    });
    try {
      sink = onEntry(toEntry(header, pax));
    } catch (error) {
      fail(error);
      return;
    }
    stream.on("data", (chunk) => {
      if (sink === undefined || failure !== undefined) return;
      try {
        sink.write(chunk as Uint8Array);
      } catch (error) {
        sink.abort();
        fail(error);
      }
    });
    stream.on("end", () => {
      if (failure !== undefined) return;
      try {
        sink?.end();
      } catch (error) {
        fail(error);
        return;
      }
      next();
    });
  });

  // One listener pair for the whole read: resolves whoever waits for "drain" or the end.
  let wakeWriter: (() => void) | undefined;
  const wake = () => {
    const resolve = wakeWriter;
    wakeWriter = undefined;
    resolve?.();
  };
  extractor.on("drain", wake);
  const closed = new Promise<void>((resolve) => {
    extractor.on("error", fail);
    extractor.on("close", () => {
      wake();
      resolve();
    });
  });

  const hash = createHash("sha256");
  let size = 0;
  try {
    for await (const chunk of chunks) {
      hash.update(chunk);
      size += chunk.length;
      if (failure !== undefined) break;
      if (!extractor.write(chunk)) {
        await new Promise<void>((resolve) => {
          wakeWriter = resolve;
          if (extractor.destroyed) wake();
        });
      }
      if (failure !== undefined) break;
    }
  } catch (error) {
    fail(error);
  }
  if (failure === undefined) extractor.end(undefined);
  await closed;
  if (failure !== undefined) throw failure;
  return { diffId: `sha256:${hash.digest("hex")}`, size, entries };
}
