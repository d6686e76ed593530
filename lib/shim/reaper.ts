// What this teaches: how a shim learns that a container process ended, and how it
// ended. After `runtime create` exits, the container's init is an orphan; because the
// shim marked itself a child subreaper (prctl PR_SET_CHILD_SUBREAPER), the kernel makes
// the shim its new parent, so the shim can waitpid() for it and read the exit status,
// which no other process could. Waiting is two steps, so that no thread ever blocks:
// the process-wide exit watcher (exit_watcher.ts: one poll(2) over pidfds on one helper
// thread) says *that* the process ended, then a waitpid(WNOHANG) reads *how*, and reaps
// it. (The first version blocked in waitpid on a helper thread per process; Deno keeps
// only ~32 such threads, so a container with many exec processes could run out.)
//
// Why not waitpid(-1) like containerd's reaper? Deno reaps the children it spawns
// itself (the runtime invocations) by their pids; a wait for "any child" would steal
// those statuses. Waiting for each known pid keeps the two apart.
// Mirrors containerd's `pkg/sys/reaper/reaper_unix.go` and the SIGCHLD handling of
// `cmd/containerd-shim-runc-v2/task/service.go` (processExits).

import { Prctl, prctl } from "../linux/capabilities.ts";
import { syscall } from "../linux/libc.ts";
import { sharedExitWatcher } from "./exit_watcher.ts";

/** wait4(2) option: return at once (0) when the child has not changed state. */
const WNOHANG = 1;

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
    await waitForProcessExit(pid);
    const result = syscall("wait4", pid, status, WNOHANG, null); // waitpid(pid, …, WNOHANG)
    if (result === pid) return exitStatusFromWaitStatus(status[0]);
    if (result === 0) {
      // Ended but not waitable yet (its threads are still being torn down): look again.
      await new Promise((resolve) => setTimeout(resolve, 5));
      continue;
    }
    // -1 (ECHILD): not our child. It may become ours if its parent dies (subreaper).
    if (parentPid(pid) === Deno.pid) continue;
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
 * uses it to notice a shim dying. All such waits share one helper thread
 * (exit_watcher.ts), so watching hundreds of shims costs no more threads than one.
 */
export function waitForProcessExit(pid: number): Promise<void> {
  return sharedExitWatcher().watch(pid);
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
