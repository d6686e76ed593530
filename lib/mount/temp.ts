// What this teaches: most users of a snapshot's mounts only need the files for a moment:
// the differ reads a tree, the applier writes a layer, `images mount` shows a rootfs.
// They mount into a fresh temporary directory, do their work, and always unmount and
// remove the directory again, even when the work throws. Read-only users get a read-only
// variant of the mounts (an overlay without its upper layer), so they cannot change the
// snapshot by accident. Mirrors containerd's core/mount/temp.go (WithTempMount,
// WithReadonlyTempMount) and mount_linux.go's readonly handling.

import { mountAll, unmountAll } from "./mount.ts";
import type { Mount } from "./types.ts";

/** Options of withTempMount(). */
export interface TempMountOptions {
  /** Parent of the temporary mount point (default: the system temp dir). */
  parent?: string;
}

/**
 * Mounts `mounts` on a new temporary directory, runs `work(root)`, then unmounts and
 * removes the directory. The directory is removed only if empty (never recursively): if an
 * unmount failed, the snapshot's files are still visible there and must not be deleted.
 */
export async function withTempMount<T>(
  mounts: readonly Mount[],
  work: (root: string) => Promise<T>,
  options: TempMountOptions = {},
): Promise<T> {
  const root = await Deno.makeTempDir({ prefix: "mini-mount-", dir: options.parent });
  try {
    mountAll(mounts, root);
    try {
      return await work(root);
    } finally {
      await unmountAll(root);
    }
  } finally {
    await Deno.remove(root).catch(() => {});
  }
}

/** withTempMount with the mounts made read-only first (see readonlyMounts). */
export async function withReadonlyTempMount<T>(
  mounts: readonly Mount[],
  work: (root: string) => Promise<T>,
  options: TempMountOptions = {},
): Promise<T> {
  return await withTempMount(readonlyMounts(mounts), work, options);
}

/**
 * Read-only versions of mounts. A bind gets "ro". An overlay with an upperdir loses its
 * upperdir and workdir, and the upperdir becomes the topmost lowerdir: the merged view is
 * the same, but it can no longer be written (and no work directory is touched).
 */
export function readonlyMounts(mounts: readonly Mount[]): Mount[] {
  return mounts.map((description) => {
    if (description.type !== "overlay") {
      const options = description.options.filter((option) => option !== "rw");
      return { ...description, options: options.includes("ro") ? options : [...options, "ro"] };
    }
    const upper = description.options.find((option) => option.startsWith("upperdir="));
    if (upper === undefined) return { ...description, options: [...description.options] };
    const options: string[] = [];
    for (const option of description.options) {
      if (option.startsWith("upperdir=") || option.startsWith("workdir=")) continue;
      if (option.startsWith("lowerdir=")) {
        options.push(`lowerdir=${upper.slice("upperdir=".length)}:${option.slice(9)}`);
      } else options.push(option);
    }
    return { ...description, options };
  });
}
