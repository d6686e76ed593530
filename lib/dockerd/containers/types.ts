// What this teaches: the shapes a Docker container is made of. `docker run` sends a
// Config (what to run: command, environment, user, tty...) and a HostConfig (how the
// host treats it: restart policy, memory limit, network mode, auto-remove...); dockerd
// keeps both, plus the State it maintains itself, in `containers/<id>/config.v2.json`
// and `hostconfig.json`, and shows all of them in `docker inspect`. Field names are
// the Engine API's, so the JSON on disk and on the wire reads like real Docker's.
// Mirrors moby's api/types/container (config.go, host_config.go), container/state.go
// and the on-disk container.Container.

/** `Config` of a container (api/types/container.Config). */
export interface ContainerConfig {
  Hostname: string;
  Domainname: string;
  User: string;
  AttachStdin: boolean;
  AttachStdout: boolean;
  AttachStderr: boolean;
  ExposedPorts?: Record<string, Record<string, never>> | null;
  Tty: boolean;
  OpenStdin: boolean;
  StdinOnce: boolean;
  Env: string[] | null;
  Cmd: string[] | null;
  Healthcheck?: unknown;
  ArgsEscaped?: boolean;
  /** The image as the user named it ("busybox", "busybox:local", an ID). */
  Image: string;
  Volumes: Record<string, Record<string, never>> | null;
  WorkingDir: string;
  Entrypoint: string[] | null;
  OnBuild: string[] | null;
  Labels: Record<string, string>;
  StopSignal?: string;
  StopTimeout?: number;
}

/** `--restart no|always|unless-stopped|on-failure[:N]`. */
export interface RestartPolicy {
  Name: "" | "no" | "always" | "unless-stopped" | "on-failure";
  MaximumRetryCount: number;
}

/** One host side of a published port (`-p 127.0.0.1:8080:80`). */
export interface PortBinding {
  HostIp: string;
  HostPort: string;
}

/** One resource limit (`--ulimit nofile=1024:2048`). */
export interface UlimitSetting {
  Name: string;
  Soft: number;
  Hard: number;
}

/** `HostConfig` of a container: the subset mini-dockerd acts on, plus whatever else came. */
export interface HostConfig {
  Binds: string[] | null;
  ContainerIDFile: string;
  LogConfig: { Type: string; Config: Record<string, string> };
  NetworkMode: string;
  PortBindings: Record<string, PortBinding[] | null>;
  RestartPolicy: RestartPolicy;
  AutoRemove: boolean;
  VolumeDriver: string;
  VolumesFrom: string[] | null;
  CapAdd: string[] | null;
  CapDrop: string[] | null;
  CgroupnsMode: string;
  Dns: string[];
  DnsOptions: string[];
  DnsSearch: string[];
  ExtraHosts: string[] | null;
  GroupAdd: string[] | null;
  IpcMode: string;
  Cgroup: string;
  Links: string[] | null;
  OomScoreAdj: number;
  PidMode: string;
  Privileged: boolean;
  PublishAllPorts: boolean;
  ReadonlyRootfs: boolean;
  SecurityOpt: string[] | null;
  UTSMode: string;
  UsernsMode: string;
  ShmSize: number;
  Runtime: string;
  ConsoleSize: [number, number];
  Isolation: string;
  CpuShares: number;
  Memory: number;
  NanoCpus: number;
  CgroupParent: string;
  MemoryReservation: number;
  MemorySwap: number;
  MemorySwappiness: number | null;
  OomKillDisable: boolean;
  /** null or 0: no limit (the CLI sends 0 when --pids-limit is not given). */
  PidsLimit: number | null;
  Ulimits: UlimitSetting[] | null;
  MaskedPaths: string[] | null;
  ReadonlyPaths: string[] | null;
  Init?: boolean | null;
  /** Fields mini-dockerd keeps and shows but does not act on. */
  [other: string]: unknown;
}

/** The body of `POST /containers/create`. */
export interface ContainerCreateBody extends Partial<ContainerConfig> {
  HostConfig?: Partial<HostConfig> | null;
  NetworkingConfig?: { EndpointsConfig?: Record<string, unknown> | null } | null;
}

/** How a container ended (moby's container.ExitStatus). */
export interface ExitStatus {
  exitCode: number;
  /** RFC 3339 time of the exit. */
  exitedAt: string;
  oomKilled?: boolean;
}

/** The State block of `docker inspect` (and of config.v2.json). */
export interface StateJson {
  Status: ContainerStatus;
  Running: boolean;
  Paused: boolean;
  Restarting: boolean;
  OOMKilled: boolean;
  Dead: boolean;
  Pid: number;
  ExitCode: number;
  Error: string;
  StartedAt: string;
  FinishedAt: string;
  /** Only on disk: a removal that a crash interrupted is finished at the next start. */
  RemovalInProgress?: boolean;
}

/** The states `docker ps --filter status=` knows. */
export type ContainerStatus =
  | "created"
  | "running"
  | "paused"
  | "restarting"
  | "removing"
  | "exited"
  | "dead";

/** `wait?condition=`: what `docker run`, `docker run --rm` and `docker wait` wait for. */
export type WaitCondition = "not-running" | "next-exit" | "removed";

/** The answer of `POST /containers/{id}/wait`. */
export interface WaitResult {
  StatusCode: number;
  Error: { Message: string } | null;
}

/** One entry of NetworkSettings.Networks (moby's network.EndpointSettings). */
export interface EndpointSettings {
  IPAMConfig: null;
  Links: null;
  Aliases: string[] | null;
  NetworkID: string;
  EndpointID: string;
  Gateway: string;
  IPAddress: string;
  IPPrefixLen: number;
  IPv6Gateway: string;
  GlobalIPv6Address: string;
  GlobalIPv6PrefixLen: number;
  MacAddress: string;
  DriverOpts: null;
}

/** The body of `POST /containers/{id}/exec`. */
export interface ExecCreateBody {
  User?: string;
  Privileged?: boolean;
  Tty?: boolean;
  AttachStdin?: boolean;
  AttachStdout?: boolean;
  AttachStderr?: boolean;
  Detach?: boolean;
  DetachKeys?: string;
  Env?: string[] | null;
  WorkingDir?: string;
  Cmd?: string[] | null;
}

/** What a container's bind mount looks like in `docker inspect` (Mounts). */
export interface MountPoint {
  Type: "bind";
  Source: string;
  Destination: string;
  Mode: string;
  RW: boolean;
  Propagation: string;
}
