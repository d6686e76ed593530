// What this teaches: root's power is split into ~41 capabilities, held in five sets per
// process. A container keeps a short list (Docker's default is 14): the bounding set caps
// what any later execve can ever regain, capset(2) sets effective/permitted/inheritable,
// prctl(PR_CAP_AMBIENT) lets non-root commands keep some, and no_new_privs stops setuid
// binaries from gaining more. Mirrors runc's libcontainer/capabilities/capabilities.go.

import { check } from "./errors.ts";
import { syscall } from "./libc.ts";

/** Capability names in kernel order: the index is the capability number. */
export const capabilityNames = [
  "CAP_CHOWN",
  "CAP_DAC_OVERRIDE",
  "CAP_DAC_READ_SEARCH",
  "CAP_FOWNER",
  "CAP_FSETID",
  "CAP_KILL",
  "CAP_SETGID",
  "CAP_SETUID",
  "CAP_SETPCAP",
  "CAP_LINUX_IMMUTABLE",
  "CAP_NET_BIND_SERVICE",
  "CAP_NET_BROADCAST",
  "CAP_NET_ADMIN",
  "CAP_NET_RAW",
  "CAP_IPC_LOCK",
  "CAP_IPC_OWNER",
  "CAP_SYS_MODULE",
  "CAP_SYS_RAWIO",
  "CAP_SYS_CHROOT",
  "CAP_SYS_PTRACE",
  "CAP_SYS_PACCT",
  "CAP_SYS_ADMIN",
  "CAP_SYS_BOOT",
  "CAP_SYS_NICE",
  "CAP_SYS_RESOURCE",
  "CAP_SYS_TIME",
  "CAP_SYS_TTY_CONFIG",
  "CAP_MKNOD",
  "CAP_LEASE",
  "CAP_AUDIT_WRITE",
  "CAP_AUDIT_CONTROL",
  "CAP_SETFCAP",
  "CAP_MAC_OVERRIDE",
  "CAP_MAC_ADMIN",
  "CAP_SYSLOG",
  "CAP_WAKE_ALARM",
  "CAP_BLOCK_SUSPEND",
  "CAP_AUDIT_READ",
  "CAP_PERFMON",
  "CAP_BPF",
  "CAP_CHECKPOINT_RESTORE",
] as const;

/** prctl(2) options used by container inits. */
export const Prctl = {
  SET_PDEATHSIG: 1,
  SET_DUMPABLE: 4,
  SET_KEEPCAPS: 8,
  CAPBSET_READ: 23,
  CAPBSET_DROP: 24,
  SET_CHILD_SUBREAPER: 36,
  SET_NO_NEW_PRIVS: 38,
  GET_NO_NEW_PRIVS: 39,
  CAP_AMBIENT: 47,
} as const;

const PR_CAP_AMBIENT_RAISE = 2n;
const PR_CAP_AMBIENT_CLEAR_ALL = 4n;

/** prctl(2) with integer arguments. */
export function prctl(option: number, arg2 = 0n, arg3 = 0n, arg4 = 0n, arg5 = 0n): number {
  return check(syscall("prctl", option, arg2, arg3, arg4, arg5), "prctl", () => `option ${option}`);
}

/** The highest capability number this kernel knows (/proc/sys/kernel/cap_last_cap). */
export function lastCapability(): number {
  try {
    return Number(Deno.readTextFileSync("/proc/sys/kernel/cap_last_cap").trim());
  } catch {
    return capabilityNames.length - 1;
  }
}

/** The number of a capability name ("CAP_KILL" → 5), or undefined when unknown. */
export function capabilityNumber(name: string): number | undefined {
  const index = (capabilityNames as readonly string[]).indexOf(name.toUpperCase());
  return index < 0 ? undefined : index;
}

/** A 64-bit mask with one bit per capability number, as /proc/<pid>/status prints it. */
export function capabilityMask(numbers: Iterable<number>): bigint {
  let mask = 0n;
  for (const number of numbers) mask |= 1n << BigInt(number);
  return mask;
}

/** Removes from the bounding set every capability (up to `last`) not in `keep`. */
export function dropBoundingSet(keep: ReadonlySet<number>, last = lastCapability()): void {
  for (let number = 0; number <= last; number++) {
    if (!keep.has(number)) prctl(Prctl.CAPBSET_DROP, BigInt(number));
  }
}

/** The three capset(2) sets, as capability numbers. */
export interface CapabilitySets {
  effective: ReadonlySet<number>;
  permitted: ReadonlySet<number>;
  inheritable: ReadonlySet<number>;
}

const LINUX_CAPABILITY_VERSION_3 = 0x20080522;

/** capset(2) for the calling thread (version 3: two 32-bit words per set). */
export function setCapabilities(sets: CapabilitySets): void {
  const header = new Uint32Array([LINUX_CAPABILITY_VERSION_3, 0]);
  const data = new Uint32Array(6); // [effective, permitted, inheritable] x 2 words
  const fill = (set: ReadonlySet<number>, offset: number) => {
    for (const number of set) data[offset + (number >> 5) * 3] |= 1 << (number & 31);
  };
  fill(sets.effective, 0);
  fill(sets.permitted, 1);
  fill(sets.inheritable, 2);
  check(syscall("capset", header, data), "capset");
}

/**
 * Replaces the ambient set with `ambient`. A capability can only be ambient when it is
 * also permitted and inheritable; the others are skipped (as runc does, with a warning)
 * and returned.
 */
export function setAmbientCapabilities(ambient: ReadonlySet<number>): number[] {
  prctl(Prctl.CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL);
  const skipped: number[] = [];
  for (const number of ambient) {
    if (syscall("prctl", Prctl.CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, number, 0, 0) < 0) {
      skipped.push(number);
    }
  }
  return skipped;
}

/** prctl(PR_SET_NO_NEW_PRIVS): execve can no longer grant privileges (setuid bits, file caps). */
export function setNoNewPrivileges(): void {
  prctl(Prctl.SET_NO_NEW_PRIVS, 1n);
}

/** prctl(PR_SET_KEEPCAPS): keep permitted capabilities across a change away from uid 0. */
export function setKeepCapabilities(keep: boolean): void {
  prctl(Prctl.SET_KEEPCAPS, keep ? 1n : 0n);
}
