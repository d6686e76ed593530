// What this teaches: a failed system call returns -1 and leaves a number in errno; a
// useful error names the call, its arguments and the errno in words. Mirrors Go's
// os.SyscallError / syscall.Errno as runc reports them ("mount ... : invalid argument").

import { describeErrno, lastErrno } from "./libc.ts";

/** errno values lib/linux callers test for by name. */
export const Errno = {
  EPERM: 1,
  ENOENT: 2,
  ESRCH: 3,
  EINTR: 4,
  EIO: 5,
  EBADF: 9,
  ECHILD: 10,
  EAGAIN: 11,
  ENOMEM: 12,
  EACCES: 13,
  EBUSY: 16,
  EEXIST: 17,
  ENOTDIR: 20,
  EISDIR: 21,
  EINVAL: 22,
  ENOSPC: 28,
  EROFS: 30,
  ENOSYS: 38,
  ENOTEMPTY: 39,
  ELOOP: 40,
  ENXIO: 6,
  E2BIG: 7,
  ENOEXEC: 8,
} as const;

const errnoNames = new Map<number, string>(
  Object.entries(Errno).map(([name, value]) => [value, name]),
);

/** A failed system call: which call, on what, and the kernel's errno. */
export class LinuxError extends Error {
  /** The symbolic errno name ("ENOENT"), or "errno N" for numbers not in `Errno`. */
  readonly code: string;

  constructor(readonly syscall: string, readonly errno: number, detail = "") {
    const name = errnoNames.get(errno) ?? `errno ${errno}`;
    super(`${syscall}${detail ? ` ${detail}` : ""}: ${name} (${describeErrno(errno)})`);
    this.name = "LinuxError";
    this.code = name;
  }
}

/**
 * Throws a LinuxError when `result` is negative, reading errno first. Pass the detail
 * as a function so formatting (which may call into libc) happens after errno is saved.
 */
export function check(
  result: number | bigint,
  syscall: string,
  detail?: () => string,
): number {
  if (result < 0) {
    const errno = lastErrno();
    throw new LinuxError(syscall, errno, detail?.() ?? "");
  }
  return Number(result);
}
