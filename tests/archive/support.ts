// What this teaches: how to test an unpacker honestly: build the layers in the test
// (tar-stream's pack, byte by byte, including hostile names no tool would produce), and
// compare results as *trees*: every path with its type, mode, owner, mtime, content
// hash, link target, device number, xattrs and hardlink group.
// Mirrors containerd's pkg/archive tests (tar_test.go's breakout cases) and
// continuity's fs comparison helpers.

import { createHash } from "node:crypto";
import zlib from "node:zlib";
import { pack } from "tar-stream";
import { AtFlags, FileType, lgetxattr, llistxattr, lstatAt } from "../../lib/archive/syscalls.ts";

/** A header for tar-stream's pack, loosely typed so tests can write odd entries. */
export interface TestEntry {
  name: string;
  type?:
    | "file"
    | "link"
    | "symlink"
    | "directory"
    | "character-device"
    | "block-device"
    | "fifo";
  mode?: number;
  uid?: number;
  gid?: number;
  mtime?: Date;
  linkname?: string;
  devmajor?: number;
  devminor?: number;
  /** PAX records, as text (tar-stream writes them as UTF-8). */
  pax?: Record<string, string>;
  content?: string | Uint8Array;
}

/** Builds an uncompressed tar with tar-stream, exactly as listed (no checks). */
export async function buildTar(entries: TestEntry[]): Promise<Uint8Array> {
  const packer = pack();
  const collected = (async () => {
    const parts: Uint8Array[] = [];
    for await (const chunk of packer) parts.push(chunk as Uint8Array);
    return concat(parts);
  })();
  for (const { content, ...header } of entries) {
    await new Promise<void>((resolve, reject) => {
      const done = (error?: Error | null) => error ? reject(error) : resolve();
      const full = { mtime: new Date(1_600_000_000_000), ...header };
      if (content === undefined) packer.entry(full, done);
      else packer.entry(full, content, done);
    });
  }
  packer.finalize();
  return await collected;
}

export function concat(parts: Uint8Array[]): Uint8Array {
  const result = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    result.set(part, offset);
    offset += part.length;
  }
  return result;
}

/** A web stream over `bytes`, in chunks of `chunkSize` (to exercise chunk boundaries). */
export function streamOf(bytes: Uint8Array, chunkSize = 7000): ReadableStream<Uint8Array> {
  let offset = 0;
  return new ReadableStream({
    pull(controller) {
      if (offset >= bytes.length) {
        controller.close();
        return;
      }
      controller.enqueue(bytes.slice(offset, offset + chunkSize));
      offset += chunkSize;
    },
  });
}

export function gzip(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(zlib.gzipSync(bytes));
}

export function zstd(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(zlib.zstdCompressSync(bytes));
}

export function sha256(bytes: Uint8Array): string {
  return `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
}

/** Reads a whole web stream. */
export async function readAll(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const chunk of stream) parts.push(chunk);
  return concat(parts);
}

/** One path of a tree, with everything a layer can carry. */
export interface TreeRecord {
  type: "file" | "directory" | "symlink" | "char" | "block" | "fifo" | "socket";
  mode: string;
  uid: number;
  gid: number;
  mtime: number;
  size?: number;
  content?: string;
  linkTarget?: string;
  device?: string;
  xattrs: Record<string, string>;
  /** For files with several links: the first path (sorted) of the same inode. */
  hardlinkGroup?: string;
}

const typeNames: Record<number, TreeRecord["type"]> = {
  [FileType.REGULAR]: "file",
  [FileType.DIRECTORY]: "directory",
  [FileType.SYMLINK]: "symlink",
  [FileType.CHAR_DEVICE]: "char",
  [FileType.BLOCK_DEVICE]: "block",
  [FileType.FIFO]: "fifo",
  [FileType.SOCKET]: "socket",
};

export interface SnapshotOptions {
  /** Leave the root directory's own metadata out (diffs do not carry it). */
  skipRoot?: boolean;
  /** Leave directory mtimes out. */
  skipDirectoryTimes?: boolean;
  /** xattr names to leave out (prefix match); trusted.overlay.* is always left out. */
  ignoreXattrPrefixes?: string[];
}

/** Every path under `root` (relative, "." for the root) with its metadata. */
export function snapshotTree(root: string, options: SnapshotOptions = {}): Map<string, TreeRecord> {
  const records = new Map<string, TreeRecord>();
  const inodes = new Map<string, string[]>();
  const ignored = ["trusted.overlay.", ...(options.ignoreXattrPrefixes ?? [])];
  const visit = (relative: string) => {
    const path = relative === "." ? root : `${root}/${relative}`;
    const status = lstatAt(AtFlags.FDCWD, path);
    const type = typeNames[status.mode & FileType.MASK];
    const xattrs: Record<string, string> = {};
    for (const name of llistxattr(path).sort()) {
      if (ignored.some((prefix) => name.startsWith(prefix))) continue;
      xattrs[name] = Array.from(lgetxattr(path, name), (b) => b.toString(16).padStart(2, "0"))
        .join("");
    }
    const record: TreeRecord = {
      type,
      mode: (status.mode & 0o7777).toString(8),
      uid: status.uid,
      gid: status.gid,
      mtime: status.mtime.seconds,
      xattrs,
    };
    if (type === "file") {
      record.size = status.size;
      record.content = sha256(Deno.readFileSync(path));
      if (status.links > 1) {
        const key = `${status.device.major}:${status.device.minor}:${status.inode}`;
        inodes.set(key, [...(inodes.get(key) ?? []), relative]);
      }
    }
    if (type === "symlink") record.linkTarget = Deno.readLinkSync(path);
    if (type === "char" || type === "block") {
      record.device = `${status.rdev.major}:${status.rdev.minor}`;
    }
    if (type === "directory" && options.skipDirectoryTimes) record.mtime = 0;
    if (!(relative === "." && options.skipRoot)) records.set(relative, record);
    if (type === "directory") {
      const names = [...Deno.readDirSync(path)].map((entry) => entry.name).sort();
      for (const name of names) visit(relative === "." ? name : `${relative}/${name}`);
    }
  };
  visit(".");
  for (const paths of inodes.values()) {
    if (paths.length < 2) continue;
    const first = [...paths].sort()[0];
    for (const path of paths) records.get(path)!.hardlinkGroup = first;
  }
  return records;
}

/** Lists the differences between two snapshots, one line each (empty when equal). */
export function treeDifferences(
  actual: Map<string, TreeRecord>,
  expected: Map<string, TreeRecord>,
): string[] {
  const differences: string[] = [];
  for (const [path, record] of expected) {
    const other = actual.get(path);
    if (other === undefined) {
      differences.push(`missing: ${path}`);
      continue;
    }
    const a = JSON.stringify(other);
    const e = JSON.stringify(record);
    if (a !== e) differences.push(`differs: ${path}\n    actual:   ${a}\n    expected: ${e}`);
  }
  for (const path of actual.keys()) {
    if (!expected.has(path)) differences.push(`unexpected: ${path}`);
  }
  return differences;
}

/** Runs a command, throwing with its output if it fails. */
export async function run(command: string, args: string[]): Promise<string> {
  const output = await new Deno.Command(command, { args, stdout: "piped", stderr: "piped" })
    .output();
  const text = new TextDecoder().decode(output.stdout);
  if (!output.success) {
    throw new Error(
      `${command} ${args.join(" ")} failed: ${new TextDecoder().decode(output.stderr)}${text}`,
    );
  }
  return text;
}
