// What this teaches: unpacking an image layer is "tar -x" plus three things tar does not
// do: whiteout files become deletions (or overlay's own deletion marks), the diffID is
// verified on the way through, and every path is resolved *inside* the target so that a
// hostile layer cannot write anywhere else. Metadata order matters: ownership before mode
// (chown clears setuid bits), xattrs after chown (chown clears file capabilities), and a
// directory's mtime only after its children are in (adding a child changes it).
// Mirrors containerd's pkg/archive/tar.go (Apply, applyNaive, createTarFile) and
// tar_unix.go (handleLChmod, setxattr, mknod), with moby's overlay whiteout converter.

import { decompressStream } from "./compression.ts";
import { entryComponents, joinComponents } from "./paths.ts";
import { xattrsFromPax } from "./pax.ts";
import {
  chmodAt,
  close,
  ErrnoValue,
  fchmod,
  fchown,
  type FileTime,
  FileType,
  fsetxattr,
  futimens,
  hasErrno,
  lchownAt,
  linkAt,
  lsetxattr,
  lstatAt,
  lutimesAt,
  makeDevice,
  mkdirAt,
  mknodAt,
  openAt,
  OpenFlags,
  symlinkAt,
  writeAll,
} from "./syscalls.ts";
import { listDirectory, TargetRoot } from "./target_root.ts";
import { type EntryDataSink, readTar, type TarEntry } from "./tar_reader.ts";
import { type ApplyOptions, type ApplyResult, LayerEntryError } from "./types.ts";
import { classifyWhiteout, overlayOpaqueXattr, overlayXattrPrefix } from "./whiteouts.ts";
import { invalidArgument } from "../api/errors.ts";

/**
 * Applies a layer blob (plain, gzip or zstd tar, detected from its first bytes) onto the
 * directory `target`, streaming, and returns the layer's diffID. Entries that would
 * escape `target` or are otherwise unsafe fail the apply with a LayerEntryError naming
 * the entry; the target is then partly written and should be discarded (containerd
 * unpacks into a fresh snapshot for exactly this reason).
 */
export async function applyLayer(
  target: string,
  layer: ReadableStream<Uint8Array>,
  options: ApplyOptions,
): Promise<ApplyResult> {
  let root: TargetRoot;
  try {
    root = TargetRoot.open(target);
  } catch (error) {
    await layer.cancel().catch(() => {});
    throw invalidArgument(`cannot apply a layer onto ${target}: ${(error as Error).message}`);
  }
  try {
    const { compression, chunks } = await decompressStream(layer);
    const applier = new LayerApplier(root, options);
    const read = await readTar(chunks, (entry) => applier.apply(entry));
    applier.finish();
    if (options.expectedDiffId !== undefined && options.expectedDiffId !== read.diffId) {
      throw invalidArgument(
        `layer diffID mismatch: expected ${options.expectedDiffId}, got ${read.diffId}`,
      );
    }
    return {
      diffId: read.diffId,
      size: read.size,
      compression,
      entries: read.entries,
      warnings: applier.warnings,
    };
  } finally {
    root.close();
  }
}

const maxWarnings = 100;

/** Applies entries one at a time; holds the state that spans entries. */
class LayerApplier {
  readonly warnings: string[] = [];
  readonly #root: TargetRoot;
  readonly #options: ApplyOptions;
  readonly #sameOwner: boolean;
  // Every path this layer wrote (and its parents): an opaque marker in OCI form removes
  // everything in its directory that is *not* from this layer.
  readonly #writtenPaths = new Set<string>();
  // Directory mtimes are set at the end, since creating children changes them.
  readonly #directoryTimes: { components: string[]; mtime: FileTime }[] = [];

  constructor(root: TargetRoot, options: ApplyOptions) {
    this.#root = root;
    this.#options = options;
    this.#sameOwner = options.sameOwner ?? Deno.uid() === 0;
  }

  /** Applies one entry; returns a sink for a regular file's data. */
  apply(entry: TarEntry): EntryDataSink | undefined {
    const components = entryComponents(entry.name);
    const baseName = components.at(-1) ?? "";
    const parent = components.slice(0, -1);
    const whiteout = classifyWhiteout(baseName, entry.name);
    try {
      switch (whiteout.kind) {
        case "opaque":
          this.#applyOpaque(parent);
          return undefined;
        case "whiteout":
          this.#applyWhiteout(parent, whiteout.hiddenName);
          return undefined;
        case "aufs-metadata":
          return undefined; // AUFS bookkeeping; meaningless outside AUFS.
      }
      this.#recordWritten(components);
      if (components.length === 0) {
        this.#applyToRootDirectory(entry);
        return undefined;
      }
      return this.#applyEntry(entry, parent, baseName);
    } catch (error) {
      if (error instanceof LayerEntryError) throw error;
      throw new LayerEntryError(entry.name, (error as Error).message);
    }
  }

  /** Sets the deferred directory mtimes, once every entry is in. */
  finish(): void {
    for (const { components, mtime } of this.#directoryTimes) {
      try {
        if (components.length === 0) {
          futimens(this.#root.fd, mtime, mtime);
          continue;
        }
        const parentFd = this.#root.directory(components.slice(0, -1), false);
        lutimesAt(parentFd, components.at(-1)!, mtime, mtime);
      } catch (error) {
        // A later entry of the layer removed it (a whiteout): nothing to date.
        if (!hasErrno(error, ErrnoValue.ENOENT) && !hasErrno(error, ErrnoValue.ENOTDIR)) {
          throw error;
        }
      }
    }
  }

  #applyEntry(entry: TarEntry, parent: string[], name: string): EntryDataSink | undefined {
    const parentFd = this.#root.directory(parent, true);
    switch (entry.type) {
      case "directory":
        this.#createDirectory(parentFd, name);
        this.#setMetadata(entry, parentFd, name);
        this.#directoryTimes.push({ components: [...parent, name], mtime: entry.mtime });
        return undefined;
      case "file":
        return this.#createFile(entry, parentFd, name);
      case "symlink":
        this.#replacing(parentFd, name, () => symlinkAt(entry.linkname, parentFd, name));
        this.#setMetadata(entry, parentFd, name);
        return undefined;
      case "link":
        this.#createHardlink(entry, [...parent, name], parentFd);
        return undefined;
      case "character-device":
      case "block-device":
        if (!this.#options.allowDevices) {
          throw new LayerEntryError(
            entry.name,
            `${entry.type} ${entry.devmajor}:${entry.devminor} refused: devices are not allowed ` +
              "for this apply (allowDevices is false)",
          );
        }
        this.#createNode(entry, parentFd, name);
        return undefined;
      case "fifo":
        this.#createNode(entry, parentFd, name);
        return undefined;
    }
  }

  /**
   * Runs `create`; if the name is taken, removes what is there and tries once more. Tar
   * semantics: a later entry replaces an earlier file of the same name, and replacing
   * (not writing through) means an existing symlink or hardlink is never followed.
   */
  #replacing(parentFd: number, name: string, create: () => void): void {
    try {
      create();
    } catch (error) {
      if (!hasErrno(error, ErrnoValue.EEXIST)) throw error;
      this.#root.removeAll(parentFd, name);
      create();
    }
  }

  #createDirectory(parentFd: number, name: string): void {
    try {
      mkdirAt(parentFd, name, 0o700);
    } catch (error) {
      if (!hasErrno(error, ErrnoValue.EEXIST)) throw error;
      // An existing directory is merged into (lower layers' content stays); anything
      // else of that name is replaced.
      if ((lstatAt(parentFd, name).mode & FileType.MASK) === FileType.DIRECTORY) return;
      this.#root.removeAll(parentFd, name);
      mkdirAt(parentFd, name, 0o700);
    }
  }

  #createFile(entry: TarEntry, parentFd: number, name: string): EntryDataSink {
    const flags = OpenFlags.WRONLY | OpenFlags.CREAT | OpenFlags.EXCL | OpenFlags.NOFOLLOW;
    let fd = -1;
    this.#replacing(parentFd, name, () => fd = openAt(parentFd, name, flags, 0o600));
    const fileFd = fd;
    let isOpen = true;
    // A failure can reach both abort() and end(); the descriptor is closed exactly once.
    const release = () => {
      if (isOpen) close(fileFd);
      isOpen = false;
    };
    return {
      write: (chunk) => writeAll(fileFd, chunk),
      end: () => {
        try {
          // Owner first: chown clears setuid/setgid. xattrs after chown, which drops
          // security.capability. Times last: every earlier step updates them.
          if (this.#sameOwner) fchown(fileFd, entry.uid, entry.gid);
          fchmod(fileFd, entry.mode);
          for (const [key, value] of this.#xattrsToSet(entry)) {
            this.#tolerateXattrError(entry, key, () => fsetxattr(fileFd, key, value));
          }
          futimens(fileFd, entry.mtime, entry.mtime);
        } finally {
          release();
        }
      },
      abort: release,
    };
  }

  #createHardlink(entry: TarEntry, components: string[], parentFd: number): void {
    // The link source is resolved inside the target too: "/etc/passwd" means
    // <target>/etc/passwd, and ".." is refused, so a link can never reach a host file.
    const source = entryComponents(entry.linkname, entry.name, "the hardlink source");
    const name = components.at(-1)!;
    if (source.length === 0) throw new LayerEntryError(entry.name, "hardlink to the root");
    if (joinComponents(source) === joinComponents(components)) return; // a link to itself
    let sourceParentFd: number;
    try {
      sourceParentFd = this.#root.openDirectory(source.slice(0, -1));
    } catch (error) {
      throw new LayerEntryError(
        entry.name,
        `hardlink source ${JSON.stringify(entry.linkname)} is not in the layer or target ` +
          `(${(error as Error).message})`,
      );
    }
    try {
      this.#replacing(parentFd, name, () => linkAt(sourceParentFd, source.at(-1)!, parentFd, name));
    } catch (error) {
      if (!hasErrno(error, ErrnoValue.ENOENT)) throw error;
      throw new LayerEntryError(
        entry.name,
        `hardlink source ${JSON.stringify(entry.linkname)} does not exist in the target`,
      );
    } finally {
      close(sourceParentFd);
    }
  }

  #createNode(entry: TarEntry, parentFd: number, name: string): void {
    const typeBits = entry.type === "fifo"
      ? FileType.FIFO
      : entry.type === "block-device"
      ? FileType.BLOCK_DEVICE
      : FileType.CHAR_DEVICE;
    const device = entry.type === "fifo" ? 0n : makeDevice(entry.devmajor, entry.devminor);
    this.#replacing(parentFd, name, () => mknodAt(parentFd, name, typeBits | 0o600, device));
    this.#setMetadata(entry, parentFd, name);
  }

  /** Owner, mode, xattrs and (except for directories) times of a non-regular entry. */
  #setMetadata(entry: TarEntry, parentFd: number, name: string): void {
    if (this.#sameOwner) lchownAt(parentFd, name, entry.uid, entry.gid);
    // Linux ignores a symlink's own mode, and fchmodat would follow the link.
    if (entry.type !== "symlink") chmodAt(parentFd, name, entry.mode);
    const xattrs = this.#xattrsToSet(entry);
    if (xattrs.length > 0) {
      // Through the directory descriptor: the final name is not followed by lsetxattr.
      const path = `/proc/self/fd/${parentFd}/${name}`;
      for (const [key, value] of xattrs) {
        this.#tolerateXattrError(entry, key, () => lsetxattr(path, key, value));
      }
    }
    if (entry.type !== "directory") lutimesAt(parentFd, name, entry.mtime, entry.mtime);
  }

  #applyToRootDirectory(entry: TarEntry): void {
    if (entry.type !== "directory") {
      throw new LayerEntryError(entry.name, `names the target root but is a ${entry.type}`);
    }
    if (this.#sameOwner) fchown(this.#root.fd, entry.uid, entry.gid);
    fchmod(this.#root.fd, entry.mode);
    for (const [key, value] of this.#xattrsToSet(entry)) {
      this.#tolerateXattrError(entry, key, () => fsetxattr(this.#root.fd, key, value));
    }
    this.#directoryTimes.push({ components: [], mtime: entry.mtime });
  }

  #xattrsToSet(entry: TarEntry): [string, Uint8Array][] {
    const xattrs: [string, Uint8Array][] = [];
    for (const [key, value] of xattrsFromPax(entry.pax)) {
      // overlayfs' own xattrs are never layer content: honouring one from a layer would
      // let it forge opaque dirs or redirects in an upperdir.
      if (key.startsWith(overlayXattrPrefix)) {
        this.#warn(`${entry.name}: ignored xattr ${key} (reserved for overlayfs)`);
        continue;
      }
      xattrs.push([key, value]);
    }
    return xattrs;
  }

  #tolerateXattrError(entry: TarEntry, key: string, set: () => void): void {
    try {
      set();
    } catch (error) {
      // The target file system lacks xattr support, or refuses this namespace here
      // (user.* on a symlink, security.* without privilege): skip, as containerd does.
      if (hasErrno(error, ErrnoValue.EOPNOTSUPP) || hasErrno(error, ErrnoValue.EPERM)) {
        this.#warn(`${entry.name}: could not set xattr ${key}: ${(error as Error).message}`);
        return;
      }
      throw error;
    }
  }

  #warn(message: string): void {
    if (this.warnings.length < maxWarnings) this.warnings.push(message);
  }

  #recordWritten(components: string[]): void {
    for (let depth = components.length; depth > 0; depth--) {
      const path = joinComponents(components.slice(0, depth));
      if (this.#writtenPaths.has(path)) break;
      this.#writtenPaths.add(path);
    }
  }

  /** `.wh.NAME`: NAME is deleted from the layers below (not what this layer wrote). */
  #applyWhiteout(parent: string[], hiddenName: string): void {
    const hidden = [...parent, hiddenName];
    if (this.#writtenPaths.has(joinComponents(hidden))) {
      // A whiteout hides only what the layers *below* have, whatever the entry order
      // (OCI image spec): what this layer put at NAME stays. If that is a directory, the
      // lower directory's content must still vanish, which is what an opaque marker does.
      if (this.#isDirectory(hidden)) this.#applyOpaque(hidden);
      return;
    }
    if (this.#options.whiteoutFormat === "overlay") {
      // Record the deletion as overlayfs does: a 0/0 character device in the upperdir.
      const parentFd = this.#root.directory(parent, true);
      this.#root.removeAll(parentFd, hiddenName);
      mknodAt(parentFd, hiddenName, FileType.CHAR_DEVICE, 0n);
      return;
    }
    let parentFd: number;
    try {
      parentFd = this.#root.directory(parent, false);
    } catch (error) {
      if (hasErrno(error, ErrnoValue.ENOENT) || hasErrno(error, ErrnoValue.ENOTDIR)) return;
      throw error;
    }
    this.#root.removeAll(parentFd, hiddenName);
  }

  #isDirectory(components: string[]): boolean {
    try {
      const parentFd = this.#root.directory(components.slice(0, -1), false);
      return (lstatAt(parentFd, components.at(-1)!).mode & FileType.MASK) === FileType.DIRECTORY;
    } catch (error) {
      if (hasErrno(error, ErrnoValue.ENOENT) || hasErrno(error, ErrnoValue.ENOTDIR)) return false;
      throw error;
    }
  }

  /** `.wh..wh..opq`: the directory hides everything the layers below had in it. */
  #applyOpaque(directory: string[]): void {
    this.#recordWritten(directory);
    if (this.#options.whiteoutFormat === "overlay") {
      this.#root.directory(directory, true);
      const fd = this.#root.openDirectory(directory, OpenFlags.RDONLY);
      try {
        fsetxattr(fd, overlayOpaqueXattr, new TextEncoder().encode("y"));
      } finally {
        close(fd);
      }
      return;
    }
    let fd: number;
    try {
      fd = this.#root.openDirectory(directory, OpenFlags.RDONLY);
    } catch (error) {
      if (hasErrno(error, ErrnoValue.ENOENT)) return;
      throw error;
    }
    try {
      this.#removeOlderContent(fd, joinComponents(directory));
    } finally {
      close(fd);
    }
  }

  /** Removes everything below `dirFd` that this layer did not write. */
  #removeOlderContent(dirFd: number, path: string): void {
    for (const child of listDirectory(dirFd)) {
      const childPath = path === "" ? child.name : `${path}/${child.name}`;
      if (!this.#writtenPaths.has(childPath)) {
        this.#root.removeAll(dirFd, child.name);
      } else if (child.isDirectory) {
        const childFd = openAt(
          dirFd,
          child.name,
          OpenFlags.RDONLY | OpenFlags.DIRECTORY | OpenFlags.NOFOLLOW,
        );
        try {
          this.#removeOlderContent(childFd, childPath);
        } finally {
          close(childFd);
        }
      }
    }
  }
}
