// What this teaches: a namespace is a per-thread view of one kernel resource (mounts,
// hostname, IPC, network, PIDs, cgroups). unshare(2) gives the calling thread a fresh
// one; setns(2) moves it into an existing one, named by a file under /proc/<pid>/ns/.
// Mirrors runc's libcontainer/configs/namespaces_linux.go and nsenter's use of setns.

import { check } from "./errors.ts";
import { closeFile, openFile, OpenFlags } from "./files.ts";
import { syscall } from "./libc.ts";

/** clone(2)/unshare(2) namespace flags. */
export const CloneFlags = {
  NEWNS: 0x00020000,
  NEWCGROUP: 0x02000000,
  NEWUTS: 0x04000000,
  NEWIPC: 0x08000000,
  NEWUSER: 0x10000000,
  NEWPID: 0x20000000,
  NEWNET: 0x40000000,
  NEWTIME: 0x00000080,
  /** Not a namespace: unshares the filesystem root/cwd (needed before setns(mnt)). */
  FS: 0x00000200,
} as const;

/** The OCI runtime spec's namespace type names. */
export type NamespaceType =
  | "pid"
  | "network"
  | "mount"
  | "ipc"
  | "uts"
  | "user"
  | "cgroup"
  | "time";

/** For each OCI namespace type: its clone flag and its file name under /proc/<pid>/ns. */
export const namespaceKinds: Record<NamespaceType, { flag: number; procName: string }> = {
  pid: { flag: CloneFlags.NEWPID, procName: "pid" },
  network: { flag: CloneFlags.NEWNET, procName: "net" },
  mount: { flag: CloneFlags.NEWNS, procName: "mnt" },
  ipc: { flag: CloneFlags.NEWIPC, procName: "ipc" },
  uts: { flag: CloneFlags.NEWUTS, procName: "uts" },
  user: { flag: CloneFlags.NEWUSER, procName: "user" },
  cgroup: { flag: CloneFlags.NEWCGROUP, procName: "cgroup" },
  time: { flag: CloneFlags.NEWTIME, procName: "time" },
};

/** True when `type` is one of the OCI namespace type names. */
export function isNamespaceType(type: string): type is NamespaceType {
  return Object.hasOwn(namespaceKinds, type);
}

/** unshare(2): gives the calling thread new namespaces for the CloneFlags in `flags`. */
export function unshare(flags: number): void {
  check(syscall("unshare", flags), "unshare", () => `0x${flags.toString(16)}`);
}

/**
 * setns(2): moves the calling thread into the namespace open at `fd` (`flags` = the
 * namespace's CloneFlags, or 0 to accept any type). For the PID namespace only the
 * thread's future children enter it.
 */
export function setns(fd: number, flags = 0): void {
  check(syscall("setns", fd, flags), "setns", () => `fd ${fd} 0x${flags.toString(16)}`);
}

/** The identity of a namespace ("pid:[4026531836]"), for comparing two processes. */
export function namespaceId(pid: number | "self", type: NamespaceType): string {
  return Deno.readLinkSync(`/proc/${pid}/ns/${namespaceKinds[type].procName}`);
}

/** Opens a namespace file (close-on-exec) for setns: `/proc/<pid>/ns/<name>` or any path. */
export function openNamespace(pathOrPid: string | number | "self", type?: NamespaceType): number {
  const path = typeof pathOrPid === "number" || pathOrPid === "self"
    ? `/proc/${pathOrPid}/ns/${namespaceKinds[type ?? "mount"].procName}`
    : pathOrPid;
  return openFile(path, OpenFlags.RDONLY | OpenFlags.CLOEXEC);
}

/** Joins the namespace at `path` (a /proc/<pid>/ns/* file or a bind mount of one). */
export function joinNamespace(path: string, type: NamespaceType): void {
  const fd = openNamespace(path);
  try {
    setns(fd, namespaceKinds[type].flag);
  } finally {
    closeFile(fd);
  }
}
