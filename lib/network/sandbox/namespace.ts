// What this teaches: a network namespace lives as long as something holds it: a process
// inside it, an open fd, or a bind mount of its /proc/<pid>/ns/net file. `ip netns add
// NAME` creates one with no process at all: unshare(CLONE_NEWNET), then bind-mount the
// new namespace's file onto /run/netns/NAME. The file is the namespace's handle from
// then on: setns(2) into it, give its path to a container runtime (an OCI spec's
// `linux.namespaces: [{type: "network", path}]`) or to a CNI plugin (CNI_NETNS).
// Deleting is unmount + remove; the kernel destroys the namespace (and the veth ends
// inside it) once the last holder is gone.
// Mirrors iproute2's ip/ipnetns.c (netns_add, netns_delete) and containerd's
// pkg/netns/netns_linux.go, which do the same from a dedicated thread.
//
// Here the unshare happens on Deno's main thread (see enter.ts for why that is safe
// when nothing awaits in between): keep an fd to our own namespace, unshare, bind-mount
// /proc/thread-self/ns/net, setns back.

import { LinuxError } from "../../linux/errors.ts";
import { closeFile, openFile, OpenFlags } from "../../linux/files.ts";
import { mount, MountFlags, unmount, UnmountFlags } from "../../linux/mount.ts";
import { readMountInfo } from "../../linux/mountinfo.ts";
import { CloneFlags, unshare } from "../../linux/namespaces.ts";
import { ownNetworkNamespacePath, returnToNamespace } from "./enter.ts";

const EINVAL = 22;
const ENOENT = 2;

/**
 * Creates a new, empty network namespace (only a down `lo`) held by a bind mount at
 * `path`. Throws if `path` already exists.
 */
export function createNetworkNamespace(path: string): void {
  const directory = path.slice(0, path.lastIndexOf("/")) || "/";
  Deno.mkdirSync(directory, { recursive: true });
  // The mount target must exist; O_EXCL makes a second create with the same name fail.
  closeFile(
    openFile(path, OpenFlags.RDONLY | OpenFlags.CREAT | OpenFlags.EXCL | OpenFlags.CLOEXEC, 0o444),
  );
  const original = openFile(ownNetworkNamespacePath, OpenFlags.RDONLY | OpenFlags.CLOEXEC);
  try {
    unshare(CloneFlags.NEWNET);
    try {
      mount(ownNetworkNamespacePath, path, null, MountFlags.BIND);
    } finally {
      returnToNamespace(original);
    }
  } catch (error) {
    Deno.removeSync(path);
    throw error;
  } finally {
    closeFile(original);
  }
}

/**
 * Releases the namespace at `path`: lazy unmount, then remove the file. Missing or
 * already unmounted files are fine (deletion is idempotent, for crash recovery).
 */
export function deleteNetworkNamespace(path: string): void {
  try {
    unmount(path, UnmountFlags.DETACH);
  } catch (error) {
    const errno = error instanceof LinuxError ? error.errno : 0;
    if (errno !== EINVAL && errno !== ENOENT) throw error;
  }
  try {
    Deno.removeSync(path);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
}

/** True when `path` is a mounted namespace file (an nsfs bind mount). */
export function isNetworkNamespaceMounted(path: string): boolean {
  return readMountInfo().some((entry) => entry.mountPoint === path && entry.fstype === "nsfs");
}

/** The namespace files under `directory` (for recovery after a crash). */
export function listNetworkNamespaces(directory: string): string[] {
  try {
    return [...Deno.readDirSync(directory)]
      .filter((entry) => entry.isFile)
      .map((entry) => `${directory}/${entry.name}`)
      .sort();
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return [];
    throw error;
  }
}

/**
 * The identity of the namespace held at `path`: its inode number (4026532281 where
 * `readlink /proc/<pid>/ns/net` says "net:[4026532281]"), for comparisons.
 */
export function namespaceInode(path: string): number {
  return Deno.statSync(path).ino ?? 0;
}
