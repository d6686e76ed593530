// What this teaches: the three system calls behind every container filesystem: mount(2)
// to attach a filesystem (or bind a directory, or change propagation), umount2(2) to
// detach it, and pivot_root(2) to make a directory the new "/". Mirrors the mount helpers
// runc uses from golang.org/x/sys/unix (unix.Mount, unix.Unmount, unix.PivotRoot).

import { check } from "./errors.ts";
import { cString, optionalCString, syscall } from "./libc.ts";

/** mount(2) flags (include/uapi/linux/mount.h). Combine with `|`. */
export const MountFlags = {
  RDONLY: 0x1,
  NOSUID: 0x2,
  NODEV: 0x4,
  NOEXEC: 0x8,
  SYNCHRONOUS: 0x10,
  REMOUNT: 0x20,
  MANDLOCK: 0x40,
  DIRSYNC: 0x80,
  NOSYMFOLLOW: 0x100,
  NOATIME: 0x400,
  NODIRATIME: 0x800,
  BIND: 0x1000,
  MOVE: 0x2000,
  REC: 0x4000,
  SILENT: 0x8000,
  POSIXACL: 0x10000,
  UNBINDABLE: 0x20000,
  PRIVATE: 0x40000,
  SLAVE: 0x80000,
  SHARED: 0x100000,
  RELATIME: 0x200000,
  STRICTATIME: 0x1000000,
  LAZYTIME: 0x2000000,
} as const;

/** umount2(2) flags. */
export const UnmountFlags = {
  FORCE: 0x1,
  /** Lazy unmount: detach now, clean up when the last user goes away. */
  DETACH: 0x2,
  EXPIRE: 0x4,
  NOFOLLOW: 0x8,
} as const;

/**
 * mount(2): attaches `source` (a device, a directory for MS_BIND, or a name such as
 * "overlay"/"tmpfs") at `target`. `data` is the filesystem-specific option string
 * ("lowerdir=...,upperdir=...,workdir=..." for overlay, "size=64m" for tmpfs).
 * Throws a LinuxError naming the call on failure.
 */
export function mount(
  source: string | null,
  target: string,
  fstype: string | null,
  flags: number,
  data: string | null = null,
): void {
  check(
    syscall(
      "mount",
      optionalCString(source),
      cString(target),
      optionalCString(fstype),
      flags,
      optionalCString(data),
    ),
    "mount",
    () => `${JSON.stringify(source ?? "")} on ${JSON.stringify(target)} (type ${fstype ?? "none"})`,
  );
}

/** umount2(2): detaches the filesystem mounted at `target` (flags: UnmountFlags). */
export function unmount(target: string, flags = 0): void {
  check(syscall("umount2", cString(target), flags), "umount2", () => JSON.stringify(target));
}

/**
 * pivot_root(2): makes `newRoot` the root of the calling process's mount namespace and
 * moves the old root to `putOld`. `newRoot` must be a mount point (bind-mount a
 * directory onto itself first), or the kernel answers EINVAL.
 */
export function pivotRoot(newRoot: string, putOld: string): void {
  check(
    syscall("pivot_root", cString(newRoot), cString(putOld)),
    "pivot_root",
    () => `${JSON.stringify(newRoot)} ${JSON.stringify(putOld)}`,
  );
}
