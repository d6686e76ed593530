// What this teaches: the contracts of an OCI runtime. `Spec` is the bundle's config.json
// (opencontainers/runtime-spec config.md, config-linux.md); `OciState` is what `state`
// prints (runtime-spec runtime.md); `ContainerRecord` is what the runtime keeps on disk
// between invocations (runc's state.json under --root); `InitConfig` is what the runtime
// hands its init process. Mirrors runtime-spec specs-go/config.go and state.go, and runc's
// libcontainer/configs (reduced to the fields mini-runc honours).

/** The runtime-spec version mini-runc writes and reports. */
export const ociVersion = "1.0.2-dev";

/** OCI `process.user`. */
export interface User {
  uid: number;
  gid: number;
  umask?: number;
  additionalGids?: number[];
  username?: string;
}

/** OCI `process.capabilities`: capability names per set ("CAP_KILL"). */
export interface Capabilities {
  bounding?: string[];
  effective?: string[];
  inheritable?: string[];
  permitted?: string[];
  ambient?: string[];
}

/** OCI `process.rlimits[]`. */
export interface Rlimit {
  type: string;
  hard: number;
  soft: number;
}

/** OCI `process.consoleSize`. */
export interface ConsoleSize {
  height: number;
  width: number;
}

/** OCI `process`: what to run and with which identity and privileges. */
export interface Process {
  terminal?: boolean;
  consoleSize?: ConsoleSize;
  user: User;
  args: string[];
  env?: string[];
  cwd: string;
  capabilities?: Capabilities;
  rlimits?: Rlimit[];
  noNewPrivileges?: boolean;
  apparmorProfile?: string;
  oomScoreAdj?: number;
  selinuxLabel?: string;
}

/** OCI `root`. */
export interface Root {
  path: string;
  readonly?: boolean;
}

/** OCI `mounts[]`. */
export interface Mount {
  destination: string;
  type?: string;
  source?: string;
  options?: string[];
}

/** OCI hook: an executable run by the runtime with the container state on stdin. */
export interface Hook {
  path: string;
  args?: string[];
  env?: string[];
  timeout?: number;
}

/** OCI `hooks`. */
export interface Hooks {
  prestart?: Hook[];
  createRuntime?: Hook[];
  createContainer?: Hook[];
  startContainer?: Hook[];
  poststart?: Hook[];
  poststop?: Hook[];
}

/** OCI `linux.namespaces[]`: a new namespace, or an existing one when `path` is set. */
export interface LinuxNamespace {
  type: string;
  path?: string;
}

/** OCI `linux.devices[]`: a device node to create in the container's /dev. */
export interface LinuxDevice {
  path: string;
  type: string;
  major?: number;
  minor?: number;
  fileMode?: number;
  uid?: number;
  gid?: number;
}

/** OCI `linux.resources.devices[]`: a device cgroup rule. */
export interface LinuxDeviceCgroup {
  allow: boolean;
  type?: string;
  major?: number | null;
  minor?: number | null;
  access?: string;
}

/** OCI `linux.resources.memory` (bytes; -1 means unlimited). */
export interface LinuxMemory {
  limit?: number;
  reservation?: number;
  /** Memory plus swap, as in cgroup v1's memory.memsw.limit_in_bytes. */
  swap?: number;
  kernel?: number;
  swappiness?: number;
  disableOOMKiller?: boolean;
}

/** OCI `linux.resources.cpu`. */
export interface LinuxCpu {
  shares?: number;
  quota?: number;
  period?: number;
  realtimeRuntime?: number;
  realtimePeriod?: number;
  cpus?: string;
  mems?: string;
}

/** OCI `linux.resources`. */
export interface LinuxResources {
  devices?: LinuxDeviceCgroup[];
  memory?: LinuxMemory;
  cpu?: LinuxCpu;
  pids?: { limit: number };
  blockIO?: unknown;
  hugepageLimits?: unknown[];
  network?: unknown;
  unified?: Record<string, string>;
}

/** OCI `linux`. */
export interface Linux {
  namespaces?: LinuxNamespace[];
  uidMappings?: unknown[];
  gidMappings?: unknown[];
  devices?: LinuxDevice[];
  cgroupsPath?: string;
  resources?: LinuxResources;
  rootfsPropagation?: string;
  maskedPaths?: string[];
  readonlyPaths?: string[];
  sysctl?: Record<string, string>;
  seccomp?: unknown;
  mountLabel?: string;
}

/** An OCI bundle's config.json (the parts mini-runc reads). */
export interface Spec {
  ociVersion: string;
  process?: Process;
  root?: Root;
  hostname?: string;
  domainname?: string;
  mounts?: Mount[];
  hooks?: Hooks;
  annotations?: Record<string, string>;
  linux?: Linux;
}

/** Lifecycle states from the runtime spec (plus runc's "paused"). */
export type ContainerStatus = "creating" | "created" | "running" | "stopped" | "paused";

/** The runtime-spec state document `mini-runc state ID` prints (runc adds rootfs/created/owner). */
export interface OciState {
  ociVersion: string;
  id: string;
  status: ContainerStatus;
  pid: number;
  bundle: string;
  rootfs: string;
  created: string;
  owner: string;
  annotations?: Record<string, string>;
}

/** Where a container's cgroup lives: one directory (v2) or one per controller (v1). */
export interface CgroupLocation {
  version: 1 | 2;
  /** Controller name → absolute directory ("unified" → the v2 directory). */
  paths: Record<string, string>;
  /** Directories mini-runc created (parents first): removed on delete when empty. */
  created: string[];
}

/** What mini-runc keeps in <root>/<id>/state.json between invocations. */
export interface ContainerRecord {
  id: string;
  bundle: string;
  rootfs: string;
  initPid: number;
  /** Field 22 of /proc/<pid>/stat, to tell our init from a later process reusing the PID. */
  initStartTime: string;
  created: string;
  owner: string;
  cgroup: CgroupLocation;
  /** The namespace types the container got (new or joined), for `exec`. */
  namespaces: string[];
  spec: Spec;
}

/** One step the parent and init agree on over the sync socket (runc's libcontainer/sync.go). */
export type SyncMessage =
  | { type: "config"; config: InitConfig }
  | { type: "go" }
  | { type: "hooks" }
  | { type: "hooks-done" }
  | { type: "ready"; pid: number }
  | { type: "error"; message: string };

/** Everything the init needs, sent by the parent as the first sync message. */
export interface InitConfig {
  /** "create": a new container's init; "exec": an extra process joining a running one. */
  mode: "create" | "exec";
  id: string;
  /** The bundle directory: relative bind-mount sources are resolved against it. */
  bundle: string;
  rootfs: string;
  /** For "exec": the container init's PID, whose namespaces the process joins. */
  containerPid?: number;
  spec: Spec;
  process: Process;
  /** Namespaces to enter ([type, path]) and to create (type with no path). */
  namespaces: LinuxNamespace[];
  /** v1: host cgroup mounts, to recreate /sys/fs/cgroup inside the container. */
  cgroup: CgroupLocation;
  /** The exec FIFO `start` opens; the init waits on it before execve ("create" only). */
  execFifo?: string;
  noPivot: boolean;
  /** Number of extra fds (from 3) passed through to the process (--preserve-fds). */
  preserveFds: number;
  /** Path of a Unix socket to send the terminal's master end to (--console-socket). */
  consoleSocket?: string;
  /** Whether the parent waits for a "hooks" message before pivot_root. */
  runtimeHooks: boolean;
  /** `--trace`: where the init records its steps (lib/trace/init_trace.ts). */
  trace?: import("../trace/types.ts").InitTraceContext;
}
