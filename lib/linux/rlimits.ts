// What this teaches: resource limits (open files, processes, core size...) are per-process
// soft/hard pairs inherited across fork and execve; the runtime sets them in the init so
// the container's command starts with them. Mirrors runc's setupRlimits (init_linux.go).

import { check } from "./errors.ts";
import { syscall } from "./libc.ts";

/** RLIMIT_* resource numbers by their OCI name. */
export const rlimitNumbers: Record<string, number> = {
  RLIMIT_CPU: 0,
  RLIMIT_FSIZE: 1,
  RLIMIT_DATA: 2,
  RLIMIT_STACK: 3,
  RLIMIT_CORE: 4,
  RLIMIT_RSS: 5,
  RLIMIT_NPROC: 6,
  RLIMIT_NOFILE: 7,
  RLIMIT_MEMLOCK: 8,
  RLIMIT_AS: 9,
  RLIMIT_LOCKS: 10,
  RLIMIT_SIGPENDING: 11,
  RLIMIT_MSGQUEUE: 12,
  RLIMIT_NICE: 13,
  RLIMIT_RTPRIO: 14,
  RLIMIT_RTTIME: 15,
};

/** setrlimit for the calling process (prlimit(2) with pid 0). */
export function setResourceLimit(resource: number, soft: bigint, hard: bigint): void {
  const limits = new BigUint64Array([soft, hard]);
  check(
    syscall("prlimit64", 0, resource, limits, null),
    "prlimit",
    () => `resource ${resource} soft ${soft} hard ${hard}`,
  );
}
