// What this teaches: what a container gets when nobody asks for anything: new pid, ipc,
// uts, mount and network namespaces; /proc, /dev, /dev/pts, /dev/shm, /dev/mqueue,
// /sys (read-only) and /run; 14 capabilities instead of root's ~41; no new privileges;
// a device cgroup that denies everything; kernel files that leak host data masked;
// and a cgroup named after the namespace and the container (`/default/web`).
// Mirrors containerd's `pkg/oci/spec.go` (populateDefaultUnixSpec, defaultUnixCaps)
// and `pkg/oci/mounts.go` (defaultMounts). Not to be confused with what `runc spec`
// (and `mini-runc spec`, lib/runtime/spec.ts) writes: runc's example bundle, with a
// terminal, `sh`, a read-only root and only three capabilities.

import { ociVersion } from "../runtime/types.ts";
import type { Spec, SpecMount, SpecTarget } from "./types.ts";

/** The PATH a container gets when its image sets none (containerd's DefaultPathEnv). */
export const DEFAULT_PATH_ENV = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** The directory name of the root filesystem inside a bundle. */
export const DEFAULT_ROOTFS_PATH = "rootfs";

/**
 * The capabilities containerd (and Docker) leave a container's root user. Everything
 * else, CAP_SYS_ADMIN first, is dropped from every set.
 */
export const DEFAULT_CAPABILITIES: readonly string[] = [
  "CAP_CHOWN",
  "CAP_DAC_OVERRIDE",
  "CAP_FSETID",
  "CAP_FOWNER",
  "CAP_MKNOD",
  "CAP_NET_RAW",
  "CAP_SETGID",
  "CAP_SETUID",
  "CAP_SETFCAP",
  "CAP_SETPCAP",
  "CAP_NET_BIND_SERVICE",
  "CAP_SYS_CHROOT",
  "CAP_KILL",
  "CAP_AUDIT_WRITE",
];

/** Files under /proc and /sys that would show host information: bind-mounted over with nothing. */
export const DEFAULT_MASKED_PATHS: readonly string[] = [
  "/proc/acpi",
  "/proc/asound",
  "/proc/kcore",
  "/proc/keys",
  "/proc/latency_stats",
  "/proc/timer_list",
  "/proc/timer_stats",
  "/proc/sched_debug",
  "/sys/firmware",
  "/proc/scsi",
];

/** Kernel knobs a container may read but never write. */
export const DEFAULT_READONLY_PATHS: readonly string[] = [
  "/proc/bus",
  "/proc/fs",
  "/proc/irq",
  "/proc/sys",
  "/proc/sysrq-trigger",
];

/** The namespaces a container gets by default (a `path` would join an existing one). */
export const DEFAULT_NAMESPACES: readonly string[] = ["pid", "ipc", "uts", "mount", "network"];

/**
 * /dev with its pseudo-filesystems (pts, shm, mqueue) and a read-only /sys: the mounts
 * containerd's default and runc's example bundle (`mini-runc spec`) have in common.
 */
export function deviceAndSysMounts(): SpecMount[] {
  return [
    {
      destination: "/dev",
      type: "tmpfs",
      source: "tmpfs",
      options: ["nosuid", "strictatime", "mode=755", "size=65536k"],
    },
    {
      destination: "/dev/pts",
      type: "devpts",
      source: "devpts",
      options: ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"],
    },
    {
      destination: "/dev/shm",
      type: "tmpfs",
      source: "shm",
      options: ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"],
    },
    {
      destination: "/dev/mqueue",
      type: "mqueue",
      source: "mqueue",
      options: ["nosuid", "noexec", "nodev"],
    },
    {
      destination: "/sys",
      type: "sysfs",
      source: "sysfs",
      options: ["nosuid", "noexec", "nodev", "ro"],
    },
  ];
}

/** The filesystems every container sees, in mount order. */
export function defaultMounts(): SpecMount[] {
  return [
    { destination: "/proc", type: "proc", source: "proc", options: ["nosuid", "noexec", "nodev"] },
    ...deviceAndSysMounts(),
    {
      destination: "/run",
      type: "tmpfs",
      source: "tmpfs",
      options: ["nosuid", "strictatime", "mode=755", "size=65536k"],
    },
  ];
}

/**
 * The spec a container starts from before any option is applied. The process has no
 * arguments yet: an image config (withImageConfig) or the user (withProcessArgs) gives them.
 */
export function defaultSpec(target: SpecTarget): Spec {
  const capabilities = [...DEFAULT_CAPABILITIES];
  return {
    ociVersion,
    root: { path: DEFAULT_ROOTFS_PATH },
    process: {
      terminal: false,
      user: { uid: 0, gid: 0 },
      args: [],
      env: [DEFAULT_PATH_ENV],
      cwd: "/",
      capabilities: {
        bounding: [...capabilities],
        effective: [...capabilities],
        permitted: [...capabilities],
      },
      rlimits: [{ type: "RLIMIT_NOFILE", hard: 1024, soft: 1024 }],
      noNewPrivileges: true,
    },
    mounts: defaultMounts(),
    linux: {
      maskedPaths: [...DEFAULT_MASKED_PATHS],
      readonlyPaths: [...DEFAULT_READONLY_PATHS],
      // containerd's default cgroup: one level per namespace, then the container.
      cgroupsPath: `/${target.namespace}/${target.id}`,
      resources: { devices: [{ allow: false, access: "rwm" }] },
      namespaces: DEFAULT_NAMESPACES.map((type) => ({ type })),
    },
  };
}
