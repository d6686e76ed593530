// What this teaches: how a directory becomes a container's whole filesystem. Inside its
// own mount namespace the init stops mount events from leaking back to the host, makes
// the rootfs a mount point, mounts /proc, /sys, /dev and the spec's mounts beneath it,
// swaps it in as "/" with pivot_root and detaches the old root. Then it hides (masks)
// and write-protects the kernel files a container must not touch.
// Mirrors runc's libcontainer/rootfs_linux.go (prepareRootfs, mountToRootfs, pivotRoot,
// msMoveRoot, maskPath, readonlyPath, finalizeRootfs).

import { chdir, chroot, fchdir } from "../../linux/identity.ts";
import { closeFile, openFile, OpenFlags } from "../../linux/files.ts";
import { Errno, LinuxError } from "../../linux/errors.ts";
import { mount, MountFlags, pivotRoot, unmount, UnmountFlags } from "../../linux/mount.ts";
import { initTrace } from "../../trace/init_trace.ts";
import { parseMountOptions, propagationOptions } from "../../linux/mount_options.ts";
import { readMountInfo } from "../../linux/mountinfo.ts";
import type { InitConfig, Mount } from "../types.ts";
import { createDevices, setupDevSymlinks, setupPtmx } from "./devices.ts";
import { resolveInRoot } from "./secure_join.ts";

/** A remount to do once everything below a mount point has been written. */
interface DeferredRemount {
  target: string;
  flags: number;
}

function dirname(path: string): string {
  return path.slice(0, path.lastIndexOf("/")) || "/";
}

function isBindMount(entry: Mount): boolean {
  return entry.type === "bind" ||
    (entry.options ?? []).some((option) => option === "bind" || option === "rbind");
}

/** Creates the mount point: a directory, or an empty file when binding a file. */
function createMountPoint(target: string, asFile: boolean): void {
  if (!asFile) {
    Deno.mkdirSync(target, { recursive: true, mode: 0o755 });
    return;
  }
  Deno.mkdirSync(dirname(target), { recursive: true, mode: 0o755 });
  try {
    Deno.lstatSync(target);
  } catch {
    Deno.writeFileSync(target, new Uint8Array(), { mode: 0o644 });
  }
}

function applyPropagation(target: string, propagation: number[]): void {
  for (const flags of propagation) mount(null, target, null, flags);
}

const remountableFlags = MountFlags.RDONLY | MountFlags.NOSUID | MountFlags.NODEV |
  MountFlags.NOEXEC | MountFlags.NOATIME | MountFlags.NODIRATIME | MountFlags.RELATIME |
  MountFlags.STRICTATIME | MountFlags.NOSYMFOLLOW;

function mountBind(config: InitConfig, entry: Mount, target: string): void {
  const source = (entry.source ?? "").startsWith("/")
    ? entry.source!
    : `${config.bundle}/${entry.source ?? ""}`;
  let sourceInfo: Deno.FileInfo;
  try {
    sourceInfo = Deno.statSync(source);
  } catch {
    throw new Error(
      `mount ${entry.destination}: bind source ${source} does not exist; create it or fix the spec`,
    );
  }
  createMountPoint(target, !sourceInfo.isDirectory);
  const options = parseMountOptions(entry.options);
  mount(source, target, "bind", MountFlags.BIND | (options.flags & MountFlags.REC));
  // A bind mount ignores ro/nosuid/...: they only take effect on a remount of it.
  const extra = options.flags & remountableFlags;
  if (extra !== 0) mount(null, target, null, extra | MountFlags.BIND | MountFlags.REMOUNT);
  applyPropagation(target, options.propagation);
}

/** Host cgroup v1 hierarchies (fstype "cgroup") and a hybrid cgroup2 ("unified"), if any. */
function hostCgroupMounts() {
  return readMountInfo().filter((entry) => entry.fstype === "cgroup");
}

function mountCgroup(config: InitConfig, entry: Mount, target: string): DeferredRemount[] {
  const options = parseMountOptions(entry.options);
  const flags = options.flags & ~MountFlags.RDONLY;
  const ownNamespace = config.namespaces.some((namespace) => namespace.type === "cgroup");
  Deno.mkdirSync(target, { recursive: true, mode: 0o755 });
  if (config.cgroup.version === 2) {
    if (ownNamespace) mount("cgroup2", target, "cgroup2", options.flags);
    else {
      mount(config.cgroup.paths.unified, target, "bind", MountFlags.BIND);
      mount(null, target, null, options.flags | MountFlags.BIND | MountFlags.REMOUNT);
    }
    return [];
  }
  // cgroup v1: a tmpfs holding one directory per hierarchy.
  mount("tmpfs", target, "tmpfs", flags, "mode=755");
  for (const hierarchy of hostCgroupMounts()) {
    const name = hierarchy.mountPoint.slice(hierarchy.mountPoint.lastIndexOf("/") + 1);
    const controllers = name.split(",");
    const directory = `${target}/${name}`;
    if (ownNamespace) {
      const data = hierarchy.superOptions.split(",").filter((o) => o !== "rw" && o !== "ro");
      Deno.mkdirSync(directory);
      mount("cgroup", directory, "cgroup", options.flags, data.join(","));
    } else {
      const hostPath = controllers.map((controller) => config.cgroup.paths[controller])
        .find((path) => path !== undefined);
      if (hostPath === undefined) continue;
      Deno.mkdirSync(directory);
      mount(hostPath, directory, "bind", MountFlags.BIND);
      mount(null, directory, null, options.flags | MountFlags.BIND | MountFlags.REMOUNT);
    }
    if (controllers.length > 1) {
      for (const controller of controllers) Deno.symlinkSync(name, `${target}/${controller}`);
    }
  }
  return options.flags & MountFlags.RDONLY
    ? [{ target, flags: options.flags | MountFlags.REMOUNT }]
    : [];
}

/** Mounts one spec entry under the rootfs; returns remounts to do after /dev is filled. */
function mountEntry(config: InitConfig, entry: Mount): DeferredRemount[] {
  if (!entry.destination.startsWith("/")) {
    throw new Error(`mount destination "${entry.destination}" must be an absolute path`);
  }
  const target = resolveInRoot(config.rootfs, entry.destination);
  if (isBindMount(entry)) {
    mountBind(config, entry, target);
    return [];
  }
  const type = entry.type ?? "";
  if (type === "") throw new Error(`mount ${entry.destination}: no type given`);
  if (type === "cgroup") return mountCgroup(config, entry, target);
  const options = parseMountOptions(entry.options);
  createMountPoint(target, false);
  // /dev must stay writable until the device nodes exist; read-only comes afterwards.
  const deferReadOnly = entry.destination === "/dev" && (options.flags & MountFlags.RDONLY) !== 0;
  const flags = deferReadOnly ? options.flags & ~MountFlags.RDONLY : options.flags;
  mount(entry.source ?? type, target, type, flags, options.data.join(",") || null);
  applyPropagation(target, options.propagation);
  return deferReadOnly ? [{ target, flags: options.flags | MountFlags.REMOUNT }] : [];
}

/** The mount point under which `path` lives, from this namespace's mount table. */
function parentMountOf(path: string): string {
  let best = "/";
  for (const entry of readMountInfo()) {
    const point = entry.mountPoint;
    if (
      (path === point || path.startsWith(point === "/" ? "/" : `${point}/`)) &&
      point.length > best.length
    ) best = point;
  }
  return best;
}

/** pivot_root(".", ".") as in the man page: stack the old root under the new, then drop it. */
function pivotIntoRootfs(rootfs: string): void {
  const oldRoot = openFile("/", OpenFlags.DIRECTORY | OpenFlags.RDONLY | OpenFlags.CLOEXEC);
  const newRoot = openFile(rootfs, OpenFlags.DIRECTORY | OpenFlags.RDONLY | OpenFlags.CLOEXEC);
  try {
    fchdir(newRoot);
    pivotRoot(".", ".");
    fchdir(oldRoot);
    // Make the old root a slave first, so that unmounting it cannot propagate to the host.
    mount(null, ".", null, MountFlags.SLAVE | MountFlags.REC);
    unmount(".", UnmountFlags.DETACH);
    chdir("/");
  } finally {
    closeFile(oldRoot);
    closeFile(newRoot);
  }
}

/** --no-pivot: move the rootfs over "/" and chroot (for ramdisk roots where pivot fails). */
function moveIntoRootfs(rootfs: string): void {
  chdir(rootfs);
  mount(rootfs, "/", null, MountFlags.MOVE);
  chroot(".");
  chdir("/");
}

function maskPath(path: string): void {
  try {
    if (Deno.statSync(path).isDirectory) mount("tmpfs", path, "tmpfs", MountFlags.RDONLY);
    else mount("/dev/null", path, null, MountFlags.BIND);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return;
    if (error instanceof LinuxError && error.errno === Errno.ENOENT) return;
    throw error;
  }
}

function readonlyPath(path: string): void {
  try {
    mount(path, path, null, MountFlags.BIND | MountFlags.REC);
  } catch (error) {
    if (error instanceof LinuxError && error.errno === Errno.ENOENT) return;
    throw error;
  }
  mount(
    null,
    path,
    null,
    MountFlags.BIND | MountFlags.REMOUNT | MountFlags.RDONLY | MountFlags.REC |
      MountFlags.NOSUID | MountFlags.NODEV | MountFlags.NOEXEC,
  );
}

function writeSysctls(sysctl: Record<string, string>): void {
  for (const [key, value] of Object.entries(sysctl)) {
    const path = `/proc/sys/${key.replaceAll(".", "/")}`;
    try {
      Deno.writeTextFileSync(path, value);
    } catch (error) {
      throw new Error(`sysctl ${key}=${value}: cannot write ${path}: ${error}`);
    }
  }
}

/**
 * Builds the container's filesystem and makes it "/". `beforePivot` runs once every
 * mount is in place but the host is still reachable (the runtime's createRuntime hooks).
 */
export function prepareRootfs(config: InitConfig, beforePivot: () => void): void {
  const { spec, rootfs } = config;
  const propagationName = spec.linux?.rootfsPropagation || "rslave";
  const propagation = propagationOptions[propagationName];
  if (propagation === undefined) {
    throw new Error(`linux.rootfsPropagation "${propagationName}" is not a propagation type`);
  }
  // Stop our mounts from reaching the host (and, with slave, still see the host's).
  mount(null, "/", null, MountFlags.REC | propagation);
  // pivot_root refuses a new root whose parent mount is shared.
  if (propagation & MountFlags.SHARED) {
    mount(null, parentMountOf(rootfs), null, MountFlags.PRIVATE);
  }
  mount(rootfs, rootfs, "bind", MountFlags.BIND | MountFlags.REC);
  initTrace()?.step(`mount --make-${propagationName} /; mount --rbind rootfs rootfs`, rootfs); // --trace

  const deferred: DeferredRemount[] = [];
  const mounts = spec.mounts ?? [];
  for (const entry of mounts) deferred.push(...mountEntry(config, entry));
  initTrace()?.step(
    "mounts",
    mounts.map((entry) => `${entry.type ?? "bind"} ${entry.destination}`).join(", "),
  ); // --trace

  const devIsBound = mounts.some((entry) => entry.destination === "/dev" && isBindMount(entry));
  if (!devIsBound) {
    createDevices(rootfs, spec.linux?.devices ?? []);
    setupPtmx(rootfs);
    setupDevSymlinks(rootfs);
  }
  const cwd = resolveInRoot(rootfs, config.process.cwd);
  Deno.mkdirSync(cwd, { recursive: true, mode: 0o755 });

  beforePivot();

  if (config.noPivot) moveIntoRootfs(rootfs);
  else pivotIntoRootfs(rootfs);
  initTrace()?.step(
    config.noPivot ? "mount --move rootfs /; chroot" : "pivot_root . . ; umount -l old root",
    rootfs,
  ); // --trace

  writeSysctls(spec.linux?.sysctl ?? {});
  for (const path of spec.linux?.readonlyPaths ?? []) readonlyPath(path);
  for (const path of spec.linux?.maskedPaths ?? []) maskPath(path);
  for (const remount of deferred) {
    mount(null, remount.target.slice(rootfs.length) || "/", null, remount.flags);
  }
  if (spec.root?.readonly) {
    mount(null, "/", null, MountFlags.BIND | MountFlags.REMOUNT | MountFlags.RDONLY);
  }
  initTrace()?.step(
    "sysctls, readonly and masked paths",
    `${spec.linux?.maskedPaths?.length ?? 0} masked, ${
      spec.linux?.readonlyPaths?.length ?? 0
    } read-only`,
  ); // --trace
}
