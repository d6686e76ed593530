// What this teaches: a container's changes *are* its overlay upperdir: new and modified
// files are copied up there, deletions are 0/0 character devices, and a directory that
// replaced a lower one carries `trusted.overlay.opaque=y`. Turning that directory into a
// layer is a walk in a fixed order, translating the kernel's marks into OCI whiteouts,
// hashing the tar (diffID) and the compressed blob (digest) as the bytes stream past.
// Clamping mtimes to SOURCE_DATE_EPOCH makes the result reproducible: the same tree gives
// the same digest on any day.
// Mirrors containerd's core/diff/walking (WriteDiff) with pkg/archive's overlay-aware
// change writer, and moby's pkg/archive overlay whiteout converter (archive_linux.go).

import { createHash, type Hash } from "node:crypto";
import { compressStream } from "./compression.ts";
import {
  AtFlags,
  close,
  FileType,
  lgetxattr,
  llistxattr,
  lstatAt,
  openAt,
  OpenFlags,
  read,
} from "./syscalls.ts";
import { type TarHeaderInput, TarWriter } from "./tar_writer.ts";
import type { Compression, DiffOptions, DiffResult, DiffStream } from "./types.ts";
import {
  isOverlayWhiteoutDevice,
  opaqueWhiteout,
  overlayOpaqueXattr,
  overlayXattrPrefix,
  whiteoutPrefix,
} from "./whiteouts.ts";
import { MediaTypes } from "../images/media_types.ts";

const mediaTypes: Record<Compression, string> = {
  none: MediaTypes.ociLayer,
  gzip: MediaTypes.ociLayerGzip,
  zstd: MediaTypes.ociLayerZstd,
};

/**
 * Produces the layer for the overlay upperdir `upperDir` as a stream. Read `stream` to
 * its end; `result` then resolves with the digests. The upperdir must be quiescent (no
 * container writing into it) for the layer to be a consistent snapshot.
 */
export function diffLayer(upperDir: string, options: DiffOptions): DiffStream {
  const writer = new TarWriter();
  const walker = new UpperDirWalker(upperDir, writer, options.sourceDateEpoch);
  const producing = walker.run().then(
    () => writer.finalize(),
    (error) => writer.destroy(error),
  );

  const diffIdHash = createHash("sha256");
  const digestHash = createHash("sha256");
  let uncompressedSize = 0;
  let size = 0;
  const tarBytes = counted(writer.output, diffIdHash, (n) => uncompressedSize += n);
  const blob = counted(
    compressStream(tarBytes, options.compression, options.compressionLevel),
    digestHash,
    (n) => size += n,
  );

  const { promise: result, resolve, reject } = Promise.withResolvers<DiffResult>();
  // The caller may only read the stream; a failure still reaches it through the stream.
  result.catch(() => {});
  async function* blobThenResult(): AsyncGenerator<Uint8Array<ArrayBuffer>> {
    let completed = false;
    try {
      for await (const chunk of blob) yield chunk as Uint8Array<ArrayBuffer>;
      await producing;
      resolve({
        digest: `sha256:${digestHash.digest("hex")}`,
        diffId: `sha256:${diffIdHash.digest("hex")}`,
        size,
        uncompressedSize,
        mediaType: mediaTypes[options.compression],
        entries: walker.entries,
      });
      completed = true;
    } catch (error) {
      reject(error);
      throw error;
    } finally {
      if (!completed) {
        // The reader cancelled (or something failed): stop the walk too.
        const cancelled = new Error("the layer stream was cancelled before its end");
        writer.destroy(cancelled);
        reject(cancelled);
      }
    }
  }
  return { stream: ReadableStream.from(blobThenResult()), result };
}

/** Writes the layer for `upperDir` into `sink` (e.g. a content store ingest) and closes it. */
export async function writeDiff(
  upperDir: string,
  sink: WritableStream<Uint8Array>,
  options: DiffOptions,
): Promise<DiffResult> {
  const { stream, result } = diffLayer(upperDir, options);
  await stream.pipeTo(sink);
  return await result;
}

/** Writes the layer for `upperDir` to the file `path` (created or truncated). */
export async function writeDiffToFile(
  upperDir: string,
  path: string,
  options: DiffOptions,
): Promise<DiffResult> {
  const file = await Deno.open(path, { write: true, create: true, truncate: true });
  return await writeDiff(upperDir, file.writable, options);
}

async function* counted(
  chunks: AsyncIterable<Uint8Array>,
  hash: Hash,
  count: (bytes: number) => void,
): AsyncGenerator<Uint8Array> {
  for await (const chunk of chunks) {
    hash.update(chunk);
    count(chunk.length);
    yield chunk;
  }
}

// Files up to this size are read in one piece; bigger ones are streamed in chunks.
const wholeFileLimit = 4 * 1024 * 1024;
const chunkSize = 1024 * 1024;

/** Walks an upperdir in sorted order and writes one tar entry per file. */
class UpperDirWalker {
  entries = 0;
  readonly #upperDir: string;
  readonly #writer: TarWriter;
  readonly #sourceDateEpoch: number | undefined;
  // Files with several links: (device, inode) → the first path written, so later names
  // become hardlink entries instead of second copies.
  readonly #firstPathOfInode = new Map<string, string>();

  constructor(upperDir: string, writer: TarWriter, sourceDateEpoch: number | undefined) {
    this.#upperDir = upperDir.replace(/\/+$/, "") || "/";
    this.#writer = writer;
    this.#sourceDateEpoch = sourceDateEpoch;
  }

  async run(): Promise<void> {
    // The upperdir's root has no entry of its own, but it can itself be opaque.
    const rootXattrs = this.#xattrs(this.#upperDir);
    if (rootXattrs.opaque) {
      const status = lstatAt(AtFlags.FDCWD, this.#upperDir);
      await this.#add(this.#markerHeader(opaqueWhiteout, status.mtime.seconds));
    }
    await this.#walk(this.#upperDir, "");
  }

  async #add(header: TarHeaderInput, data?: Uint8Array | AsyncIterable<Uint8Array>) {
    this.entries++;
    await this.#writer.add(header, data);
  }

  #clamp(seconds: number): number {
    const epoch = this.#sourceDateEpoch;
    return epoch !== undefined && seconds > epoch ? epoch : seconds;
  }

  /** An empty regular file standing for a whiteout or opaque marker. */
  #markerHeader(name: string, mtimeSeconds: number): TarHeaderInput {
    return {
      name,
      type: "file",
      mode: 0,
      uid: 0,
      gid: 0,
      mtimeSeconds: this.#clamp(mtimeSeconds),
    };
  }

  async #walk(directory: string, relative: string): Promise<void> {
    // Sorted by name, depth first: the order Go's filepath.Walk gives containerd, and
    // the one that makes the output independent of the file system's listing order.
    const names = [...Deno.readDirSync(directory)].map((entry) => entry.name).sort();
    for (const name of names) {
      const path = `${directory}/${name}`;
      const entryName = relative === "" ? name : `${relative}/${name}`;
      const status = lstatAt(AtFlags.FDCWD, path);
      const type = status.mode & FileType.MASK;
      const base = {
        name: entryName,
        mode: status.mode & 0o7777,
        uid: status.uid,
        gid: status.gid,
        mtimeSeconds: this.#clamp(status.mtime.seconds),
      };

      if (isOverlayWhiteoutDevice(type === FileType.CHAR_DEVICE, status.rdev)) {
        const marker = relative === ""
          ? whiteoutPrefix + name
          : `${relative}/${whiteoutPrefix}${name}`;
        await this.#add(this.#markerHeader(marker, status.mtime.seconds));
        continue;
      }
      if (type === FileType.SOCKET) continue; // tar cannot hold sockets; they are runtime state

      const { xattrs, opaque } = this.#xattrs(path);
      switch (type) {
        case FileType.DIRECTORY:
          await this.#add({ ...base, type: "directory", xattrs });
          if (opaque) {
            await this.#add(
              this.#markerHeader(`${entryName}/${opaqueWhiteout}`, status.mtime.seconds),
            );
          }
          await this.#walk(path, entryName);
          break;
        case FileType.REGULAR: {
          if (status.links > 1) {
            const inodeKey = `${status.device.major}:${status.device.minor}:${status.inode}`;
            const firstPath = this.#firstPathOfInode.get(inodeKey);
            if (firstPath !== undefined) {
              await this.#add({ ...base, type: "link", linkname: firstPath });
              break;
            }
            this.#firstPathOfInode.set(inodeKey, entryName);
          }
          await this.#add(
            { ...base, type: "file", size: status.size, xattrs },
            status.size <= wholeFileLimit ? readWholeFile(path, status.size) : fileChunks(path),
          );
          break;
        }
        case FileType.SYMLINK:
          await this.#add({ ...base, type: "symlink", linkname: Deno.readLinkSync(path), xattrs });
          break;
        case FileType.CHAR_DEVICE:
        case FileType.BLOCK_DEVICE:
          await this.#add({
            ...base,
            type: type === FileType.CHAR_DEVICE ? "character-device" : "block-device",
            devmajor: status.rdev.major,
            devminor: status.rdev.minor,
            xattrs,
          });
          break;
        case FileType.FIFO:
          await this.#add({ ...base, type: "fifo", xattrs });
          break;
      }
    }
  }

  /** A file's xattrs for the layer (overlayfs' own left out) and whether it is opaque. */
  #xattrs(path: string): { xattrs: Map<string, Uint8Array>; opaque: boolean } {
    const xattrs = new Map<string, Uint8Array>();
    let opaque = false;
    for (const key of llistxattr(path).sort()) {
      if (key.startsWith(overlayXattrPrefix)) {
        if (key === overlayOpaqueXattr) {
          opaque = new TextDecoder().decode(lgetxattr(path, key)) === "y";
        }
        continue;
      }
      xattrs.set(key, lgetxattr(path, key));
    }
    return { xattrs, opaque };
  }
}

function openForReading(path: string): number {
  return openAt(AtFlags.FDCWD, path, OpenFlags.RDONLY | OpenFlags.NOFOLLOW);
}

function readWholeFile(path: string, size: number): Uint8Array {
  const fd = openForReading(path);
  try {
    const data = new Uint8Array(size);
    let offset = 0;
    while (offset < size) {
      const count = read(fd, data.subarray(offset));
      if (count === 0) throw new Error(`${path} shrank while being read (upperdir in use?)`);
      offset += count;
    }
    return data;
  } finally {
    close(fd);
  }
}

async function* fileChunks(path: string): AsyncGenerator<Uint8Array> {
  const fd = openForReading(path);
  try {
    for (;;) {
      const buffer = new Uint8Array(chunkSize);
      const count = read(fd, buffer);
      if (count === 0) return;
      yield buffer.subarray(0, count);
    }
  } finally {
    close(fd);
  }
}
