// What this teaches: turning a Mount description into mount(2) calls, and undoing them.
// Three details make it more than one call: a bind mount ignores MS_RDONLY on the first
// call (read-only needs a second, remount call); propagation ("rprivate") is a separate
// call too; and an overlay over many layers may need its lowerdirs shortened (see
// lowerdirs.ts) and the mount issued from another working directory. Every error path
// undoes what was already mounted, so a failure never leaves a half-assembled rootfs.
// Mirrors containerd's core/mount/mount_linux.go (Mount.mount, UnmountAll, unmount) and
// core/mount/mount.go (All).

import { LinuxError } from "../linux/errors.ts";
import { closeFile, openFile, OpenFlags } from "../linux/files.ts";
import { chdir, fchdir } from "../linux/identity.ts";
import { mount as mountSyscall, MountFlags, unmount, UnmountFlags } from "../linux/mount.ts";
import { parseMountOptions } from "../linux/mount_options.ts";
import { CloneFlags, unshare } from "../linux/namespaces.ts";
import { compactLowerdirs, MOUNT_DATA_LIMIT, mountDataSize } from "./lowerdirs.ts";
import type { Mount } from "./types.ts";

const errnoInvalid = 22; // EINVAL: "not a mount point" for umount2
const errnoNoEntry = 2; // ENOENT
const errnoBusy = 16; // EBUSY

/**
 * Mounts one Mount at `target` (an existing directory). Throws a LinuxError naming the
 * failing call; whatever this function mounted before the failure is unmounted again.
 */
export function mountOne(description: Mount, target: string): void {
  const parsed = parseMountOptions(description.options);
  const isBind = description.type === "bind" || (parsed.flags & MountFlags.BIND) !== 0;
  const flags = isBind ? parsed.flags | MountFlags.BIND : parsed.flags;
  let data = parsed.data;
  let workingDirectory = "";
  if (description.type === "overlay" && mountDataSize(data.join(",")) > MOUNT_DATA_LIMIT) {
    const compacted = compactLowerdirs(data);
    data = compacted.options;
    workingDirectory = compacted.workingDirectory;
    const size = mountDataSize(data.join(","));
    if (size > MOUNT_DATA_LIMIT) {
      throw new Error(
        `overlay options for ${target} are ${size} bytes even with relative lowerdirs, over ` +
          `the kernel's one page of mount data (${MOUNT_DATA_LIMIT} usable): use fewer layers`,
      );
    }
  }
  // A bind mount takes its "type" from the flags; the kernel ignores the type argument.
  const fstype = isBind ? null : description.type;
  // MS_REMOUNT in the first call would mean "change an existing mount", never wanted here.
  const firstFlags = flags & ~MountFlags.REMOUNT;
  const dataText = data.length > 0 && !isBind ? data.join(",") : null;
  if (workingDirectory !== "") {
    mountFromDirectory(workingDirectory, description.source, target, fstype, firstFlags, dataText);
  } else {
    mountSyscall(description.source, target, fstype, firstFlags, dataText);
  }
  try {
    if (isBind && (flags & MountFlags.RDONLY) !== 0) {
      // The first bind call ignores MS_RDONLY; only a remount of the bind makes it read-only.
      mountSyscall(null, target, null, flags | MountFlags.REMOUNT | MountFlags.BIND, null);
    }
    for (const propagation of parsed.propagation) {
      mountSyscall(null, target, null, propagation, null);
    }
  } catch (error) {
    detachQuietly(target);
    throw error;
  }
}

/**
 * Runs mount(2) with `directory` as the working directory, so relative lowerdirs resolve
 * inside it. A process has one working directory shared by all its threads, and Deno runs
 * file operations on helper threads: changing it for everyone, even for a microsecond,
 * could send another thread's relative path elsewhere. Docker's overlay2 (`mountFrom`) and
 * containerd (`mountAt`) run this on a dedicated Go thread that first calls
 * unshare(CLONE_FS) and is never reused (older containerd forked a child instead). A Deno
 * program has no thread to spare, so the calling thread takes the private copy of its
 * working-directory state itself, changes directory, mounts, and changes back. No other
 * thread ever sees the change; the only lasting effect is that this thread's later
 * chdir() calls stay its own (mini code uses absolute paths throughout).
 */
export function mountFromDirectory(
  directory: string,
  source: string,
  target: string,
  fstype: string | null,
  flags: number,
  data: string | null,
): void {
  unshare(CloneFlags.FS);
  const previous = openFile(".", OpenFlags.PATH | OpenFlags.DIRECTORY | OpenFlags.CLOEXEC);
  try {
    chdir(directory);
    mountSyscall(source, target, fstype, flags, data);
  } finally {
    try {
      fchdir(previous);
    } finally {
      closeFile(previous);
    }
  }
}

/**
 * Mounts every Mount at `target`, in order (later ones stack on earlier ones), like
 * containerd's mount.All. When one fails, the ones already mounted are unmounted before
 * the error is rethrown.
 */
export function mountAll(mounts: readonly Mount[], target: string): void {
  let mounted = 0;
  try {
    for (const description of mounts) {
      mountOne(description, target);
      mounted++;
    }
  } catch (error) {
    for (; mounted > 0; mounted--) detachQuietly(target);
    throw error;
  }
}

/** Options of unmountAll(). */
export interface UnmountOptions {
  /** umount2 flags (UnmountFlags.DETACH for a lazy unmount). */
  flags?: number;
  /** How often EBUSY is retried, 50 ms apart (containerd retries 50 times). */
  busyRetries?: number;
}

/**
 * Unmounts everything stacked on `target`, top first, until it is no longer a mount
 * point. EBUSY (a process still has a file open in there) is retried for a while; the
 * last error is rethrown. A target that is not mounted (or does not exist) is fine.
 */
export async function unmountAll(target: string, options: UnmountOptions = {}): Promise<void> {
  const retries = options.busyRetries ?? 50;
  let busy = 0;
  while (true) {
    try {
      unmount(target, options.flags ?? 0);
      busy = 0;
    } catch (error) {
      if (error instanceof LinuxError) {
        if (error.errno === errnoInvalid || error.errno === errnoNoEntry) return;
        if (error.errno === errnoBusy && busy < retries) {
          busy++;
          await new Promise((resolve) => setTimeout(resolve, 50));
          continue;
        }
      }
      throw error;
    }
  }
}

/** Synchronous best-effort unmount for error paths (lazy, so a busy mount still goes away). */
function detachQuietly(target: string): void {
  try {
    unmount(target, UnmountFlags.DETACH);
  } catch { /* the original error is the one worth reporting */ }
}
