// Reads a directory tree into comparable records: type, mode (with setuid/setgid/sticky),
// owner, size, content hash, link target, mtime in whole seconds (what a layer records),
// user.* xattrs, and which names share an inode. Two trees are "the same" when these match.

import { createHash } from "node:crypto";
import { join } from "node:path";
import { lgetxattr, llistxattr } from "../../lib/archive/syscalls.ts";

/** What one path of a tree looks like. */
export interface TreeEntry {
  type: "file" | "directory" | "symlink" | "fifo" | "char" | "block" | "socket";
  mode: number;
  uid: number;
  gid: number;
  size?: number;
  sha256?: string;
  target?: string;
  mtimeSeconds: number;
  xattrs: Record<string, string>;
}

/** A tree: path → entry, plus the groups of paths that are hard links of each other. */
export interface Tree {
  entries: Record<string, TreeEntry>;
  hardLinks: string[][];
}

function typeOf(info: Deno.FileInfo): TreeEntry["type"] {
  if (info.isFile) return "file";
  if (info.isDirectory) return "directory";
  if (info.isSymlink) return "symlink";
  if (info.isFifo) return "fifo";
  if (info.isCharDevice) return "char";
  if (info.isBlockDevice) return "block";
  return "socket";
}

function userXattrs(path: string, prefixes: string[]): Record<string, string> {
  const xattrs: Record<string, string> = {};
  for (const name of llistxattr(path).sort()) {
    if (!prefixes.some((prefix) => name.startsWith(prefix))) continue;
    xattrs[name] = new TextDecoder().decode(lgetxattr(path, name));
  }
  return xattrs;
}

/** Reads every path under `root` (root itself as "."). */
export async function readTree(
  root: string,
  options: { xattrPrefixes?: string[]; withRootMtime?: boolean } = {},
): Promise<Tree> {
  const prefixes = options.xattrPrefixes ?? ["user."];
  const entries: Record<string, TreeEntry> = {};
  const inodes = new Map<number, string[]>();
  const visit = async (relative: string) => {
    const path = relative === "." ? root : join(root, relative);
    const info = await Deno.lstat(path);
    const entry: TreeEntry = {
      type: typeOf(info),
      mode: info.mode! & 0o7777,
      uid: info.uid!,
      gid: info.gid!,
      mtimeSeconds: Math.floor(info.mtime!.getTime() / 1000),
      xattrs: userXattrs(path, prefixes),
    };
    if (relative === "." && !options.withRootMtime) entry.mtimeSeconds = 0;
    if (entry.type === "file") {
      entry.size = info.size;
      entry.sha256 = createHash("sha256").update(await Deno.readFile(path)).digest("hex");
      if (info.nlink! > 1) inodes.set(info.ino!, [...(inodes.get(info.ino!) ?? []), relative]);
    }
    if (entry.type === "symlink") entry.target = await Deno.readLink(path);
    entries[relative] = entry;
    if (entry.type === "directory") {
      const names: string[] = [];
      for await (const child of Deno.readDir(path)) names.push(child.name);
      for (const name of names.sort()) await visit(relative === "." ? name : `${relative}/${name}`);
    }
  };
  await visit(".");
  const hardLinks = [...inodes.values()].filter((group) => group.length > 1).map((group) =>
    group.sort()
  ).sort();
  return { entries, hardLinks };
}

/** The differences between two trees, one line each (empty when they match). */
export function treeDifferences(expected: Tree, actual: Tree): string[] {
  const differences: string[] = [];
  const paths = new Set([...Object.keys(expected.entries), ...Object.keys(actual.entries)]);
  for (const path of [...paths].sort()) {
    const left = expected.entries[path];
    const right = actual.entries[path];
    if (!left) differences.push(`${path}: unexpected`);
    else if (!right) differences.push(`${path}: missing`);
    else if (JSON.stringify(left) !== JSON.stringify(right)) {
      differences.push(`${path}: expected ${JSON.stringify(left)}, got ${JSON.stringify(right)}`);
    }
  }
  if (JSON.stringify(expected.hardLinks) !== JSON.stringify(actual.hardLinks)) {
    differences.push(
      `hard links: expected ${JSON.stringify(expected.hardLinks)}, got ${
        JSON.stringify(actual.hardLinks)
      }`,
    );
  }
  return differences;
}
