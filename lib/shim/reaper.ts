// What this teaches: how a shim learns that a container process ended, and how it
// ended. After `runtime create` exits, the container's init is an orphan; because the
// shim marked itself a child subreaper (prctl PR_SET_CHILD_SUBREAPER), the kernel makes
// the shim its new parent, so the shim can waitpid() for it and read the exit status,
// which no other process could. The wait blocks, so it runs on a helper thread (Deno
// FFI `nonblocking`), one per process, leaving the event loop free.
//
// Why not waitpid(-1) like containerd's reaper? Deno reaps the children it spawns
// itself (the runtime invocations) by their pids; a wait for "any child" would steal
// those statuses. Waiting for each known pid keeps the two apart.
// Mirrors containerd's `pkg/sys/reaper/reaper_unix.go` and the SIGCHLD handling of
// `cmd/containerd-shim-runc-v2/task/service.go` (processExits).

import { Prctl, prctl } from "../linux/capabilities.ts";

const waitSymbols = {
  waitpid: { parameters: ["i32", "buffer", "i32"], result: "i32", nonblocking: true },
  poll: { parameters: ["buffer", "u64", "i32"], result: "i32", nonblocking: true },
  syscall: { parameters: ["i64", "i64", "i64"], result: "i64" },
  close: { parameters: ["i32"], result: "i32" },
} as const satisfies Deno.ForeignLibraryInterface;

let library: Deno.DynamicLibrary<typeof waitSymbols> | undefined;

/** The C library's waiting calls, bound on first use (not on the shim's start-up path). */
function threaded(): Deno.DynamicLibrary<typeof waitSymbols> {
  library ??= Deno.dlopen("libc.so.6", waitSymbols);
  return library;
}

const SYS_pidfd_open = 434n;
const POLLIN = 1;

/** Makes this process the reaper of its orphaned descendants (the container inits). */
export function becomeSubreaper(): void {
  prctl(Prctl.SET_CHILD_SUBREAPER, 1n);
}

/**
 * Turns a raw wait status into the number a shell reports: the exit code, or 128+N
 * for a process killed by signal N (so SIGKILL, and an OOM kill, read 137).
 */
export function exitStatusFromWaitStatus(status: number): number {
  const signal = status & 0x7f;
  if (signal === 0) return (status >> 8) & 0xff;
  return 128 + signal;
}

/**
 * Waits for the child `pid` to end and returns its exit status (exit code or 128+signal).
 * When `pid` is not our child (a runtime that leaves an intermediate parent), the exit
 * is still noticed through a pidfd, but its status cannot be read: 255 is reported.
 */
export async function waitForChild(pid: number): Promise<number> {
  const status = new Int32Array(1);
  while (true) {
    const result = await threaded().symbols.waitpid(pid, status, 0);
    if (result === pid) return exitStatusFromWaitStatus(status[0]);
    // -1: interrupted (still our child: wait again), gone, or not our child (ECHILD).
    const parent = parentPid(pid);
    if (parent === Deno.pid) continue;
    if (parent !== undefined) await waitForProcessExit(pid);
    return 255;
  }
}

/** The parent pid of `pid` from /proc, or undefined when there is no such process. */
export function parentPid(pid: number): number | undefined {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
  } catch {
    return undefined;
  }
}

/**
 * Resolves when any process `pid` (child or not) has ended, using a pidfd, which
 * names one process and cannot be fooled by the pid being reused later. The daemon
 * uses it to notice a shim dying.
 */
export async function waitForProcessExit(pid: number): Promise<void> {
  const pidfd = Number(threaded().symbols.syscall(SYS_pidfd_open, BigInt(pid), 0n));
  if (pidfd < 0) return; // already gone
  try {
    // struct pollfd { int fd; short events; short revents; }
    const pollFd = new Int32Array(2);
    pollFd[0] = pidfd;
    pollFd[1] = POLLIN;
    while (true) {
      const ready = await threaded().symbols.poll(pollFd, 1n, -1);
      if (ready > 0) return;
    }
  } finally {
    threaded().symbols.close(pidfd);
  }
}

/** True when `pid` no longer runs: no such process, or a zombie waiting to be reaped. */
export function processGone(pid: number): boolean {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
    return state === "Z" || state === "X";
  } catch {
    return true;
  }
}
