// What this teaches: why every Docker container has an extra `<mount-id>-init` layer
// between its image and its own writable layer. The runtime will mount /proc, /sys,
// /dev/pts, /dev/shm and bind-mount /etc/hosts, /etc/hostname and /etc/resolv.conf
// over paths in the root filesystem, and a mount needs an existing mount point. If
// those were created in the container layer, `docker diff` and `docker commit` would
// report them as the container's changes; created in a layer of their own, they are
// invisible to both and shared by nothing else. `/.dockerenv` is the marker processes
// use to tell they run in Docker, and /etc/mtab becomes the usual link to /proc/mounts.
// Only what the image lacks is created, so an image's own /etc/hosts is not replaced
// here (the runtime mounts over it anyway).
// Mirrors moby's daemon/initlayer/setup_unix.go (Setup).

import { dirname, join } from "node:path";

/** The mount points of the init layer: "dir", "file", or a symlink target. */
export const INIT_LAYER_ENTRIES: [path: string, kind: string][] = [
  ["/dev/pts", "dir"],
  ["/dev/shm", "dir"],
  ["/proc", "dir"],
  ["/sys", "dir"],
  ["/.dockerenv", "file"],
  ["/etc/resolv.conf", "file"],
  ["/etc/hosts", "file"],
  ["/etc/hostname", "file"],
  ["/dev/console", "file"],
  ["/etc/mtab", "/proc/mounts"],
];

/**
 * Creates the mount points in `root` (the init layer, mounted over the image so that
 * what the image already has is visible). Every path component that is not a directory
 * is removed first, so a file in the image where a mount point's parent must be does
 * not break the container.
 */
export async function setupInitLayer(root: string): Promise<void> {
  for (const [path, kind] of INIT_LAYER_ENTRIES) {
    const parts = path.split("/").slice(1);
    let prefix = "";
    for (const part of parts) {
      prefix = join(prefix, part);
      // unlink(2) fails on directories, which is what we want: only files/links go.
      try {
        const info = await Deno.lstat(join(root, prefix));
        if (!info.isDirectory) await Deno.remove(join(root, prefix));
      } catch { /* absent */ }
    }
    const target = join(root, path);
    try {
      await Deno.stat(target);
      continue; // the image has it (stat follows links, as dockerd's os.Stat does)
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
    await Deno.mkdir(join(root, dirname(path)), { recursive: true, mode: 0o755 });
    if (kind === "dir") {
      await Deno.mkdir(target, { recursive: true, mode: 0o755 });
    } else if (kind === "file") {
      const file = await Deno.open(target, { create: true, write: true, mode: 0o755 });
      file.close();
    } else {
      await Deno.symlink(kind, target);
    }
  }
}
