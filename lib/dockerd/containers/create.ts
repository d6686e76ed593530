// What this teaches: what `docker create` (and the first half of `docker run`) does.
// Nothing runs yet. dockerd checks the request (restart policy, memory floor, network
// mode, name), resolves the image (a 404 "No such image" here is what makes the CLI
// pull and retry), merges the image's config under the user's (the image's ENV, CMD,
// ENTRYPOINT, WORKDIR, USER, STOPSIGNAL fill what the user left empty), picks an ID and
// a name, creates the `<mount-id>-init` layer and the container's own read-write layer
// on the image's top layer, and writes `containers/<id>/config.v2.json`. A failure at
// any step undoes the earlier ones, so a refused create leaves no name, layer or
// directory behind.
// Mirrors moby's daemon/create.go (containerCreate, create), daemon/container.go
// (newContainer, getEntrypointAndArgs, verifyContainerSettings) and
// daemon/commit.go (merge: image config under user config).

import { cgroupVersion } from "../routes/system.ts";
import { badParameter } from "../server/errors.ts";
import type { DockerContainerConfig } from "../image/types.ts";
import { DEFAULT_MASKED_PATHS, DEFAULT_READONLY_PATHS } from "../../oci_spec/defaults.ts";
import { Container, parseBind } from "./container.ts";
import { stripSlash, VALID_NAME_PATTERN } from "./names.ts";
import { saveEndpointRequest } from "./networking.ts";
import { validateRestartPolicy } from "./restart_manager.ts";
import type { ContainerService } from "./service.ts";
import { nowTimestamp } from "./time.ts";
import type { ContainerConfig, ContainerCreateBody, HostConfig, RestartPolicy } from "./types.ts";

/** Docker's floor for `-m`: less cannot even start a container. */
const MINIMUM_MEMORY_BYTES = 6 * 1024 * 1024;

/** The answer of `POST /containers/create`. */
export interface CreateResponse {
  Id: string;
  Warnings: string[];
}

/** A random 64-hex container ID whose short form is not all digits (stringid.GenerateRandomID). */
export function generateContainerId(): string {
  while (true) {
    const bytes = crypto.getRandomValues(new Uint8Array(32));
    const id = [...bytes].map((byte) => byte.toString(16).padStart(2, "0")).join("");
    if (!/^\d+$/.test(id.slice(0, 12))) return id;
  }
}

/** A Config with every field present (the create body may leave any out). */
export function normalizeConfig(body: ContainerCreateBody): ContainerConfig {
  return {
    Hostname: body.Hostname ?? "",
    Domainname: body.Domainname ?? "",
    User: body.User ?? "",
    AttachStdin: body.AttachStdin ?? false,
    AttachStdout: body.AttachStdout ?? false,
    AttachStderr: body.AttachStderr ?? false,
    ...(body.ExposedPorts && Object.keys(body.ExposedPorts).length > 0
      ? { ExposedPorts: body.ExposedPorts }
      : {}),
    Tty: body.Tty ?? false,
    OpenStdin: body.OpenStdin ?? false,
    StdinOnce: body.StdinOnce ?? false,
    Env: body.Env ?? null,
    Cmd: body.Cmd ?? null,
    Image: body.Image ?? "",
    Volumes: body.Volumes && Object.keys(body.Volumes).length > 0 ? body.Volumes : null,
    WorkingDir: body.WorkingDir ?? "",
    Entrypoint: body.Entrypoint ?? null,
    OnBuild: body.OnBuild ?? null,
    Labels: body.Labels ?? {},
    ...(body.StopSignal ? { StopSignal: body.StopSignal } : {}),
    ...(body.StopTimeout !== undefined && body.StopTimeout !== null
      ? { StopTimeout: body.StopTimeout }
      : {}),
  };
}

/** A HostConfig with dockerd's defaults filled in, as `docker inspect` shows it. */
export function normalizeHostConfig(input: Partial<HostConfig> | null | undefined): HostConfig {
  const host = input ?? {};
  const restart: RestartPolicy = {
    Name: host.RestartPolicy?.Name || "no",
    MaximumRetryCount: host.RestartPolicy?.MaximumRetryCount ?? 0,
  };
  const pidsLimit = host.PidsLimit === undefined || host.PidsLimit === null || host.PidsLimit <= 0
    ? null
    : host.PidsLimit;
  return {
    ...host,
    Binds: host.Binds ?? null,
    ContainerIDFile: host.ContainerIDFile ?? "",
    LogConfig: {
      Type: host.LogConfig?.Type || "json-file",
      Config: host.LogConfig?.Config ?? {},
    },
    NetworkMode: host.NetworkMode || "default",
    PortBindings: host.PortBindings ?? {},
    RestartPolicy: restart,
    AutoRemove: host.AutoRemove ?? false,
    VolumeDriver: host.VolumeDriver ?? "",
    VolumesFrom: host.VolumesFrom ?? null,
    CapAdd: host.CapAdd ?? null,
    CapDrop: host.CapDrop ?? null,
    CgroupnsMode: host.CgroupnsMode || (cgroupVersion() === "2" ? "private" : "host"),
    Dns: host.Dns ?? [],
    DnsOptions: host.DnsOptions ?? [],
    DnsSearch: host.DnsSearch ?? [],
    ExtraHosts: host.ExtraHosts ?? null,
    GroupAdd: host.GroupAdd ?? null,
    IpcMode: host.IpcMode || "private",
    Cgroup: host.Cgroup ?? "",
    Links: host.Links ?? null,
    OomScoreAdj: host.OomScoreAdj ?? 0,
    PidMode: host.PidMode ?? "",
    Privileged: host.Privileged ?? false,
    PublishAllPorts: host.PublishAllPorts ?? false,
    ReadonlyRootfs: host.ReadonlyRootfs ?? false,
    SecurityOpt: host.SecurityOpt ?? null,
    UTSMode: host.UTSMode ?? "",
    UsernsMode: host.UsernsMode ?? "",
    ShmSize: host.ShmSize || 64 * 1024 * 1024,
    Runtime: host.Runtime || "runc",
    ConsoleSize: host.ConsoleSize ?? [0, 0],
    Isolation: host.Isolation ?? "",
    CpuShares: host.CpuShares ?? 0,
    Memory: host.Memory ?? 0,
    NanoCpus: host.NanoCpus ?? 0,
    CgroupParent: host.CgroupParent ?? "",
    MemoryReservation: host.MemoryReservation ?? 0,
    MemorySwap: host.MemorySwap ?? 0,
    MemorySwappiness: host.MemorySwappiness === undefined || host.MemorySwappiness === -1
      ? null
      : host.MemorySwappiness,
    OomKillDisable: host.OomKillDisable ?? false,
    PidsLimit: pidsLimit,
    Ulimits: host.Ulimits ?? [],
    MaskedPaths: host.Privileged ? [] : host.MaskedPaths ?? [...DEFAULT_MASKED_PATHS],
    ReadonlyPaths: host.Privileged ? [] : host.ReadonlyPaths ?? [...DEFAULT_READONLY_PATHS],
  };
}

/**
 * Fills what the user left empty from the image's config (moby's merge): USER,
 * WORKDIR, STOPSIGNAL, ENV entries the user did not set, labels under the user's,
 * exposed ports and volumes joined, and ENTRYPOINT/CMD unless the user gave an
 * entrypoint.
 */
export function mergeImageConfig(
  user: ContainerConfig,
  image: DockerContainerConfig | undefined,
): void {
  if (!image) return;
  if (user.User === "") user.User = image.User ?? "";
  const ports = { ...(image.ExposedPorts ?? {}), ...(user.ExposedPorts ?? {}) };
  if (Object.keys(ports).length > 0) user.ExposedPorts = ports;
  if (!user.Env || user.Env.length === 0) {
    user.Env = image.Env ? [...image.Env] : user.Env;
  } else {
    const keys = new Set(user.Env.map((entry) => entry.split("=", 1)[0]));
    for (const entry of image.Env ?? []) {
      if (!keys.has(entry.split("=", 1)[0])) user.Env.push(entry);
    }
  }
  user.Labels = { ...(image.Labels ?? {}), ...user.Labels };
  if (!user.Entrypoint || user.Entrypoint.length === 0) {
    if (!user.Cmd || user.Cmd.length === 0) {
      user.Cmd = image.Cmd ? [...image.Cmd] : user.Cmd;
      if (image.ArgsEscaped) user.ArgsEscaped = true;
    }
    if (user.Entrypoint === null) user.Entrypoint = image.Entrypoint ? [...image.Entrypoint] : null;
  }
  if (user.WorkingDir === "") user.WorkingDir = image.WorkingDir ?? "";
  const volumes = { ...(image.Volumes ?? {}), ...(user.Volumes ?? {}) };
  if (Object.keys(volumes).length > 0) user.Volumes = volumes;
  if (!user.StopSignal && image.StopSignal) user.StopSignal = image.StopSignal;
}

/** Path and Args: the entrypoint followed by the command ([""] as entrypoint means "none"). */
export function entrypointAndArgs(config: ContainerConfig): { path: string; args: string[] } {
  const entrypoint = (config.Entrypoint ?? []).filter((part, index) =>
    !(index === 0 && part === "")
  );
  const command = [...entrypoint, ...(config.Cmd ?? [])];
  return { path: command[0] ?? "", args: command.slice(1) };
}

/** Checks what dockerd refuses at create time; throws 400 with its message. */
export function verifyHostConfig(host: HostConfig): void {
  const restartProblem = validateRestartPolicy(host.RestartPolicy);
  if (restartProblem) throw badParameter(restartProblem);
  if (host.AutoRemove && host.RestartPolicy.Name !== "no" && host.RestartPolicy.Name !== "") {
    throw badParameter("can't create 'AutoRemove' container with restart policy");
  }
  if (host.Memory > 0 && host.Memory < MINIMUM_MEMORY_BYTES) {
    throw badParameter("Minimum memory limit allowed is 6MB");
  }
  if (host.MemorySwap > 0 && host.Memory > 0 && host.MemorySwap < host.Memory) {
    throw badParameter("Minimum memoryswap limit should be larger than memory limit, see usage");
  }
  if (host.OomScoreAdj < -1000 || host.OomScoreAdj > 1000) {
    throw badParameter(
      `Invalid value ${host.OomScoreAdj}, range for oom score adj is [-1000, 1000]`,
    );
  }
  for (const bind of host.Binds ?? []) {
    const mount = parseBind(bind);
    if (!mount) throw badParameter(`invalid volume specification: '${bind}'`);
    if (!mount.Source.startsWith("/")) {
      throw badParameter(
        `invalid volume specification: '${bind}': named volumes are not supported by ` +
          "mini-dockerd, use an absolute host path (-v /host/dir:/container/dir)",
      );
    }
    if (!mount.Destination.startsWith("/")) {
      throw badParameter(
        `invalid mount config for type "bind": invalid mount path: '${mount.Destination}' mount path must be absolute`,
      );
    }
  }
}

/** `POST /containers/create?name=`: creates a container from an image. */
export async function createContainer(
  service: ContainerService,
  requestedName: string | undefined,
  body: ContainerCreateBody,
): Promise<CreateResponse> {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw badParameter("Config cannot be empty in order to create a container");
  }
  const daemon = service.daemon;
  const config = normalizeConfig(body);
  if (config.Image === "") throw badParameter("No image was specified: set Image in the request");
  const hostConfig = normalizeHostConfig(body.HostConfig);
  verifyHostConfig(hostConfig);
  if (requestedName !== undefined && requestedName !== "") {
    if (!VALID_NAME_PATTERN.test(stripSlash(requestedName))) {
      throw badParameter(
        `Invalid container name (${requestedName}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`,
      );
    }
  }

  const image = daemon.images.get(config.Image);
  mergeImageConfig(config, image.config.config);
  const { path, args } = entrypointAndArgs(config);
  if (path === "") throw badParameter("No command specified");
  if (config.WorkingDir !== "" && !config.WorkingDir.startsWith("/")) {
    throw badParameter(
      `the working directory '${config.WorkingDir}' is invalid, it needs to be an absolute path`,
    );
  }

  const id = generateContainerId();
  const name = requestedName
    ? service.store.reserveName(requestedName, id)
    : service.store.generateName(id);
  const root = service.containerRoot(id);
  let layerCreated = false;
  try {
    if (config.Hostname === "") {
      config.Hostname = hostConfig.NetworkMode === "host" ? Deno.hostname() : id.slice(0, 12);
    }
    await Deno.mkdir(root, { recursive: true, mode: 0o710 });
    await daemon.layers.createContainerLayer(id, image.topLayer);
    layerCreated = true;
    const container = new Container(
      id,
      name,
      nowTimestamp(),
      path,
      args,
      config,
      hostConfig,
      image.id,
      root,
    );
    await container.checkpoint();
    await saveEndpointRequest(container, body.NetworkingConfig);
    service.store.add(container);
    service.log.debug("container created", { container: id, name });
    return { Id: id, Warnings: [] };
  } catch (error) {
    service.store.releaseName(name, id);
    if (layerCreated) await daemon.layers.removeContainerLayer(id).catch(() => {});
    await Deno.remove(root, { recursive: true }).catch(() => {});
    throw error;
  }
}
