// What this teaches: Docker's overlay2 graph driver, the directory layout under
// /var/lib/docker/overlay2 that `docker inspect` shows in GraphDriver.Data:
//   overlay2/<cache-id>/diff/     the layer's own files (an overlay upperdir once written)
//   overlay2/<cache-id>/link      its 26-char short name (see short_id.ts)
//   overlay2/<cache-id>/lower     "l/<parent>:l/<grandparent>:…", nearest parent first
//   overlay2/<cache-id>/work/     overlay's scratch dir (only layers with a parent)
//   overlay2/<cache-id>/merged/   the mount point while the layer is mounted
//   overlay2/<cache-id>/committed marks a layer that has children
//   overlay2/l/<short id>         → ../<cache-id>/diff
// A layer with no parent is a plain directory, no mount needed; any other layer is
// mounted as overlay with its chain of lowers. When the option string would not fit in
// one page, the mount is made from inside overlay2/ with the short relative `l/…`
// names, which is what the links exist for.
// Mirrors moby's daemon/graphdriver/overlay2/overlay.go (Create, Get, Put, Remove,
// getLower, getLowerDirs, GetMetadata) and mount.go (mountFrom's chdir).

import { join } from "node:path";
import { mount, unmount, UnmountFlags } from "../../linux/mount.ts";
import { mountFromDirectory } from "../../mount/mount.ts";
import { isMountPoint, readMountInfo } from "../../linux/mountinfo.ts";
import { currentTrace } from "../../trace/active.ts";
import { generateShortId, LINK_DIR, MAX_LOWER_DEPTH } from "./short_id.ts";

const DIFF = "diff";
const WORK = "work";
const MERGED = "merged";
const LINK_FILE = "link";
const LOWER_FILE = "lower";
const PAGE_SIZE = 4096;

/** The four directories `docker inspect` shows for a layer (GraphDriver.Data). */
export interface GraphDriverData {
  LowerDir?: string;
  MergedDir: string;
  UpperDir: string;
  WorkDir: string;
}

/** Docker's names for the file systems a data-root may sit on ("Backing Filesystem"). */
const backingFilesystemNames: Record<string, string> = {
  ext2: "extfs",
  ext3: "extfs",
  ext4: "extfs",
  xfs: "xfs",
  btrfs: "btrfs",
  tmpfs: "tmpfs",
  zfs: "zfs",
  overlay: "overlayfs",
  f2fs: "f2fs",
};

/** The overlay2 graph driver over `<data-root>/overlay2`. */
export class Overlay2Driver {
  /** Mount counts per layer id: several containers (or calls) may hold one mount. */
  readonly #mountCounts = new Map<string, number>();
  readonly #indexOff: boolean;

  private constructor(readonly home: string) {
    // Overlay's "index" feature breaks reusing lowers under new uppers; dockerd turns
    // it off whenever the kernel knows the option.
    this.#indexOff = exists("/sys/module/overlay/parameters/index");
  }

  /** Opens (creating) the driver home; refuses when the kernel has no overlay filesystem. */
  static async open(home: string): Promise<Overlay2Driver> {
    let filesystems = "";
    try {
      filesystems = await Deno.readTextFile("/proc/filesystems");
    } catch { /* checked below */ }
    if (!/\toverlay\n/.test(filesystems)) {
      throw new Error(
        "error initializing graphdriver: driver not supported: overlay2 needs the kernel's " +
          "overlay filesystem (modprobe overlay)",
      );
    }
    await Deno.mkdir(join(home, LINK_DIR), { recursive: true });
    await Deno.chmod(home, 0o710);
    await Deno.chmod(join(home, LINK_DIR), 0o700);
    const backing = backingFilesystem(home);
    if (backing === "overlayfs") {
      throw new Error(
        `error initializing graphdriver: ${home} is on an overlay file system, and overlay ` +
          "cannot use overlay directories as layers: put --data-root elsewhere",
      );
    }
    return new Overlay2Driver(home);
  }

  /** `docker info`'s DriverStatus rows. */
  status(): [string, string][] {
    return [
      ["Backing Filesystem", backingFilesystem(this.home)],
      ["Supports d_type", "true"],
      ["Native Overlay Diff", "true"],
      ["userxattr", "false"],
    ];
  }

  /** The layer directory `overlay2/<id>`. */
  dir(id: string): string {
    return join(this.home, id);
  }

  /** The layer's own files, `overlay2/<id>/diff`. */
  diffDir(id: string): string {
    return join(this.home, id, DIFF);
  }

  /** True when the layer directory exists. */
  async exists(id: string): Promise<boolean> {
    try {
      return (await Deno.stat(this.dir(id))).isDirectory;
    } catch {
      return false;
    }
  }

  /**
   * Creates layer `id` on top of `parent` (a cache id, or undefined for a base layer):
   * the diff dir, a fresh short link, and for child layers work/ and the lower chain.
   */
  async create(id: string, parent?: string): Promise<void> {
    const dir = this.dir(id);
    await Deno.mkdir(dir, { mode: 0o701 });
    await Deno.chmod(dir, 0o701);
    await Deno.mkdir(join(dir, DIFF), { mode: 0o755 });
    const shortId = generateShortId();
    await Deno.symlink(join("..", id, DIFF), join(this.home, LINK_DIR, shortId));
    await Deno.writeTextFile(join(dir, LINK_FILE), shortId, { mode: 0o644 });
    if (parent === undefined) return;
    await Deno.mkdir(join(dir, WORK), { mode: 0o700 });
    await Deno.writeFile(join(this.dir(parent), "committed"), new Uint8Array(), { mode: 0o600 });
    const lower = await this.#lowerChain(parent);
    await Deno.writeTextFile(join(dir, LOWER_FILE), lower, { mode: 0o666 });
  }

  /** The `lower` text of a child of `parent`: the parent's link first, then the parent's own lowers. */
  async #lowerChain(parent: string): Promise<string> {
    const parentLink = (await Deno.readTextFile(join(this.dir(parent), LINK_FILE))).trim();
    const lowers = [`${LINK_DIR}/${parentLink}`];
    const parentLower = await readOptional(join(this.dir(parent), LOWER_FILE));
    if (parentLower) lowers.push(...parentLower.split(":"));
    if (lowers.length > MAX_LOWER_DEPTH) {
      throw new Error(
        `max depth exceeded: an overlay mount stacks at most ${MAX_LOWER_DEPTH} lower layers`,
      );
    }
    return lowers.join(":");
  }

  /** The short `l/…` names of the layer's lowers, nearest first (empty for a base layer). */
  async lowerLinks(id: string): Promise<string[]> {
    const lower = await readOptional(join(this.dir(id), LOWER_FILE));
    return lower ? lower.split(":") : [];
  }

  /** The lowers as absolute diff paths (each `l/` link resolved), nearest first. */
  async lowerDirs(id: string): Promise<string[]> {
    const dirs: string[] = [];
    for (const link of await this.lowerLinks(id)) {
      const target = await Deno.readLink(join(this.home, link));
      dirs.push(join(this.home, LINK_DIR, target));
    }
    return dirs;
  }

  /** GraphDriver.Data for layer `id`, as `docker inspect` shows it (mounted or not). */
  async metadata(id: string): Promise<GraphDriverData> {
    const dir = this.dir(id);
    const data: GraphDriverData = {
      MergedDir: join(dir, MERGED),
      UpperDir: join(dir, DIFF),
      WorkDir: join(dir, WORK),
    };
    const lowers = await this.lowerDirs(id);
    if (lowers.length > 0) return { LowerDir: lowers.join(":"), ...data };
    return data;
  }

  /**
   * Mounts layer `id` and returns the directory with its merged view. A base layer
   * needs no mount: its diff dir is returned. Mounts are counted; put() undoes one get().
   */
  async get(id: string): Promise<string> {
    const dir = this.dir(id);
    const lowers = await this.lowerLinks(id);
    if (lowers.length === 0) return join(dir, DIFF);
    const merged = join(dir, MERGED);
    let count = this.#mountCounts.get(id) ?? 0;
    // After a daemon restart a live-restored container's layer is still mounted: adopt it.
    if (count === 0 && isMountPoint(merged)) count = 1;
    if (count > 0) {
      this.#mountCounts.set(id, count + 1);
      return merged;
    }
    await Deno.mkdir(merged, { recursive: true, mode: 0o700 });
    const indexOff = this.#indexOff ? "index=off," : "";
    const absolute = indexOff +
      `lowerdir=${lowers.map((link) => join(this.home, link)).join(":")},` +
      `upperdir=${join(dir, DIFF)},workdir=${join(dir, WORK)}`;
    currentTrace()?.step("mount -t overlay overlay", `${merged} -o ${absolute}`); // --trace
    if (absolute.length < PAGE_SIZE - 1) {
      mount("overlay", merged, "overlay", 0, absolute);
    } else {
      // Too long for one page: mount from inside overlay2/ with the short relative names.
      const relative = indexOff + `lowerdir=${lowers.join(":")},` +
        `upperdir=${join(id, DIFF)},workdir=${join(id, WORK)}`;
      if (relative.length >= PAGE_SIZE - 1) {
        throw new Error(`cannot mount layer ${id}: even the short lowerdir list is too long`);
      }
      // Relative paths resolve in the overlay2 home; the working directory changes for this
      // thread only (see lib/mount/mount.ts), never for the daemon's other threads.
      mountFromDirectory(this.home, "overlay", join(id, MERGED), "overlay", 0, relative);
    }
    this.#mountCounts.set(id, 1);
    return merged;
  }

  /** Releases one get(); the last one unmounts and removes merged/ (as dockerd does). */
  async put(id: string): Promise<void> {
    const merged = join(this.dir(id), MERGED);
    const count = this.#mountCounts.get(id) ?? (isMountPoint(merged) ? 1 : 0);
    if (count > 1) {
      this.#mountCounts.set(id, count - 1);
      return;
    }
    this.#mountCounts.delete(id);
    if ((await this.lowerLinks(id)).length === 0) return;
    currentTrace()?.step("umount", merged); // --trace (lib/trace)
    try {
      unmount(merged, UnmountFlags.DETACH);
    } catch { /* not mounted */ }
    await Deno.remove(merged).catch(() => {});
  }

  /** True when the layer's merged dir is mounted now. */
  isMounted(id: string): boolean {
    return isMountPoint(join(this.dir(id), MERGED));
  }

  /** Removes layer `id`: its short link, any mount left, and the directory. */
  async remove(id: string): Promise<void> {
    const dir = this.dir(id);
    const link = await readOptional(join(dir, LINK_FILE));
    if (link) await Deno.remove(join(this.home, LINK_DIR, link)).catch(() => {});
    const merged = join(dir, MERGED);
    for (let attempt = 0; attempt < 8 && isMountPoint(merged); attempt++) {
      try {
        unmount(merged, UnmountFlags.DETACH);
      } catch { /* retried */ }
    }
    this.#mountCounts.delete(id);
    await Deno.remove(dir, { recursive: true }).catch((error) => {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    });
  }

  /** Bytes of the files in the layer's diff dir (hard links counted once), as DiffSize. */
  async diffSize(id: string): Promise<number> {
    return await directorySize(this.diffDir(id));
  }
}

/** Sum of the sizes of the non-directory entries below `root`, each inode once (moby's directory.Size). */
export async function directorySize(root: string): Promise<number> {
  let total = 0;
  const seen = new Set<string>();
  const walk = async (dir: string): Promise<void> => {
    let entries: Deno.DirEntry[];
    try {
      entries = await Array.fromAsync(Deno.readDir(dir));
    } catch {
      return;
    }
    for (const entry of entries) {
      const path = join(dir, entry.name);
      if (entry.isDirectory) {
        await walk(path);
        continue;
      }
      let info: Deno.FileInfo;
      try {
        info = await Deno.lstat(path);
      } catch {
        continue;
      }
      if ((info.nlink ?? 1) > 1) {
        const key = `${info.dev}:${info.ino}`;
        if (seen.has(key)) continue;
        seen.add(key);
      }
      total += info.size;
    }
  };
  await walk(root);
  return total;
}

/** Docker's name for the file system `path` is on ("extfs", "xfs", "tmpfs"...). */
export function backingFilesystem(path: string): string {
  let best = { length: -1, fstype: "unknown" };
  try {
    for (const entry of readMountInfo()) {
      const point = entry.mountPoint;
      const within = path === point || path.startsWith(point.endsWith("/") ? point : point + "/");
      if (within && point.length > best.length) {
        best = { length: point.length, fstype: entry.fstype };
      }
    }
  } catch { /* no /proc */ }
  return backingFilesystemNames[best.fstype] ?? best.fstype;
}

async function readOptional(path: string): Promise<string | undefined> {
  try {
    return (await Deno.readTextFile(path)).trim();
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
}

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}
