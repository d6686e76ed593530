// What this teaches: signal numbers and names, and why a container init must reset every
// signal disposition before execve. Ignored signals survive execve (Deno ignores SIGPIPE,
// and its children inherit more), so without a reset the container's command would
// silently ignore them. Mirrors runc's signal tables (golang.org/x/sys/unix SignalNum)
// and the "reset signals" step of libcontainer's init.

import { check } from "./errors.ts";
import { syscall } from "./libc.ts";

/** x86_64 signal numbers by name (without the SIG prefix). */
export const signalNumbers: Record<string, number> = {
  HUP: 1,
  INT: 2,
  QUIT: 3,
  ILL: 4,
  TRAP: 5,
  ABRT: 6,
  IOT: 6,
  BUS: 7,
  FPE: 8,
  KILL: 9,
  USR1: 10,
  SEGV: 11,
  USR2: 12,
  PIPE: 13,
  ALRM: 14,
  TERM: 15,
  STKFLT: 16,
  CHLD: 17,
  CONT: 18,
  STOP: 19,
  TSTP: 20,
  TTIN: 21,
  TTOU: 22,
  URG: 23,
  XCPU: 24,
  XFSZ: 25,
  VTALRM: 26,
  PROF: 27,
  WINCH: 28,
  IO: 29,
  POLL: 29,
  PWR: 30,
  SYS: 31,
};

const SIGRTMIN = 34;
const SIGRTMAX = 64;

/**
 * Parses a signal the way `kill` and runc accept it: "9", "KILL", "SIGKILL", "sigterm",
 * "RTMIN+3". Throws a clear error for anything else.
 */
export function parseSignal(text: string): number {
  if (/^\d+$/.test(text)) {
    const number = Number(text);
    if (number >= 1 && number <= SIGRTMAX) return number;
  }
  const name = text.toUpperCase().replace(/^SIG/, "");
  if (name in signalNumbers) return signalNumbers[name];
  const realtime = /^RTM(IN|AX)([+-]\d+)?$/.exec(name);
  if (realtime) {
    const base = realtime[1] === "IN" ? SIGRTMIN : SIGRTMAX;
    const number = base + Number(realtime[2] ?? 0);
    if (number >= SIGRTMIN && number <= SIGRTMAX) return number;
  }
  throw new Error(
    `unknown signal "${text}": use a number (1-64) or a name such as TERM or SIGKILL`,
  );
}

/** The name of a signal number ("SIGTERM"), for messages. */
export function signalName(number: number): string {
  for (const [name, value] of Object.entries(signalNumbers)) {
    if (value === number) return `SIG${name}`;
  }
  return number >= SIGRTMIN ? `SIGRTMIN+${number - SIGRTMIN}` : `signal ${number}`;
}

const SIG_SETMASK = 2;
const SIGSET_BYTES = 8;

/**
 * Resets every signal (1..64 except KILL and STOP) to its default action and unblocks
 * all signals for the calling thread, using the raw system calls: glibc's wrappers refuse
 * the two real-time signals it reserves (32, 33), which Deno's children inherit ignored.
 */
export function resetSignals(): void {
  // struct kernel_sigaction { handler; flags; restorer; mask } with handler = SIG_DFL (0).
  const defaultAction = new BigUint64Array(4);
  for (let signal = 1; signal <= SIGRTMAX; signal++) {
    if (signal === signalNumbers.KILL || signal === signalNumbers.STOP) continue;
    check(
      syscall("rt_sigaction", signal, defaultAction, null, SIGSET_BYTES),
      "rt_sigaction",
      () => `signal ${signal}`,
    );
  }
  const emptySet = new BigUint64Array(1);
  check(syscall("rt_sigprocmask", SIG_SETMASK, emptySet, null, SIGSET_BYTES), "rt_sigprocmask");
}
