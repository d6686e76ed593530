// What this teaches: how `docker run` flags become an OCI runtime spec. dockerd starts
// from the same default spec containerd uses (namespaces, default mounts, 14
// capabilities, masked /proc paths) and applies the container: root.path is the
// overlay2 MergedDir dockerd mounted itself (so containerd gets no snapshot, just a
// path), the process is Entrypoint+Cmd with the environment Docker adds (PATH,
// HOSTNAME, TERM with a tty), the user is looked up in the *container's* /etc/passwd,
// /etc/hostname, /etc/hosts and /etc/resolv.conf are bind-mounted from the container's
// directory, `-m` and `--pids-limit` become cgroup limits under /docker/<id>, and
// `--network host` simply removes the network namespace from the list.
// Mirrors moby's daemon/oci_linux.go (createSpec and its WithNamespaces, WithMounts,
// WithResources, WithUser, WithCapabilities, WithRlimits options) and
// daemon/oci_utils.go / container/container.go (CreateDaemonEnvironment).

import { join } from "node:path";
import { capabilityNames } from "../../linux/capabilities.ts";
import { DEFAULT_PATH_ENV } from "../../oci_spec/defaults.ts";
import {
  generateSpec,
  withHostNamespace,
  withMemoryLimit,
  withPidsLimit,
  withUserFromFiles,
} from "../../oci_spec/options.ts";
import type { Rlimit, Spec, SpecMount } from "../../oci_spec/types.ts";
import { badParameter } from "../server/errors.ts";
import type { Container } from "./container.ts";
import type { ContainerConfig, UlimitSetting } from "./types.ts";

/** What the spec needs besides the container. */
export interface SpecContext {
  /** The mounted root filesystem (the layer's MergedDir). */
  rootfs: string;
  /** daemon.json `default-ulimits`. */
  defaultUlimits: Record<string, UlimitSetting>;
  /** The init pid of the container whose namespaces `container:<id>` modes join. */
  namespaceOwnerPid?: (reference: string) => number;
}

/** The environment Docker gives a container: PATH if unset, HOSTNAME, TERM with a tty, then Config.Env. */
export function containerEnvironment(config: ContainerConfig, tty = config.Tty): string[] {
  const env: string[] = [];
  const userEnv = config.Env ?? [];
  if (!userEnv.some((entry) => entry.startsWith("PATH="))) env.push(DEFAULT_PATH_ENV);
  env.push(`HOSTNAME=${config.Hostname}`);
  if (tty) env.push("TERM=xterm");
  return replaceOrAppend(env, userEnv);
}

/** Adds `entries` to `base`, replacing a variable of the same name (moby's ReplaceOrAppendEnvValues). */
export function replaceOrAppend(base: string[], entries: readonly string[]): string[] {
  const result = [...base];
  for (const entry of entries) {
    const key = entry.split("=", 1)[0];
    const index = result.findIndex((existing) => existing.split("=", 1)[0] === key);
    if (!entry.includes("=")) {
      if (index >= 0) result.splice(index, 1);
    } else if (index >= 0) result[index] = entry;
    else result.push(entry);
  }
  return result;
}

async function readOptionalText(path: string): Promise<string | undefined> {
  try {
    return await Deno.readTextFile(path);
  } catch {
    return undefined;
  }
}

/**
 * Resolves `user` ("", "root", "1000", "nobody:nogroup") against the container's own
 * /etc/passwd and /etc/group, and adds the groups the user is a member of plus
 * `--group-add` ones (moby's getUser and its supplementary groups).
 */
export async function resolveUser(
  rootfs: string,
  user: string,
  groupAdd: string[] = [],
): Promise<{ uid: number; gid: number; additionalGids?: number[] }> {
  const passwd = await readOptionalText(join(rootfs, "etc/passwd"));
  const group = await readOptionalText(join(rootfs, "etc/group"));
  const probe: Spec = {
    ociVersion: "1.0.2",
    process: { user: { uid: 0, gid: 0 }, args: [], cwd: "/" },
  };
  try {
    withUserFromFiles(user || "0", passwd, group)(probe);
  } catch (error) {
    throw badParameter(
      `unable to find user ${user}: ${error instanceof Error ? error.message : error}`,
    );
  }
  const { uid, gid } = probe.process!.user;
  const userName = (user || "0").split(":")[0];
  const passwdName = (passwd ?? "").split("\n").map((line) => line.split(":"))
    .find((fields) => fields.length >= 4 && (fields[0] === userName || fields[2] === userName))
    ?.[0];
  const gids = new Set<number>();
  for (const line of (group ?? "").split("\n")) {
    const fields = line.split(":");
    if (fields.length < 4 || passwdName === undefined) continue;
    const members = fields[3].split(",").map((member) => member.trim());
    if (members.includes(passwdName)) gids.add(Number(fields[2]));
  }
  for (const added of groupAdd) {
    if (/^\d+$/.test(added)) gids.add(Number(added));
    else {
      const entry = (group ?? "").split("\n").map((line) => line.split(":"))
        .find((fields) => fields[0] === added);
      if (!entry) throw badParameter(`Unable to find group ${added}`);
      gids.add(Number(entry[2]));
    }
  }
  gids.delete(gid);
  return gids.size > 0
    ? { uid, gid, additionalGids: [...gids].sort((a, b) => a - b) }
    : { uid, gid };
}

/** `--ulimit` and daemon.json default-ulimits as OCI rlimits (container settings win). */
export function rlimitsFor(
  defaults: Record<string, UlimitSetting>,
  ulimits: UlimitSetting[] | null,
  base: Rlimit[] = [],
): Rlimit[] {
  const byName = new Map<string, UlimitSetting>();
  for (const [name, limit] of Object.entries(defaults)) byName.set(name, { ...limit, Name: name });
  for (const limit of ulimits ?? []) byName.set(limit.Name, limit);
  const rlimits = base.filter((rlimit) =>
    !byName.has(rlimit.type.replace(/^RLIMIT_/, "").toLowerCase())
  );
  for (const limit of byName.values()) {
    rlimits.push({
      type: `RLIMIT_${limit.Name.toUpperCase()}`,
      soft: limit.Soft,
      hard: limit.Hard,
    });
  }
  return rlimits;
}

/** Applies `--cap-add`/`--cap-drop` (names with or without CAP_, or ALL) to a capability list. */
export function adjustCapabilities(
  base: readonly string[],
  add: string[] | null,
  drop: string[] | null,
): string[] {
  const normalize = (name: string) => {
    const upper = name.toUpperCase();
    return upper === "ALL" ? "ALL" : upper.startsWith("CAP_") ? upper : `CAP_${upper}`;
  };
  let result = new Set(base);
  const added = (add ?? []).map(normalize);
  const dropped = (drop ?? []).map(normalize);
  for (const name of [...added, ...dropped]) {
    if (name !== "ALL" && !(capabilityNames as readonly string[]).includes(name)) {
      throw badParameter(`unknown capability: "${name}"`);
    }
  }
  if (dropped.includes("ALL")) result = new Set();
  else for (const name of dropped) result.delete(name);
  if (added.includes("ALL")) result = new Set(capabilityNames);
  else for (const name of added) result.add(name);
  return [...result];
}

/** The bind mounts for /etc/resolv.conf, /etc/hostname, /etc/hosts and `-v` binds. */
function containerMounts(container: Container): SpecMount[] {
  const mounts: SpecMount[] = [
    {
      destination: "/etc/resolv.conf",
      type: "bind",
      source: container.resolvConfPath,
      options: ["rbind", "rprivate"],
    },
    {
      destination: "/etc/hostname",
      type: "bind",
      source: container.hostnamePath,
      options: ["rbind", "rprivate"],
    },
    {
      destination: "/etc/hosts",
      type: "bind",
      source: container.hostsPath,
      options: ["rbind", "rprivate"],
    },
  ];
  for (const mount of container.mountPoints()) {
    mounts.push({
      destination: mount.Destination,
      type: "bind",
      source: mount.Source,
      options: ["rbind", mount.RW ? "rw" : "ro", "rprivate"],
    });
  }
  return mounts;
}

/** True when cgroup v1 swap accounting exists (dockerd sets memory+swap only then). */
function hasSwapAccounting(): boolean {
  try {
    Deno.statSync("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes");
    return true;
  } catch {
    return false;
  }
}

/** Builds the OCI spec for one run of `container` (moby's createSpec). */
export async function buildContainerSpec(
  container: Container,
  context: SpecContext,
): Promise<Spec> {
  const { config, hostConfig } = container;
  const spec = generateSpec({ namespace: "moby", id: container.id });
  spec.root = { path: context.rootfs, readonly: hostConfig.ReadonlyRootfs };
  spec.hostname = config.Hostname;
  if (config.Domainname) spec.domainname = config.Domainname;

  const process = spec.process!;
  process.args = [container.path, ...container.args];
  process.env = containerEnvironment(config);
  process.cwd = config.WorkingDir || "/";
  process.terminal = config.Tty;
  const [height, width] = hostConfig.ConsoleSize ?? [0, 0];
  if (config.Tty && height > 0 && width > 0) process.consoleSize = { height, width };
  process.user = await resolveUser(context.rootfs, config.User, hostConfig.GroupAdd ?? []);
  if (hostConfig.OomScoreAdj) process.oomScoreAdj = hostConfig.OomScoreAdj;
  process.rlimits = rlimitsFor(context.defaultUlimits, hostConfig.Ulimits, process.rlimits);

  const linux = spec.linux!;
  linux.cgroupsPath = hostConfig.CgroupParent
    ? join(hostConfig.CgroupParent, container.id)
    : `/docker/${container.id}`;

  if (hostConfig.Privileged) {
    const all = [...capabilityNames];
    process.capabilities = { bounding: all, effective: all, permitted: all };
    linux.maskedPaths = [];
    linux.readonlyPaths = [];
    linux.resources = { ...linux.resources, devices: [{ allow: true, access: "rwm" }] };
  } else {
    const capabilities = adjustCapabilities(
      process.capabilities?.bounding ?? [],
      hostConfig.CapAdd,
      hostConfig.CapDrop,
    );
    process.capabilities = {
      bounding: [...capabilities],
      effective: [...capabilities],
      permitted: [...capabilities],
    };
    if (hostConfig.MaskedPaths) linux.maskedPaths = [...hostConfig.MaskedPaths];
    if (hostConfig.ReadonlyPaths) linux.readonlyPaths = [...hostConfig.ReadonlyPaths];
  }

  // Namespaces: a `host` mode leaves one out, `container:<id>` joins another container's.
  const modes: [kind: "network" | "ipc" | "pid" | "uts", mode: string][] = [
    ["network", hostConfig.NetworkMode],
    ["ipc", hostConfig.IpcMode],
    ["pid", hostConfig.PidMode],
    ["uts", hostConfig.UTSMode],
  ];
  for (const [kind, mode] of modes) {
    if (mode === "host") withHostNamespace(kind)(spec);
    if (!mode?.startsWith("container:")) continue;
    const pid = context.namespaceOwnerPid?.(mode.slice("container:".length)) ?? 0;
    if (pid <= 0) {
      throw badParameter(`cannot join the ${kind} namespace of ${mode}: it is not running`);
    }
    const path = `/proc/${pid}/ns/${kind === "network" ? "net" : kind}`;
    linux.namespaces = (linux.namespaces ?? []).map((namespace) =>
      namespace.type === kind ? { type: kind, path } : namespace
    );
  }

  spec.mounts = [...(spec.mounts ?? []), ...containerMounts(container)];

  if (hostConfig.Memory > 0) {
    withMemoryLimit(hostConfig.Memory)(spec);
    const memory = linux.resources!.memory!;
    if (hostConfig.MemoryReservation > 0) memory.reservation = hostConfig.MemoryReservation;
    if (hasSwapAccounting()) {
      // Docker's rule: no --memory-swap means as much swap as memory (a total of twice).
      if (hostConfig.MemorySwap > 0) memory.swap = hostConfig.MemorySwap;
      else if (hostConfig.MemorySwap === 0) memory.swap = hostConfig.Memory * 2;
      else memory.swap = -1;
    }
  }
  if (hostConfig.PidsLimit !== null && hostConfig.PidsLimit > 0) {
    withPidsLimit(hostConfig.PidsLimit)(spec);
  }
  if (hostConfig.NanoCpus > 0) {
    const period = 100_000;
    linux.resources!.cpu = {
      ...linux.resources!.cpu,
      period,
      quota: Math.round(hostConfig.NanoCpus * period / 1e9),
    };
  }
  if (hostConfig.CpuShares > 0) {
    linux.resources!.cpu = { ...linux.resources!.cpu, shares: hostConfig.CpuShares };
  }
  return spec;
}
