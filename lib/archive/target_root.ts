// What this teaches: the one rule that keeps a hostile layer inside its directory is
// "never resolve an entry's path in the host's namespace". The target is opened once;
// every parent directory is then opened *relative to it* with openat2(RESOLVE_IN_ROOT),
// which treats the target as "/" (a symlink to "/etc" means <target>/etc, ".." stops at
// the target), and the entry itself is created with an *at() call on that directory, so
// its own name is never followed. Removal is descriptor-based for the same reason.
// Mirrors containerd's use of `fs.RootPath` in pkg/archive/tar.go and the openat2-based
// resolution of cyphar/filepath-securejoin that runc uses.

import {
  AtFlags,
  close,
  ErrnoValue,
  hasErrno,
  mkdirAt,
  openAt,
  OpenFlags,
  openInRoot,
  unlinkAt,
} from "./syscalls.ts";

/** A directory being extracted into, held open, with confined path resolution. */
export class TargetRoot {
  /** The target directory itself (a real descriptor: metadata calls need one). */
  readonly fd: number;
  // Layers list a directory's children together, so the last parent opened is usually
  // the next one needed. Any removal makes the cached *path* unusable (a component may
  // be gone or replaced), but the descriptor stays open until the next lookup replaces
  // it, because the caller may still be working in that directory.
  #cachedPath: string | undefined;
  #cachedFd = -1;

  private constructor(fd: number) {
    this.fd = fd;
  }

  /** Opens `path`, which must be an existing directory. */
  static open(path: string): TargetRoot {
    return new TargetRoot(
      openAt(AtFlags.FDCWD, path, OpenFlags.RDONLY | OpenFlags.DIRECTORY),
    );
  }

  /**
   * A descriptor (O_PATH) for the directory `components` below the root, resolved with
   * RESOLVE_IN_ROOT. With `create`, missing directories are made (mode 0755, like
   * `mkdir -p`; a later entry for them sets the real metadata). The descriptor belongs
   * to the root's cache: do not close it, and use it only until the next call.
   */
  directory(components: readonly string[], create: boolean): number {
    const path = components.join("/");
    if (path === this.#cachedPath) return this.#cachedFd;
    let fd: number;
    try {
      fd = openInRoot(this.fd, path, OpenFlags.PATH | OpenFlags.DIRECTORY);
    } catch (error) {
      if (!create || !hasErrno(error, ErrnoValue.ENOENT)) throw error;
      this.#makeParents(components);
      try {
        fd = openInRoot(this.fd, path, OpenFlags.PATH | OpenFlags.DIRECTORY);
      } catch (error) {
        if (!hasErrno(error, ErrnoValue.ENOENT)) throw error;
        // Every component exists, yet the path does not resolve: one is a symlink to a
        // place missing in the target. Creating directories *there* would mean resolving
        // the link ourselves; refusing is simpler and no honest layer needs it.
        throw new Error(
          `parent directory ${JSON.stringify(path)} goes through a symlink to a path that ` +
            "does not exist inside the target",
        );
      }
    }
    if (this.#cachedFd >= 0) close(this.#cachedFd);
    this.#cachedPath = path;
    this.#cachedFd = fd;
    return fd;
  }

  /** Like directory(), but the caller owns the returned descriptor and must close it. */
  openDirectory(components: readonly string[], flags: number = OpenFlags.PATH): number {
    return openInRoot(this.fd, components.join("/"), flags | OpenFlags.DIRECTORY);
  }

  #makeParents(components: readonly string[]): void {
    for (let depth = 1; depth <= components.length; depth++) {
      const parentFd = this.openDirectory(components.slice(0, depth - 1));
      try {
        mkdirAt(parentFd, components[depth - 1], 0o755);
      } catch (error) {
        if (!hasErrno(error, ErrnoValue.EEXIST)) throw error;
      } finally {
        close(parentFd);
      }
    }
  }

  /** Stops trusting the cached lookup (call after removing or replacing anything). */
  forget(): void {
    this.#cachedPath = undefined;
  }

  /**
   * Removes `name` in the directory `dirFd`, recursively for directories, without ever
   * following a symlink. Returns false when there was nothing to remove.
   */
  removeAll(dirFd: number, name: string): boolean {
    this.forget();
    return removeTree(dirFd, name);
  }

  close(): void {
    if (this.#cachedFd >= 0) close(this.#cachedFd);
    this.#cachedFd = -1;
    this.#cachedPath = undefined;
    close(this.fd);
  }
}

/** The names in the directory open as `dirFd` (read through /proc, no path lookups). */
export function listDirectory(dirFd: number): Deno.DirEntry[] {
  return [...Deno.readDirSync(`/proc/self/fd/${dirFd}`)];
}

function removeTree(dirFd: number, name: string): boolean {
  try {
    unlinkAt(dirFd, name);
    return true;
  } catch (error) {
    if (hasErrno(error, ErrnoValue.ENOENT)) return false;
    if (!hasErrno(error, ErrnoValue.EISDIR)) throw error;
  }
  const childFd = openAt(dirFd, name, OpenFlags.RDONLY | OpenFlags.DIRECTORY | OpenFlags.NOFOLLOW);
  try {
    for (const child of listDirectory(childFd)) removeTree(childFd, child.name);
  } finally {
    close(childFd);
  }
  unlinkAt(dirFd, name, AtFlags.REMOVEDIR);
  return true;
}
