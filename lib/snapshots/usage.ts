// What this teaches: "how big is this layer?" has a subtle answer. File sizes overstate
// sparse files and understate small ones (a 1-byte file takes a whole 4 KiB block), and a
// hard-linked file must be counted once however many names it has. Like du(1), mini sums
// the blocks actually allocated, per distinct inode. Mirrors containerd's
// continuity/fs/du_unix.go (diskUsage) as the overlay snapshotter's Usage uses it.

import { join } from "node:path";
import type { SnapshotUsage } from "./types.ts";

/** Disk usage of the tree under `root` (root itself included), like `du -s --block-size=1`. */
export async function diskUsage(root: string): Promise<SnapshotUsage> {
  const seen = new Set<string>();
  let size = 0;
  const visit = async (path: string, info: Deno.FileInfo) => {
    const inode = `${info.dev}:${info.ino}`;
    if (seen.has(inode)) return;
    seen.add(inode);
    size += (info.blocks ?? 0) * 512;
    if (!info.isDirectory) return;
    for await (const entry of Deno.readDir(path)) {
      const child = join(path, entry.name);
      await visit(child, await Deno.lstat(child));
    }
  };
  await visit(root, await Deno.lstat(root));
  return { size, inodes: seen.size };
}
