// What this teaches: what dockerd remembers about one container and where. Everything
// lives in `<data-root>/containers/<id>/`:
//   config.v2.json   the container: ID, name, Config, image ID, State, restart count...
//   hostconfig.json  the HostConfig as the user asked for it
//   hostname, hosts, resolv.conf   bind-mounted over /etc/... inside the container
//   <id>-json.log    its output, one JSON object per line (the json-file log driver)
// The files are rewritten ("checkpointed") after every state change, by writing a
// temporary file and renaming it over the old one, so a daemon killed at any moment
// finds either the old or the new version, never half of one. A restarted daemon
// rebuilds its whole view of the containers from these directories.
// Mirrors moby's container/container.go (Container, FromDisk, CheckpointTo/WriteHostConfig)
// and daemon/container.go (newContainer).

import { join } from "node:path";
import { ContainerState } from "./state.ts";
import type { ContainerConfig, HostConfig, MountPoint, StateJson } from "./types.ts";
import { RestartManager } from "./restart_manager.ts";
import type { Spec } from "../../oci_spec/types.ts";
import type { AttachSession, ProcessStdio } from "./streams.ts";

/** A mutual-exclusion lock for one container's state changes (moby's container.Lock). */
export class ContainerLock {
  #tail: Promise<void> = Promise.resolve();

  /** Runs `work` once every earlier holder finished. */
  async run<T>(work: () => Promise<T>): Promise<T> {
    const previous = this.#tail;
    const done = Promise.withResolvers<void>();
    this.#tail = done.promise;
    await previous;
    try {
      return await work();
    } finally {
      done.resolve();
    }
  }
}

/** The on-disk shape of config.v2.json. */
export interface ContainerDiskJson {
  ID: string;
  Created: string;
  Path: string;
  Args: string[];
  Config: ContainerConfig;
  Image: string;
  State: StateJson;
  Name: string;
  Driver: string;
  OS: string;
  LogPath: string;
  RestartCount: number;
  HasBeenStartedBefore: boolean;
  HasBeenManuallyStopped: boolean;
  HostnamePath: string;
  HostsPath: string;
  ResolvConfPath: string;
  MountPoints: Record<string, MountPoint>;
  [other: string]: unknown;
}

/** One container as the daemon holds it. */
export class Container {
  readonly lock = new ContainerLock();
  state: ContainerState;
  restartManager: RestartManager;
  restartCount: number;
  hasBeenStartedBefore: boolean;
  hasBeenManuallyStopped: boolean;
  /** The OCI spec of the current (or last) run: execs copy its process settings. */
  spec?: Spec;
  /** dockerd's end of the current run's FIFOs (only while someone attaches, or stdin is open). */
  stdio?: ProcessStdio;
  /** Clients attached while the container does not run: they get the next run's output. */
  readonly waitingSessions = new Set<AttachSession>();
  /** The kernel's OOM killer hit the container during the current run. */
  oomKilledThisRun = false;

  constructor(
    readonly id: string,
    /** With the leading slash: "/web". */
    public name: string,
    readonly created: string,
    readonly path: string,
    readonly args: string[],
    public config: ContainerConfig,
    public hostConfig: HostConfig,
    /** The image ID ("sha256:..."). */
    readonly imageId: string,
    /** `<data-root>/containers/<id>`. */
    readonly root: string,
    extra: {
      state?: ContainerState;
      restartCount?: number;
      hasBeenStartedBefore?: boolean;
      hasBeenManuallyStopped?: boolean;
    } = {},
  ) {
    this.state = extra.state ?? new ContainerState();
    this.restartCount = extra.restartCount ?? 0;
    this.hasBeenStartedBefore = extra.hasBeenStartedBefore ?? false;
    this.hasBeenManuallyStopped = extra.hasBeenManuallyStopped ?? false;
    this.restartManager = new RestartManager(hostConfig.RestartPolicy, this.restartCount);
  }

  /** `containers/<id>/<id>-json.log`: the json-file log the shim writes. */
  get logPath(): string {
    return join(this.root, `${this.id}-json.log`);
  }

  get hostnamePath(): string {
    return join(this.root, "hostname");
  }

  get hostsPath(): string {
    return join(this.root, "hosts");
  }

  get resolvConfPath(): string {
    return join(this.root, "resolv.conf");
  }

  /** The name without its slash ("web"). */
  get shortName(): string {
    return this.name.slice(1);
  }

  /** A fresh restart manager for a new start (the old one may be cancelled). */
  resetRestartManager(): void {
    this.restartManager.cancel();
    this.restartManager = new RestartManager(this.hostConfig.RestartPolicy, this.restartCount);
  }

  /** The bind mounts as `docker inspect` shows them. */
  mountPoints(): MountPoint[] {
    return (this.hostConfig.Binds ?? []).map(parseBind).filter((mount): mount is MountPoint =>
      mount !== undefined
    );
  }

  /** config.v2.json's content. */
  toDiskJson(): ContainerDiskJson {
    const mounts: Record<string, MountPoint> = {};
    for (const mount of this.mountPoints()) mounts[mount.Destination] = mount;
    return {
      StreamConfig: {},
      State: this.state.toJson(true),
      ID: this.id,
      Created: this.created,
      Managed: false,
      Path: this.path,
      Args: this.args,
      Config: this.config,
      Image: this.imageId,
      NetworkSettings: null,
      LogPath: this.logPath,
      Name: this.name,
      Driver: "overlay2",
      OS: "linux",
      MountLabel: "",
      ProcessLabel: "",
      RestartCount: this.restartCount,
      HasBeenStartedBefore: this.hasBeenStartedBefore,
      HasBeenManuallyStopped: this.hasBeenManuallyStopped,
      MountPoints: mounts,
      SecretReferences: null,
      ConfigReferences: null,
      AppArmorProfile: "",
      HostnamePath: this.hostnamePath,
      HostsPath: this.hostsPath,
      ShmPath: "",
      ResolvConfPath: this.resolvConfPath,
      SeccompProfile: "",
      NoNewPrivileges: false,
    };
  }

  /** Writes config.v2.json and hostconfig.json atomically (moby's CheckpointTo). */
  async checkpoint(): Promise<void> {
    await writeAtomically(join(this.root, "config.v2.json"), JSON.stringify(this.toDiskJson()));
    await writeAtomically(join(this.root, "hostconfig.json"), JSON.stringify(this.hostConfig));
  }

  /** Reads a container directory back (moby's FromDisk); throws when the files are unusable. */
  static async fromDisk(root: string): Promise<Container> {
    const json = JSON.parse(
      await Deno.readTextFile(join(root, "config.v2.json")),
    ) as ContainerDiskJson;
    const hostConfig = JSON.parse(
      await Deno.readTextFile(join(root, "hostconfig.json")),
    ) as HostConfig;
    if (typeof json.ID !== "string" || !/^[a-f0-9]{64}$/.test(json.ID)) {
      throw new Error(`${root}/config.v2.json has no valid ID`);
    }
    return new Container(
      json.ID,
      json.Name,
      json.Created,
      json.Path,
      json.Args ?? [],
      json.Config,
      hostConfig,
      json.Image,
      root,
      {
        state: ContainerState.fromJson(json.State),
        restartCount: json.RestartCount ?? 0,
        hasBeenStartedBefore: json.HasBeenStartedBefore ?? false,
        hasBeenManuallyStopped: json.HasBeenManuallyStopped ?? false,
      },
    );
  }
}

/** Parses `-v /host:/container[:ro]` (host paths only; named volumes are refused at create). */
export function parseBind(bind: string): MountPoint | undefined {
  const parts = bind.split(":");
  if (parts.length < 2 || parts.length > 3) return undefined;
  const [source, destination, mode = ""] = parts;
  const readOnly = mode.split(",").includes("ro");
  return {
    Type: "bind",
    Source: source,
    Destination: destination,
    Mode: mode,
    RW: !readOnly,
    Propagation: "rprivate",
  };
}

/** Writes a file by writing a temporary file beside it and renaming it into place. */
export async function writeAtomically(path: string, text: string): Promise<void> {
  const temporary = `${path}.tmp-${crypto.randomUUID().slice(0, 8)}`;
  await Deno.writeTextFile(temporary, text, { mode: 0o600 });
  await Deno.rename(temporary, path);
}
