// What this teaches: the file-descriptor level calls a runtime needs and Deno does not
// expose: device nodes (mknod), FIFOs (mkfifo), raw open/read/write on inherited fds,
// socket pairs for parent/child synchronisation, and close-on-exec hygiene so that no
// host file descriptor leaks into a container. Mirrors the unix.* calls in runc's
// libcontainer (utils_linux.go, rootfs_linux.go createDevices, sync.go).

import { check } from "./errors.ts";
import { AT_FDCWD, cString, syscall, syscallInBackground } from "./libc.ts";

const isArm64 = Deno.build.arch === "aarch64";

/** open(2) flags (O_DIRECTORY and O_NOFOLLOW differ between x86_64 and arm64). */
export const OpenFlags = {
  RDONLY: 0,
  WRONLY: 0o1,
  RDWR: 0o2,
  CREAT: 0o100,
  EXCL: 0o200,
  NOCTTY: 0o400,
  TRUNC: 0o1000,
  APPEND: 0o2000,
  NONBLOCK: 0o4000,
  DIRECTORY: isArm64 ? 0o40000 : 0o200000,
  NOFOLLOW: isArm64 ? 0o100000 : 0o400000,
  CLOEXEC: 0o2000000,
  PATH: 0o10000000,
} as const;

/** File type bits for mknod(2). */
export const FileType = {
  FIFO: 0o010000,
  CHARACTER_DEVICE: 0o020000,
  BLOCK_DEVICE: 0o060000,
} as const;

/** A device number from major/minor, as glibc's makedev() builds it. */
export function makeDevice(major: number, minor: number): bigint {
  const ma = BigInt(major);
  const mi = BigInt(minor);
  return ((ma & 0xfffff000n) << 32n) | ((ma & 0xfffn) << 8n) | ((mi & 0xffffff00n) << 12n) |
    (mi & 0xffn);
}

/** mknod(2): creates a device node or FIFO (`mode` includes the FileType bits). */
export function mknod(path: string, mode: number, device: bigint = 0n): void {
  check(
    syscall("mknodat", AT_FDCWD, cString(path), mode, device),
    "mknod",
    () => JSON.stringify(path),
  );
}

/** mkfifo(3): creates a named pipe (a mknod of type FIFO). */
export function mkfifo(path: string, mode: number): void {
  check(
    syscall("mknodat", AT_FDCWD, cString(path), FileType.FIFO | mode, 0),
    "mkfifo",
    () => JSON.stringify(path),
  );
}

/** open(2); returns the raw descriptor. Blocks for FIFOs until the other side opens. */
export function openFile(path: string, flags: number, mode = 0): number {
  return check(
    syscall("openat", AT_FDCWD, cString(path), flags, mode),
    "open",
    () => JSON.stringify(path),
  );
}

/** openat(2): `path` relative to the directory open at `directoryFd`. */
export function openFileAt(directoryFd: number, path: string, flags: number, mode = 0): number {
  return check(
    syscall("openat", directoryFd, cString(path), flags, mode),
    "openat",
    () => JSON.stringify(path),
  );
}

/** close(2). */
export function closeFile(fd: number): void {
  check(syscall("close", fd), "close", () => `fd ${fd}`);
}

/** read(2) into `buffer`; returns the byte count (0 at end of file). */
export function readFile(fd: number, buffer: Uint8Array<ArrayBuffer>): number {
  return check(syscall("read", fd, buffer, buffer.length), "read", () => `fd ${fd}`);
}

/** read(2) on a worker thread: resolves to the byte count, 0 at end of file, -1 on error. */
export async function readFileInBackground(
  fd: number,
  buffer: Uint8Array<ArrayBuffer>,
): Promise<number> {
  return await syscallInBackground("read", fd, buffer, buffer.length);
}

/** write(2) of all of `bytes` (loops over short writes). */
export function writeAll(fd: number, bytes: Uint8Array<ArrayBuffer>): void {
  let offset = 0;
  while (offset < bytes.length) {
    const chunk = bytes.subarray(offset);
    offset += check(syscall("write", fd, chunk, chunk.length), "write", () => `fd ${fd}`);
  }
}

/** dup(2): a copy of `fd`, never close-on-exec. */
export function duplicate(fd: number): number {
  return check(syscall("dup", fd), "dup", () => `fd ${fd}`);
}

/** dup2(2): makes `target` a copy of `fd` (dup3 with no flags; a no-op when equal). */
export function duplicateTo(fd: number, target: number): void {
  if (fd === target) return;
  check(syscall("dup3", fd, target, 0), "dup2", () => `fd ${fd} -> ${target}`);
}

const F_GETFD = 1;
const F_SETFD = 2;
const FD_CLOEXEC = 1;

/** Sets or clears FD_CLOEXEC: whether `fd` is closed by the next execve. */
export function setCloseOnExec(fd: number, closeOnExec: boolean): void {
  const current = check(syscall("fcntl", fd, F_GETFD, 0), "fcntl", () => `fd ${fd}`);
  const next = closeOnExec ? current | FD_CLOEXEC : current & ~FD_CLOEXEC;
  check(syscall("fcntl", fd, F_SETFD, next), "fcntl", () => `fd ${fd}`);
}

const AF_UNIX = 1;
const SOCK_STREAM = 1;
const SOCK_CLOEXEC = 0o2000000;

/** socketpair(AF_UNIX, SOCK_STREAM|SOCK_CLOEXEC): two connected close-on-exec ends. */
export function socketPair(): [number, number] {
  const fds = new Int32Array(2);
  check(syscall("socketpair", AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), "socketpair");
  return [fds[0], fds[1]];
}

const EFD_NONBLOCK = 0o4000;
const EFD_CLOEXEC = 0o2000000;

/**
 * eventfd2(2), non-blocking and close-on-exec: a kernel counter behind a descriptor.
 * Writing 8 bytes adds to it and makes it readable; reading returns and resets it.
 * Used as a doorbell that wakes a poll(2) in progress (poller.ts).
 */
export function openEventCounter(): number {
  return check(syscall("eventfd2", 0, EFD_NONBLOCK | EFD_CLOEXEC), "eventfd");
}

const CLOSE_RANGE_CLOEXEC = 4;

/** Marks every descriptor from `first` up close-on-exec (close_range(2)), so none leaks. */
export function closeOnExecFrom(first: number): void {
  check(syscall("close_range", first, 0xffffffff, CLOSE_RANGE_CLOEXEC), "close_range");
}
