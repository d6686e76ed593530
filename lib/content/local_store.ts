// What this teaches: the on-disk half of a content-addressed store, and how it stays
// correct through crashes. Finished blobs live at `blobs/sha256/<hex>`, read-only, and
// are only ever created by rename(2) of a fully written, fsynced and verified file, so
// a reader either finds the whole blob or nothing. Unfinished writes live in
// `ingest/<sha256 of ref>/` with the bytes in `data` and the bookkeeping in `ref`,
// `startedat`, `updatedat` and `total`; a write that dies half way can be resumed from
// the size of `data`. This layer knows nothing about namespaces or labels; those are
// in the metadata database (see metadata_store.ts). Mirrors containerd's
// `plugins/content/local/store.go` and `writer.go`.

import { createHash, type Hash } from "node:crypto";
import { join } from "node:path";
import { ApiError, failedPrecondition, invalidArgument, notFound } from "../api/errors.ts";
import { digestHex } from "./digest.ts";
import { CoalescingWriter } from "./coalescing_writer.ts";
import type { Digest } from "./types.ts";

/** Size of the reads that stream a blob back to a client. */
const READ_CHUNK_BYTES = 1024 * 1024;

/** An ingest as the files in its directory describe it. */
export interface LocalIngest {
  /** The ref the ingest was opened with (the metadata layer prefixes its namespace). */
  ref: string;
  /** The ingest's directory, `ingest/<sha256 of ref>`. */
  directory: string;
  /** Bytes in `data`: where a resumed write continues. */
  offset: number;
  /** Expected size, 0 when unknown. */
  total: number;
  startedAt: string;
  updatedAt: string;
}

/** Options for opening a writer. */
export interface LocalWriterOptions {
  /** Expected size of the whole blob, when known. */
  total?: number;
  /**
   * Where the caller's bytes start. Must equal the ingest's current size to resume;
   * leave it out to start over (an existing ingest is truncated, as containerd's
   * `content.Copy` truncates when it cannot seek its source).
   */
  offset?: number;
}

/** The content store's directory tree: `blobs/sha256/` and `ingest/`. */
export class LocalContentStore {
  /** Refs with a writer open, and since when: containerd's in-process ref locks. */
  readonly #locks = new Map<string, string>();
  readonly blobsDir: string;
  readonly ingestDir: string;

  constructor(readonly root: string) {
    this.blobsDir = join(root, "blobs", "sha256");
    this.ingestDir = join(root, "ingest");
    Deno.mkdirSync(this.blobsDir, { recursive: true, mode: 0o755 });
    Deno.mkdirSync(this.ingestDir, { recursive: true, mode: 0o700 });
  }

  /** Path of a committed blob. */
  blobPath(digest: Digest): string {
    return join(this.blobsDir, digestHex(digest));
  }

  /** Path of an ingest directory: named by the sha256 of the ref, so any ref is a safe name. */
  ingestPath(ref: string): string {
    return join(this.ingestDir, createHash("sha256").update(ref).digest("hex"));
  }

  /** The size of a committed blob, or undefined when it is not on disk. */
  async blobSize(digest: Digest): Promise<number | undefined> {
    try {
      return (await Deno.stat(this.blobPath(digest))).size;
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return undefined;
      throw error;
    }
  }

  /** Streams a blob from `offset`, one megabyte at a time, never holding it whole. */
  async openBlob(digest: Digest, offset = 0): Promise<ReadableStream<Uint8Array>> {
    const size = await this.blobSize(digest);
    if (size === undefined) throw notFound(`content ${digest} is not in the store`);
    if (!Number.isSafeInteger(offset) || offset < 0 || offset > size) {
      throw invalidArgument(`read offset ${offset} is outside blob ${digest} of ${size} bytes`);
    }
    const file = await Deno.open(this.blobPath(digest), { read: true });
    if (offset > 0) await file.seek(offset, Deno.SeekMode.Start);
    let open = true;
    const close = () => {
      if (open) file.close();
      open = false;
    };
    return new ReadableStream<Uint8Array>({
      async pull(controller) {
        try {
          const buffer = new Uint8Array(READ_CHUNK_BYTES);
          const count = await file.read(buffer);
          if (count === null) {
            close();
            controller.close();
          } else {
            controller.enqueue(buffer.subarray(0, count));
          }
        } catch (error) {
          close();
          controller.error(error);
        }
      },
      cancel: close,
    });
  }

  /** Removes a blob file; false when it was not there. */
  async deleteBlob(digest: Digest): Promise<boolean> {
    try {
      await Deno.remove(this.blobPath(digest));
      return true;
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return false;
      throw error;
    }
  }

  /** Every committed blob on disk. */
  async listBlobs(): Promise<Digest[]> {
    const digests: Digest[] = [];
    for await (const entry of Deno.readDir(this.blobsDir)) {
      if (entry.isFile && /^[a-f0-9]{64}$/.test(entry.name)) digests.push(`sha256:${entry.name}`);
    }
    return digests;
  }

  /** True while a writer holds `ref`. */
  isLocked(ref: string): boolean {
    return this.#locks.has(ref);
  }

  /** The state of one ingest, or undefined when there is none. */
  async ingestStatus(ref: string): Promise<LocalIngest | undefined> {
    return await readIngest(this.ingestPath(ref));
  }

  /** Every ingest on disk, whatever its ref. */
  async listIngests(): Promise<LocalIngest[]> {
    const ingests: LocalIngest[] = [];
    for await (const entry of Deno.readDir(this.ingestDir)) {
      if (!entry.isDirectory) continue;
      const ingest = await readIngest(join(this.ingestDir, entry.name));
      if (ingest) ingests.push(ingest);
    }
    return ingests;
  }

  /** Removes an ingest and its bytes; refused while a write to it is in progress. */
  async abort(ref: string): Promise<void> {
    this.#refuseIfLocked(ref);
    try {
      await Deno.remove(this.ingestPath(ref), { recursive: true });
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) throw notFound(`no active ingest for ref ${ref}`);
      throw error;
    }
  }

  /** Removes an ingest directory left without an owner (used by garbage collection). */
  async removeIngestDirectory(ingest: LocalIngest): Promise<void> {
    if (this.isLocked(ingest.ref)) return;
    await Deno.remove(ingest.directory, { recursive: true }).catch(() => {});
  }

  /**
   * Opens (creating or resuming) the ingest `ref` and locks it until the writer is
   * released. A second writer on the same ref gets "unavailable: ref is locked".
   */
  async openWriter(ref: string, options: LocalWriterOptions = {}): Promise<IngestWriter> {
    if (ref === "") throw invalidArgument("an ingest ref must not be empty");
    const total = options.total ?? 0;
    if (!Number.isSafeInteger(total) || total < 0) {
      throw invalidArgument(`expected size ${options.total} is not a byte count`);
    }
    this.#refuseIfLocked(ref);
    this.#locks.set(ref, new Date().toISOString());
    try {
      return await this.#openLocked(ref, total, options.offset);
    } catch (error) {
      this.#locks.delete(ref);
      throw error;
    }
  }

  async #openLocked(ref: string, total: number, offset: number | undefined): Promise<IngestWriter> {
    const directory = this.ingestPath(ref);
    const dataPath = join(directory, "data");
    const existing = await readIngest(directory);
    const current = existing?.offset ?? 0;
    if (offset !== undefined && offset !== current) {
      throw failedPrecondition(
        `ingest ${ref} is at offset ${current}, not ${offset}: resume the write with ` +
          `offset ${current}, or leave the offset out to start over`,
      );
    }
    const startingOver = offset === undefined;
    if (existing && existing.total > 0 && total > 0 && existing.total !== total && !startingOver) {
      throw failedPrecondition(
        `ingest ${ref} expects ${existing.total} bytes, not ${total}: ` +
          `resume it with the same size, or abort it first`,
      );
    }
    const timestamp = new Date().toISOString();
    if (!existing) {
      await Deno.mkdir(directory, { recursive: true, mode: 0o700 });
      await Deno.writeTextFile(join(directory, "ref"), ref);
      await Deno.writeTextFile(join(directory, "startedat"), timestamp);
    }
    await Deno.writeTextFile(join(directory, "updatedat"), timestamp);
    const effectiveTotal = total > 0 ? total : startingOver ? 0 : existing?.total ?? 0;
    await Deno.writeTextFile(join(directory, "total"), String(effectiveTotal));

    const file = await Deno.open(dataPath, { read: true, write: true, create: true });
    const hash = createHash("sha256");
    let position = 0;
    try {
      if (startingOver) {
        await file.truncate(0);
      } else if (current > 0) {
        // The hash state died with the last writer: re-read what is there, as containerd does.
        position = await hashFile(dataPath, hash);
        await file.seek(0, Deno.SeekMode.End);
      }
    } catch (error) {
      file.close();
      throw error;
    }
    const syncFile = await Deno.open(dataPath, { read: true });
    return new IngestWriter(this, {
      ref,
      directory,
      file,
      syncFile,
      hash,
      offset: position,
      total: effectiveTotal,
      release: () => this.#locks.delete(ref),
    });
  }

  #refuseIfLocked(ref: string): void {
    const since = this.#locks.get(ref);
    if (since !== undefined) {
      throw new ApiError(
        "unavailable",
        `ref ${ref} is locked: another write to it is in progress (since ${since}); ` +
          `wait for it to finish, or write under another ref`,
      );
    }
  }
}

interface WriterParts {
  ref: string;
  directory: string;
  file: Deno.FsFile;
  syncFile: Deno.FsFile;
  hash: Hash;
  offset: number;
  total: number;
  release: () => void;
}

/**
 * One open ingest: append bytes with `write`, then `verify` (fsync, size, digest) and
 * `commit` (rename into blobs/), and always `release`.
 */
export class IngestWriter {
  #offset: number;
  #total: number;
  #file?: Deno.FsFile;
  #syncFile?: Deno.FsFile;
  #verifiedDigest?: Digest;
  #released = false;
  #discarded = false;

  constructor(private readonly store: LocalContentStore, private readonly parts: WriterParts) {
    this.#offset = parts.offset;
    this.#total = parts.total;
    this.#file = parts.file;
    this.#syncFile = parts.syncFile;
  }

  get ref(): string {
    return this.parts.ref;
  }

  /** Bytes in the ingest so far. */
  get offset(): number {
    return this.#offset;
  }

  /** Expected size, 0 when unknown. */
  get total(): number {
    return this.#total;
  }

  /**
   * Appends a body to the ingest, hashing as it goes. More bytes than the expected
   * size remove the ingest (its bytes cannot be the announced blob) and fail.
   */
  async write(body: ReadableStream<Uint8Array> | Uint8Array): Promise<void> {
    const file = this.#requireOpen();
    const appender = new CoalescingWriter(file, this.#syncFile);
    const accept = async (chunk: Uint8Array) => {
      if (this.#total > 0 && this.#offset + chunk.byteLength > this.#total) {
        const offered = this.#offset + chunk.byteLength;
        await appender.flush().catch(() => {});
        await this.#discard();
        throw failedPrecondition(
          `ingest ${this.ref} received at least ${offered} bytes, more than the expected ` +
            `size ${this.#total}: the ingest was removed; write it again with the right size`,
        );
      }
      this.parts.hash.update(chunk);
      this.#offset += chunk.byteLength;
      await appender.append(chunk);
    };
    try {
      if (body instanceof Uint8Array) {
        await accept(body);
      } else {
        for await (const chunk of body) await accept(chunk);
      }
    } finally {
      // Whatever arrived before an error stays in `data`, so the write can be resumed.
      if (!this.#discarded) await appender.flush();
    }
  }

  /**
   * Makes the bytes durable and checks them: fsync, then the size against the expected
   * total, then the digest against `expected`. A short ingest stays for a resume; a
   * digest mismatch removes it. Returns the digest of the bytes.
   */
  async verify(expected?: Digest): Promise<Digest> {
    const file = this.#requireOpen();
    await file.sync();
    this.#closeFiles();
    if (this.#total > 0 && this.#offset !== this.#total) {
      throw failedPrecondition(
        `unexpected commit size ${this.#offset}, expected ${this.#total}: ingest ${this.ref} ` +
          `stays at offset ${this.#offset}; resume it from there`,
      );
    }
    const digest = `sha256:${this.parts.hash.digest("hex")}`;
    if (expected !== undefined && expected !== digest) {
      await this.#discard();
      throw failedPrecondition(
        `unexpected commit digest ${digest}, expected ${expected}: the bytes are not the ` +
          `announced blob, so ingest ${this.ref} was removed`,
      );
    }
    this.#verifiedDigest = digest;
    return digest;
  }

  /**
   * Moves the verified bytes to `blobs/sha256/<hex>` (read-only), fsyncs the directory
   * so the rename survives a crash, and removes the ingest. When the blob already
   * exists the ingest is just removed: "exists" is success for the caller.
   */
  async commit(): Promise<"committed" | "exists"> {
    const digest = this.#verifiedDigest;
    if (digest === undefined) throw new ApiError("internal", "commit called before verify");
    const target = this.store.blobPath(digest);
    const dataPath = join(this.parts.directory, "data");
    if (await this.store.blobSize(digest) !== undefined) {
      await this.#discard();
      return "exists";
    }
    await Deno.chmod(dataPath, 0o444);
    await Deno.rename(dataPath, target);
    await syncDirectory(this.store.blobsDir);
    await this.#discard();
    return "committed";
  }

  /** Closes the files, records the last update time and unlocks the ref. */
  async release(): Promise<void> {
    if (this.#released) return;
    this.#released = true;
    this.#closeFiles();
    if (!this.#discarded) {
      await Deno.writeTextFile(
        join(this.parts.directory, "updatedat"),
        new Date().toISOString(),
      ).catch(() => {});
    }
    this.parts.release();
  }

  #requireOpen(): Deno.FsFile {
    if (!this.#file) {
      throw failedPrecondition(`ingest ${this.ref} is no longer open for writing`);
    }
    return this.#file;
  }

  #closeFiles(): void {
    this.#file?.close();
    this.#syncFile?.close();
    this.#file = undefined;
    this.#syncFile = undefined;
  }

  async #discard(): Promise<void> {
    this.#closeFiles();
    this.#discarded = true;
    await Deno.remove(this.parts.directory, { recursive: true }).catch(() => {});
  }
}

/** Reads an ingest directory; undefined when it does not exist (or was never finished). */
async function readIngest(directory: string): Promise<LocalIngest | undefined> {
  let ref: string;
  try {
    ref = await Deno.readTextFile(join(directory, "ref"));
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
  const read = (name: string) => Deno.readTextFile(join(directory, name)).catch(() => "");
  let offset = 0;
  let modified: Date | null = null;
  try {
    const data = await Deno.stat(join(directory, "data"));
    offset = data.size;
    modified = data.mtime;
  } catch { /* no bytes yet */ }
  const startedAt = (await read("startedat")).trim();
  const updatedAtFile = (await read("updatedat")).trim();
  // The data file's mtime is newer than `updatedat` while bytes are flowing.
  const updatedAt = modified && modified.toISOString() > updatedAtFile
    ? modified.toISOString()
    : updatedAtFile;
  return {
    ref,
    directory,
    offset,
    total: Number((await read("total")).trim() || "0"),
    startedAt: startedAt || updatedAt,
    updatedAt: updatedAt || startedAt,
  };
}

/** Feeds a whole file to `hash` in large reads; returns its size. */
async function hashFile(path: string, hash: Hash): Promise<number> {
  const file = await Deno.open(path, { read: true });
  try {
    const buffer = new Uint8Array(4 * 1024 * 1024);
    let size = 0;
    while (true) {
      const count = await file.read(buffer);
      if (count === null) return size;
      hash.update(buffer.subarray(0, count));
      size += count;
    }
  } finally {
    file.close();
  }
}

/** fsyncs a directory, making a rename into it durable. */
async function syncDirectory(path: string): Promise<void> {
  const directory = await Deno.open(path, { read: true });
  try {
    await directory.sync();
  } finally {
    directory.close();
  }
}
