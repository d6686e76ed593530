// What this teaches: writing a layer is writing a tar stream, entry after entry, with
// backpressure: the writer waits whenever the reader (the compressor, the content store)
// falls behind, so memory stays flat however big the layer is. Anything a plain ustar
// header cannot hold (long or non-ASCII names, large ids, xattrs) goes into a PAX header
// placed right before the entry.
// Mirrors the tar.Writer use in containerd's pkg/archive/tar.go (changeWriter) and Go's
// archive/tar PAX writing (writePAXHeader), which sorts records for stable output.

import { type Pack, pack } from "tar-stream";
import { encodePaxRecords, xattrPaxPrefix } from "./pax.ts";

/** One entry to write. */
export interface TarHeaderInput {
  /** Relative path; directories without the trailing "/" (added here). */
  name: string;
  type: "file" | "link" | "symlink" | "directory" | "character-device" | "block-device" | "fifo";
  mode: number;
  uid: number;
  gid: number;
  /** Whole seconds since the epoch (layers use whole seconds; see diff.ts). */
  mtimeSeconds: number;
  size?: number;
  linkname?: string;
  devmajor?: number;
  devminor?: number;
  xattrs?: Map<string, Uint8Array>;
}

const fileTypeBits: Record<TarHeaderInput["type"], number> = {
  file: 0o100000,
  link: 0o100000,
  symlink: 0o120000,
  directory: 0o040000,
  "character-device": 0o020000,
  "block-device": 0o060000,
  fifo: 0o010000,
};
const maxOctalId = 0o7777777; // 7 octal digits: the largest uid/gid ustar can hold
const encoder = new TextEncoder();

// tar-stream 3.2.2 can emit PAX headers itself, but encodes every value as UTF-8 text,
// which corrupts binary xattr values. Its Pack encodes each header through the internal
// method `_encode`; wrapping it lets a header carry ready-made raw PAX records that are
// written (as a typeflag 'x' entry) just before it. tests/archive/xattr_test.ts catches
// a tar-stream upgrade that changes this.
interface PackInternals {
  _encode(header: Record<string, unknown>): void;
  push(chunk: Uint8Array): boolean;
}

/** A streaming tar writer; iterate `output` for the bytes. */
export class TarWriter {
  readonly #pack: Pack;
  readonly #rawPax = new WeakMap<object, Uint8Array>();

  constructor() {
    this.#pack = pack();
    const internals = this.#pack as unknown as PackInternals;
    const encode = internals._encode;
    const rawPax = this.#rawPax;
    internals._encode = function (this: PackInternals, header: Record<string, unknown>) {
      const records = rawPax.get(header);
      if (records !== undefined) {
        encode.call(this, {
          name: "PaxHeader",
          type: "pax-header",
          size: records.length,
          mode: 0o644,
          uid: 0,
          gid: 0,
          mtime: header.mtime,
        });
        this.push(records);
        const padding = (512 - (records.length % 512)) % 512;
        if (padding > 0) this.push(new Uint8Array(padding));
      }
      encode.call(this, header);
    };
  }

  /** The tar bytes, in order; ends after finalize(). */
  get output(): AsyncIterable<Uint8Array> {
    return this.#pack as unknown as AsyncIterable<Uint8Array>;
  }

  /**
   * Writes one entry; `data` is a regular file's content (all of it, or chunks that
   * add up to `size`). Resolves once the entry is handed to the reader side.
   */
  async add(input: TarHeaderInput, data?: Uint8Array | AsyncIterable<Uint8Array>): Promise<void> {
    const header = this.#header(input);
    // A regular file without data still needs its (empty) body, or the entry never ends.
    if (data === undefined && input.type === "file") data = new Uint8Array(0);
    if (data === undefined || data instanceof Uint8Array) {
      await new Promise<void>((resolve, reject) => {
        const done = (error?: Error | null) => error ? reject(error) : resolve();
        if (data === undefined) this.#pack.entry(header, done);
        else this.#pack.entry(header, data, done);
      });
      return;
    }
    let sink!: ReturnType<Pack["entry"]>;
    // The executor runs synchronously, so `sink` is set when the constructor returns.
    const finished = new Promise<void>((resolve, reject) => {
      sink = this.#pack.entry(header, (error) => error ? reject(error) : resolve());
    });
    for await (const chunk of data) {
      if (!sink.write(chunk)) {
        await new Promise<void>((resolve) => {
          sink.once("drain", () => resolve());
          sink.once("close", () => resolve()); // destroyed: the next write reports why
        });
      }
    }
    sink.end(undefined);
    await finished;
  }

  /** Writes the end-of-archive marker. */
  finalize(): void {
    this.#pack.finalize();
  }

  /** Aborts the stream: readers of `output` see `error`. */
  destroy(error: Error): void {
    this.#pack.destroy(error);
  }

  #header(input: TarHeaderInput): Record<string, unknown> & { name: string } {
    const records: [string, Uint8Array][] = [];
    // Directories end in "/", as Go's archive/tar (and so docker and containerd) writes them.
    let name = input.type === "directory" ? `${input.name}/` : input.name;
    let linkname = input.linkname;
    let uid = input.uid;
    let gid = input.gid;
    if (!fitsUstarField(name)) {
      records.push(["path", encoder.encode(name)]);
      name = asciiPlaceholder(name);
    }
    if (linkname !== undefined && !fitsUstarField(linkname)) {
      records.push(["linkpath", encoder.encode(linkname)]);
      linkname = asciiPlaceholder(linkname);
    }
    if (uid > maxOctalId) {
      records.push(["uid", encoder.encode(String(uid))]);
      uid = 0;
    }
    if (gid > maxOctalId) {
      records.push(["gid", encoder.encode(String(gid))]);
      gid = 0;
    }
    for (const [key, value] of input.xattrs ?? []) records.push([xattrPaxPrefix + key, value]);
    const header = {
      name,
      type: input.type,
      // tar-stream replaces a falsy mode with 0644/0755; the file type bits keep a real
      // mode 0 (chmod 000) truthy and are masked off when the header is encoded.
      mode: (input.mode & 0o7777) | fileTypeBits[input.type],
      uid,
      gid,
      mtime: new Date(input.mtimeSeconds * 1000),
      size: input.size ?? 0,
      linkname,
      devmajor: input.devmajor ?? 0,
      devminor: input.devminor ?? 0,
    };
    if (records.length > 0) {
      records.sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0);
      this.#rawPax.set(header, encodePaxRecords(records));
    }
    return header;
  }
}

/** True when `text` is ASCII and fits a 100-byte ustar name or linkname field. */
function fitsUstarField(text: string): boolean {
  // deno-lint-ignore no-control-regex
  return text.length <= 100 && /^[\x01-\x7f]*$/.test(text);
}

/** What the ustar field holds when the real value is in the PAX header (as Go does). */
function asciiPlaceholder(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, "_").slice(0, 99);
}
