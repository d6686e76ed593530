// What this teaches: extracting a layer safely needs the *at() family of system calls:
// every file is created relative to an open directory, never through a path string that
// a symlink planted by the layer could redirect. openat2(2) with RESOLVE_IN_ROOT makes the
// kernel itself resolve a path as if the layer's root were "/", the in-kernel version of
// containerd's `fs.RootPath` / cyphar's `securejoin`.
// Mirrors the syscalls containerd's pkg/archive/tar_unix.go reaches through
// golang.org/x/sys/unix (Mknod, Lchown, Lsetxattr, UtimesNanoAt) and runc's use of openat2.
//
// Only the file-system calls the archive component needs live here; errno handling and
// the shared C-string helpers come from lib/linux. All calls are synchronous on purpose:
// extraction is a tight loop and a blocking call costs far less than a promise per file.

import { check, LinuxError } from "../linux/errors.ts";
import { makeDevice, OpenFlags } from "../linux/files.ts";
import { cString, lastErrno } from "../linux/libc.ts";

const symbols = {
  openat: { parameters: ["i32", "buffer", "i32", "u32"], result: "i32" },
  // glibc 2.36 has no openat2() wrapper; the raw entry takes (number, args...).
  syscall: { parameters: ["i64", "i64", "buffer", "buffer", "u64"], result: "i64" },
  close: { parameters: ["i32"], result: "i32" },
  read: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  write: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  mkdirat: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  mknodat: { parameters: ["i32", "buffer", "u32", "u64"], result: "i32" },
  symlinkat: { parameters: ["buffer", "i32", "buffer"], result: "i32" },
  linkat: { parameters: ["i32", "buffer", "i32", "buffer", "i32"], result: "i32" },
  unlinkat: { parameters: ["i32", "buffer", "i32"], result: "i32" },
  fchown: { parameters: ["i32", "u32", "u32"], result: "i32" },
  fchownat: { parameters: ["i32", "buffer", "u32", "u32", "i32"], result: "i32" },
  fchmod: { parameters: ["i32", "u32"], result: "i32" },
  fchmodat: { parameters: ["i32", "buffer", "u32", "i32"], result: "i32" },
  futimens: { parameters: ["i32", "buffer"], result: "i32" },
  utimensat: { parameters: ["i32", "buffer", "buffer", "i32"], result: "i32" },
  statx: { parameters: ["i32", "buffer", "i32", "u32", "buffer"], result: "i32" },
  fsetxattr: { parameters: ["i32", "buffer", "buffer", "usize", "i32"], result: "i32" },
  lsetxattr: { parameters: ["buffer", "buffer", "buffer", "usize", "i32"], result: "i32" },
  llistxattr: { parameters: ["buffer", "buffer", "usize"], result: "isize" },
  lgetxattr: { parameters: ["buffer", "buffer", "buffer", "usize"], result: "isize" },
} as const satisfies Deno.ForeignLibraryInterface;

let library: Deno.DynamicLibrary<typeof symbols> | undefined;

function fileCalls(): Deno.DynamicLibrary<typeof symbols>["symbols"] {
  if (library === undefined) library = Deno.dlopen("libc.so.6", symbols);
  return library.symbols;
}

/** errno values the archive code reacts to (asm-generic numbering, same on x86_64 and arm64). */
export const ErrnoValue = {
  ENOENT: 2,
  EEXIST: 17,
  EXDEV: 18,
  ENOTDIR: 20,
  EISDIR: 21,
  EINVAL: 22,
  ERANGE: 34,
  ENOSYS: 38,
  ENOTEMPTY: 39,
  ELOOP: 40,
  ENODATA: 61,
  EOPNOTSUPP: 95,
  EPERM: 1,
} as const;

/** True when `error` is a failed system call with the given errno. */
export function hasErrno(error: unknown, errno: number): boolean {
  return error instanceof LinuxError && error.errno === errno;
}

/** open(2) flags: the runtime's, from lib/linux (they differ between x86_64 and arm64). */
export { OpenFlags };

/** *at() flags. */
export const AtFlags = {
  /** The "current directory" dirfd: paths are resolved as ordinary paths. */
  FDCWD: -100,
  SYMLINK_NOFOLLOW: 0x100,
  REMOVEDIR: 0x200,
  EMPTY_PATH: 0x1000,
} as const;

/** File type bits of st_mode. */
export const FileType = {
  MASK: 0o170000,
  SOCKET: 0o140000,
  SYMLINK: 0o120000,
  REGULAR: 0o100000,
  BLOCK_DEVICE: 0o060000,
  DIRECTORY: 0o040000,
  CHAR_DEVICE: 0o020000,
  FIFO: 0o010000,
} as const;

// openat2(2): syscall number 437 on every architecture (added after the numbering unified).
const SYS_openat2 = 437n;
const RESOLVE_NO_MAGICLINKS = 0x02n;
const RESOLVE_IN_ROOT = 0x10n;

/** openat(2). Returns the new file descriptor. */
export function openAt(dirFd: number, name: string, flags: number, mode = 0): number {
  return check(
    fileCalls().openat(dirFd, cString(name), flags | OpenFlags.CLOEXEC, mode),
    "openat",
    () => JSON.stringify(name),
  );
}

/**
 * openat2(2) with RESOLVE_IN_ROOT: opens `path` (relative, no "..") below `rootFd` with
 * every symlink, absolute or relative, resolved as if `rootFd` were "/". A layer's
 * `evil -> /etc` symlink therefore leads to `<root>/etc`, never to the host's /etc.
 * Magic links (/proc/self/fd/...) are refused outright.
 */
export function openInRoot(rootFd: number, path: string, flags: number): number {
  const how = new BigUint64Array([
    BigInt(flags | OpenFlags.CLOEXEC), // flags
    0n, // mode
    RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS, // resolve
  ]);
  const result = fileCalls().syscall(
    SYS_openat2,
    BigInt(rootFd),
    cString(path === "" ? "." : path),
    new Uint8Array(how.buffer),
    BigInt(how.byteLength),
  );
  if (result < 0 && lastErrno() === ErrnoValue.ENOSYS) {
    throw new Error("openat2(2) is not available: applying layers safely needs Linux 5.6 or later");
  }
  return check(result, "openat2", () => `${JSON.stringify(path)} (RESOLVE_IN_ROOT)`);
}

/** close(2). */
export function close(fd: number): void {
  check(fileCalls().close(fd), "close", () => `fd ${fd}`);
}

/** write(2) until every byte of `data` is written. */
export function writeAll(fd: number, data: Uint8Array): void {
  let offset = 0;
  while (offset < data.byteLength) {
    const chunk = offset === 0 ? data : data.subarray(offset);
    const written = check(
      fileCalls().write(fd, chunk, BigInt(chunk.byteLength)),
      "write",
      () => `fd ${fd}`,
    );
    offset += written;
  }
}

/** read(2) into `buffer`; returns the number of bytes read (0 at end of file). */
export function read(fd: number, buffer: Uint8Array): number {
  return check(fileCalls().read(fd, buffer, BigInt(buffer.byteLength)), "read", () => `fd ${fd}`);
}

/** mkdirat(2). */
export function mkdirAt(dirFd: number, name: string, mode: number): void {
  check(fileCalls().mkdirat(dirFd, cString(name), mode), "mkdirat", () => JSON.stringify(name));
}

/** glibc's makedev(): the dev_t encoding of a device's major and minor numbers. */
export { makeDevice };

/** mknodat(2): device nodes and FIFOs. `mode` includes the file type bits. */
export function mknodAt(dirFd: number, name: string, mode: number, device: bigint): void {
  check(
    fileCalls().mknodat(dirFd, cString(name), mode, device),
    "mknodat",
    () => JSON.stringify(name),
  );
}

/** symlinkat(2): creates `name` in `dirFd` pointing at `target` (stored verbatim). */
export function symlinkAt(target: string, dirFd: number, name: string): void {
  check(
    fileCalls().symlinkat(cString(target), dirFd, cString(name)),
    "symlinkat",
    () => `${JSON.stringify(name)} -> ${JSON.stringify(target)}`,
  );
}

/** linkat(2) without AT_SYMLINK_FOLLOW: a link to a symlink links the symlink itself. */
export function linkAt(oldDirFd: number, oldName: string, newDirFd: number, newName: string) {
  check(
    fileCalls().linkat(oldDirFd, cString(oldName), newDirFd, cString(newName), 0),
    "linkat",
    () => `${JSON.stringify(newName)} => ${JSON.stringify(oldName)}`,
  );
}

/** unlinkat(2); pass AtFlags.REMOVEDIR to remove an empty directory. */
export function unlinkAt(dirFd: number, name: string, flags = 0): void {
  check(fileCalls().unlinkat(dirFd, cString(name), flags), "unlinkat", () => JSON.stringify(name));
}

/** fchown(2). */
export function fchown(fd: number, uid: number, gid: number): void {
  check(fileCalls().fchown(fd, uid, gid), "fchown", () => `fd ${fd}`);
}

/** fchownat(2) with AT_SYMLINK_NOFOLLOW: the lchown of a name in a directory. */
export function lchownAt(dirFd: number, name: string, uid: number, gid: number): void {
  check(
    fileCalls().fchownat(dirFd, cString(name), uid, gid, AtFlags.SYMLINK_NOFOLLOW),
    "fchownat",
    () => JSON.stringify(name),
  );
}

/** fchmod(2); `mode` may carry setuid, setgid and sticky bits. */
export function fchmod(fd: number, mode: number): void {
  check(fileCalls().fchmod(fd, mode), "fchmod", () => `fd ${fd}`);
}

/** fchmodat(2). Follows a final symlink, so call it only on names known not to be one. */
export function chmodAt(dirFd: number, name: string, mode: number): void {
  check(
    fileCalls().fchmodat(dirFd, cString(name), mode, 0),
    "fchmodat",
    () => JSON.stringify(name),
  );
}

/** A `struct timespec[2]` (atime, mtime) for utimensat/futimens. */
function timespecPair(atime: FileTime, mtime: FileTime): Uint8Array {
  const times = new BigInt64Array([
    BigInt(atime.seconds),
    BigInt(atime.nanoseconds),
    BigInt(mtime.seconds),
    BigInt(mtime.nanoseconds),
  ]);
  return new Uint8Array(times.buffer);
}

/** A point in time as the kernel stores it. */
export interface FileTime {
  seconds: number;
  nanoseconds: number;
}

/** futimens(2). */
export function futimens(fd: number, atime: FileTime, mtime: FileTime): void {
  check(fileCalls().futimens(fd, timespecPair(atime, mtime)), "futimens", () => `fd ${fd}`);
}

/** utimensat(2) with AT_SYMLINK_NOFOLLOW: sets a symlink's own times, not its target's. */
export function lutimesAt(dirFd: number, name: string, atime: FileTime, mtime: FileTime): void {
  check(
    fileCalls().utimensat(
      dirFd,
      cString(name),
      timespecPair(atime, mtime),
      AtFlags.SYMLINK_NOFOLLOW,
    ),
    "utimensat",
    () => JSON.stringify(name),
  );
}

/** The fields of statx(2) the archive code uses. */
export interface FileStatus {
  /** st_mode: file type bits and permission bits. */
  mode: number;
  uid: number;
  gid: number;
  inode: bigint;
  device: { major: number; minor: number };
  links: number;
  size: number;
  mtime: FileTime;
  /** For device nodes: the device they stand for. */
  rdev: { major: number; minor: number };
}

const STATX_BASIC_STATS = 0x7ff;

/**
 * statx(2) of `name` in `dirFd` without following a final symlink (the lstat of *at
 * calls). statx's struct layout is the same on every architecture, unlike struct stat.
 */
export function lstatAt(dirFd: number, name: string): FileStatus {
  const buffer = new Uint8Array(256);
  check(
    fileCalls().statx(
      dirFd,
      cString(name),
      AtFlags.SYMLINK_NOFOLLOW | (name === "" ? AtFlags.EMPTY_PATH : 0),
      STATX_BASIC_STATS,
      buffer,
    ),
    "statx",
    () => JSON.stringify(name),
  );
  const view = new DataView(buffer.buffer);
  return {
    links: view.getUint32(16, true),
    uid: view.getUint32(20, true),
    gid: view.getUint32(24, true),
    mode: view.getUint16(28, true),
    inode: view.getBigUint64(32, true),
    size: Number(view.getBigUint64(40, true)),
    mtime: {
      seconds: Number(view.getBigInt64(112, true)),
      nanoseconds: view.getUint32(120, true),
    },
    rdev: { major: view.getUint32(128, true), minor: view.getUint32(132, true) },
    device: { major: view.getUint32(136, true), minor: view.getUint32(140, true) },
  };
}

/** fsetxattr(2) on an open file. */
export function fsetxattr(fd: number, name: string, value: Uint8Array): void {
  check(
    fileCalls().fsetxattr(fd, cString(name), value, BigInt(value.byteLength), 0),
    "fsetxattr",
    () => `${name} on fd ${fd}`,
  );
}

/** lsetxattr(2): sets an xattr on `path` itself, not on a symlink's target. */
export function lsetxattr(path: string, name: string, value: Uint8Array): void {
  check(
    fileCalls().lsetxattr(cString(path), cString(name), value, BigInt(value.byteLength), 0),
    "lsetxattr",
    () => `${name} on ${JSON.stringify(path)}`,
  );
}

/** llistxattr(2): the names of `path`'s own xattrs (empty when the file system has none). */
export function llistxattr(path: string): string[] {
  const pathBytes = cString(path);
  for (;;) {
    const needed = check(
      fileCalls().llistxattr(pathBytes, null, 0n),
      "llistxattr",
      () => JSON.stringify(path),
    );
    if (needed === 0) return [];
    const buffer = new Uint8Array(needed);
    try {
      const length = check(
        fileCalls().llistxattr(pathBytes, buffer, BigInt(needed)),
        "llistxattr",
        () => JSON.stringify(path),
      );
      // The list is NUL-separated names, each NUL-terminated.
      return new TextDecoder().decode(buffer.subarray(0, length)).split("\0").filter((n) => n);
    } catch (error) {
      // The list grew between the two calls: ask again.
      if (!hasErrno(error, ErrnoValue.ERANGE)) throw error;
    }
  }
}

/** lgetxattr(2): the raw value of one xattr of `path` itself. */
export function lgetxattr(path: string, name: string): Uint8Array {
  const pathBytes = cString(path);
  const nameBytes = cString(name);
  for (;;) {
    const needed = check(
      fileCalls().lgetxattr(pathBytes, nameBytes, null, 0n),
      "lgetxattr",
      () => `${name} of ${JSON.stringify(path)}`,
    );
    const buffer = new Uint8Array(needed);
    try {
      const length = check(
        fileCalls().lgetxattr(pathBytes, nameBytes, buffer, BigInt(needed)),
        "lgetxattr",
        () => `${name} of ${JSON.stringify(path)}`,
      );
      return buffer.subarray(0, length);
    } catch (error) {
      if (!hasErrno(error, ErrnoValue.ERANGE)) throw error;
    }
  }
}
