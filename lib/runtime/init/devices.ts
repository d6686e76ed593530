// What this teaches: a container's /dev is a fresh tmpfs holding only a few device nodes
// (null, zero, full, random, urandom, tty) plus the ones the spec asks for, a private
// devpts for terminals (/dev/ptmx points into it), and the fd/stdin/stdout/stderr links.
// Mirrors runc's libcontainer/rootfs_linux.go (createDevices, setupPtmx, setupDevSymlinks)
// and the default device list of libcontainer/specconv.

import { FileType, makeDevice, mknod } from "../../linux/files.ts";
import type { LinuxDevice } from "../types.ts";
import { resolveInRoot } from "./secure_join.ts";

/** The devices every container gets, as in runc's specconv.AllowedDevices. */
export const defaultDevices: LinuxDevice[] = [
  { path: "/dev/null", type: "c", major: 1, minor: 3, fileMode: 0o666, uid: 0, gid: 0 },
  { path: "/dev/zero", type: "c", major: 1, minor: 5, fileMode: 0o666, uid: 0, gid: 0 },
  { path: "/dev/full", type: "c", major: 1, minor: 7, fileMode: 0o666, uid: 0, gid: 0 },
  { path: "/dev/tty", type: "c", major: 5, minor: 0, fileMode: 0o666, uid: 0, gid: 0 },
  { path: "/dev/random", type: "c", major: 1, minor: 8, fileMode: 0o666, uid: 0, gid: 0 },
  { path: "/dev/urandom", type: "c", major: 1, minor: 9, fileMode: 0o666, uid: 0, gid: 0 },
];

const typeBits: Record<string, number> = {
  c: FileType.CHARACTER_DEVICE,
  u: FileType.CHARACTER_DEVICE,
  b: FileType.BLOCK_DEVICE,
  p: FileType.FIFO,
};

function dirname(path: string): string {
  return path.slice(0, path.lastIndexOf("/")) || "/";
}

/** Creates one device node inside `rootfs` with its mode and owner. */
export function createDevice(rootfs: string, device: LinuxDevice): void {
  const bits = typeBits[device.type];
  if (bits === undefined) {
    throw new Error(`device ${device.path}: unknown type "${device.type}" (use c, b, u or p)`);
  }
  const path = resolveInRoot(rootfs, device.path);
  Deno.mkdirSync(dirname(path), { recursive: true, mode: 0o755 });
  try {
    Deno.removeSync(path);
  } catch {
    // Nothing there yet.
  }
  const mode = device.fileMode ?? 0o666;
  mknod(path, bits | (mode & 0o7777), makeDevice(device.major ?? 0, device.minor ?? 0));
  Deno.chmodSync(path, mode & 0o7777); // mknod's mode went through the umask
  Deno.chownSync(path, device.uid ?? 0, device.gid ?? 0);
}

/** Creates the default devices and the spec's (the spec wins on the same path). */
export function createDevices(rootfs: string, specDevices: readonly LinuxDevice[]): void {
  const byPath = new Map<string, LinuxDevice>();
  for (const device of [...defaultDevices, ...specDevices]) byPath.set(device.path, device);
  for (const device of byPath.values()) createDevice(rootfs, device);
}

/** /dev/ptmx becomes a link to the container's own devpts instance. */
export function setupPtmx(rootfs: string): void {
  const ptmx = `${rootfs}/dev/ptmx`;
  try {
    Deno.removeSync(ptmx);
  } catch {
    // Not there.
  }
  Deno.symlinkSync("pts/ptmx", ptmx);
}

/** The conventional /dev links into /proc/self/fd. */
export function setupDevSymlinks(rootfs: string): void {
  const links: [string, string][] = [
    ["/proc/self/fd", "fd"],
    ["/proc/self/fd/0", "stdin"],
    ["/proc/self/fd/1", "stdout"],
    ["/proc/self/fd/2", "stderr"],
  ];
  try {
    Deno.statSync("/proc/kcore");
    links.push(["/proc/kcore", "core"]);
  } catch {
    // No kcore on this kernel.
  }
  for (const [target, name] of links) {
    try {
      Deno.symlinkSync(target, `${rootfs}/dev/${name}`);
    } catch (error) {
      if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
    }
  }
}
