// What this teaches: the process attributes a container init sets on itself before it
// becomes the user's command: hostname, credentials (groups, gid, uid), umask, working
// directory, session. Mirrors runc's libcontainer/init_linux.go (setupUser, finalizeNamespace).

import { check, Errno } from "./errors.ts";
import { cString, lastErrno, syscall } from "./libc.ts";

const encoder = new TextEncoder();

/** sethostname(2), in the calling thread's UTS namespace. */
export function sethostname(name: string): void {
  const bytes = encoder.encode(name);
  check(syscall("sethostname", bytes, bytes.length), "sethostname", () => name);
}

/** setdomainname(2), in the calling thread's UTS namespace. */
export function setdomainname(name: string): void {
  const bytes = encoder.encode(name);
  check(syscall("setdomainname", bytes, bytes.length), "setdomainname", () => name);
}

/** setgroups(2): the supplementary group list. */
export function setgroups(groups: readonly number[]): void {
  const list = new Uint32Array(groups);
  check(syscall("setgroups", groups.length, list), "setgroups", () => groups.join(","));
}

/** setresgid(2): real, effective and saved group id at once. */
export function setresgid(real: number, effective: number, saved: number): void {
  check(syscall("setresgid", real, effective, saved), "setresgid", () => String(effective));
}

/** setresuid(2): real, effective and saved user id at once. */
export function setresuid(real: number, effective: number, saved: number): void {
  check(syscall("setresuid", real, effective, saved), "setresuid", () => String(effective));
}

/** umask(2); returns the previous mask. */
export function umask(mask: number): number {
  return syscall("umask", mask);
}

/** chdir(2) on the calling thread's filesystem context (Deno.chdir does the same). */
export function chdir(path: string): void {
  check(syscall("chdir", cString(path)), "chdir", () => JSON.stringify(path));
}

/** fchdir(2): back to a directory held open as `fd`. */
export function fchdir(fd: number): void {
  check(syscall("fchdir", fd), "fchdir", () => `fd ${fd}`);
}

/** setsid(2): a new session, detached from any controlling terminal. */
export function setsid(): number {
  return check(syscall("setsid"), "setsid");
}

/** chroot(2): changes the root directory of the calling thread's filesystem context. */
export function chroot(path: string): void {
  check(syscall("chroot", cString(path)), "chroot", () => JSON.stringify(path));
}

/** getpid(2), as the calling process's PID namespace numbers it. */
export function getpid(): number {
  return syscall("getpid");
}

/** kill(2). Signal 0 only checks that the process exists (ESRCH when it does not). */
export function kill(pid: number, signal: number): void {
  check(syscall("kill", pid, signal), "kill", () => `pid ${pid} signal ${signal}`);
}

/**
 * pidfd_open(2): a close-on-exec descriptor naming exactly process `pid` (a later
 * process reusing the number is not it), readable once the process has ended.
 * Throws a LinuxError with ESRCH when there is no such process.
 */
export function openProcessDescriptor(pid: number): number {
  return check(syscall("pidfd_open", pid, 0), "pidfd_open", () => `pid ${pid}`);
}

/** True when a process with this PID exists (it may be a zombie). */
export function processExists(pid: number): boolean {
  if (syscall("kill", pid, 0) === 0) return true;
  return lastErrno() !== Errno.ESRCH; // EPERM: it exists, we just may not signal it
}
