// What this teaches: `docker run`'s many flags are turned, on the client, into the
// three JSON objects of `POST /containers/create`: Config (what runs: image, command,
// environment, user, tty...), HostConfig (how the host sets it up: ports, memory,
// restart policy, --rm...) and NetworkingConfig (which networks). The daemon never
// sees flags, only this JSON; the shape and key order here follow what the real CLI
// sends (see the wire traces).
// Mirrors docker/cli's cli/command/container/opts.go (addFlags, parse) and
// opts/parse.go (ParseRestartPolicy), docker/go-connections' nat.ParsePortSpecs.

import type { FlagSpec, ParsedFlags } from "../../flags.ts";
import { ramInBytes } from "../../format/units.ts";

/** The container flags shared by `create` and `run`. */
export const CONTAINER_FLAGS: FlagSpec[] = [
  { name: "add-host", kind: "list", description: "Add a custom host-to-IP mapping (host:ip)" },
  {
    name: "attach",
    short: "a",
    kind: "list",
    description: "Attach to STDIN, STDOUT or STDERR",
    validate: (value) => {
      if (!["stdin", "stdout", "stderr"].includes(value.toLowerCase())) {
        throw new Error("valid streams are STDIN, STDOUT and STDERR");
      }
    },
  },
  { name: "cap-add", kind: "list", description: "Add Linux capabilities" },
  { name: "cap-drop", kind: "list", description: "Drop Linux capabilities" },
  { name: "cidfile", kind: "string", description: "Write the container ID to the file" },
  { name: "cpu-shares", short: "c", kind: "int", description: "CPU shares (relative weight)" },
  {
    name: "cpus",
    kind: "string",
    valueName: "decimal",
    description: "Number of CPUs",
    validate: (value) => {
      if (!/^\d*\.?\d+$/.test(value)) {
        throw new Error(`failed to parse ${value} as a rational number`);
      }
    },
  },
  { name: "dns", kind: "list", description: "Set custom DNS servers" },
  {
    name: "entrypoint",
    kind: "string",
    description: "Overwrite the default ENTRYPOINT of the image",
  },
  {
    name: "env",
    short: "e",
    kind: "list",
    description: "Set environment variables",
    validate: (value) => {
      if (value.startsWith("=")) throw new Error(`invalid environment variable: ${value}`);
    },
  },
  { name: "env-file", kind: "list", description: "Read in a file of environment variables" },
  { name: "expose", kind: "list", description: "Expose a port or a range of ports" },
  { name: "hostname", short: "h", kind: "string", description: "Container host name" },
  {
    name: "init",
    kind: "bool",
    description: "Run an init inside the container that forwards signals and reaps processes",
  },
  {
    name: "interactive",
    short: "i",
    kind: "bool",
    description: "Keep STDIN open even if not attached",
  },
  { name: "ipc", kind: "string", description: "IPC mode to use" },
  { name: "label", short: "l", kind: "list", description: "Set meta data on a container" },
  { name: "log-driver", kind: "string", description: "Logging driver for the container" },
  { name: "log-opt", kind: "list", description: "Log driver options" },
  {
    name: "memory",
    short: "m",
    kind: "string",
    valueName: "bytes",
    description: "Memory limit",
    validate: (value) => void ramInBytes(value),
  },
  {
    name: "memory-swap",
    kind: "string",
    valueName: "bytes",
    description: "Swap limit equal to memory plus swap: '-1' to enable unlimited swap",
    validate: (value) => void (value === "-1" || ramInBytes(value)),
  },
  {
    name: "network",
    kind: "string",
    valueName: "network",
    description: "Connect a container to a network",
  },
  { name: "net", kind: "string", description: "Connect a container to a network", hidden: true },
  { name: "pid", kind: "string", description: "PID namespace to use" },
  {
    name: "pids-limit",
    kind: "int",
    description: "Tune container pids limit (set -1 for unlimited)",
  },
  {
    name: "platform",
    kind: "string",
    description: "Set platform if server is multi-platform capable",
  },
  { name: "privileged", kind: "bool", description: "Give extended privileges to this container" },
  {
    name: "publish",
    short: "p",
    kind: "list",
    description: "Publish a container's port(s) to the host",
  },
  {
    name: "publish-all",
    short: "P",
    kind: "bool",
    description: "Publish all exposed ports to random ports",
  },
  {
    name: "read-only",
    kind: "bool",
    description: "Mount the container's root filesystem as read only",
  },
  {
    name: "restart",
    kind: "string",
    defaultValue: "no",
    description: "Restart policy to apply when a container exits",
  },
  {
    name: "rm",
    kind: "bool",
    description:
      "Automatically remove the container and its associated anonymous volumes when it exits",
  },
  { name: "security-opt", kind: "list", description: "Security Options" },
  {
    name: "shm-size",
    kind: "string",
    valueName: "bytes",
    description: "Size of /dev/shm",
    validate: (value) => void ramInBytes(value),
  },
  { name: "stop-signal", kind: "string", description: "Signal to stop the container" },
  { name: "stop-timeout", kind: "int", description: "Timeout (in seconds) to stop a container" },
  { name: "tmpfs", kind: "list", description: "Mount a tmpfs directory" },
  { name: "tty", short: "t", kind: "bool", description: "Allocate a pseudo-TTY" },
  { name: "ulimit", kind: "list", valueName: "ulimit", description: "Ulimit options" },
  {
    name: "user",
    short: "u",
    kind: "string",
    description: "Username or UID (format: <name|uid>[:<group|gid>])",
  },
  { name: "uts", kind: "string", description: "UTS namespace to use" },
  { name: "volume", short: "v", kind: "list", description: "Bind mount a volume" },
  {
    name: "workdir",
    short: "w",
    kind: "string",
    description: "Working directory inside the container",
  },
];

/** The three objects of `POST /containers/create`. */
export interface ContainerConfig {
  config: Record<string, unknown>;
  hostConfig: Record<string, unknown>;
  networkingConfig: Record<string, unknown>;
}

/** Go's net.ParseIP, enough to tell an address from garbage. */
function isIpAddress(text: string): boolean {
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(text)) {
    return text.split(".").every((part) => Number(part) <= 255);
  }
  return text.includes(":") && /^[0-9a-fA-F:.]+$/.test(text) &&
    (text.match(/::/g) ?? []).length <= 1;
}

/** Parses "80" or "8000-8010" (ParsePortRange); throws on anything else. */
function parsePortRange(text: string): [number, number] {
  if (text === "") throw new Error("empty string specified for ports");
  const parse = (part: string) => {
    if (!/^\d+$/.test(part) || Number(part) > 65535) throw new Error(`invalid port: ${part}`);
    return Number(part);
  };
  if (!text.includes("-")) {
    const port = parse(text);
    return [port, port];
  }
  const [startText, endText] = text.split("-", 2);
  const start = parse(startText);
  const end = parse(endText);
  if (end < start) throw new Error(`invalid range specified for port: ${text}`);
  return [start, end];
}

/** Splits "ip:hostPort:containerPort[/proto]" the way go-connections' splitParts does. */
function splitPortParts(raw: string): [string, string, string] {
  const parts = raw.split(":");
  const containerPort = parts[parts.length - 1];
  switch (parts.length) {
    case 1:
      return ["", "", containerPort];
    case 2:
      return ["", parts[0], containerPort];
    case 3:
      return [parts[0], parts[1], containerPort];
    default:
      return [parts.slice(0, -2).join(":"), parts[parts.length - 2], containerPort];
  }
}

function splitProtocol(text: string): [string, string] {
  const slash = text.lastIndexOf("/");
  if (slash === -1) return [text, "tcp"];
  const protocol = text.slice(slash + 1);
  return [text.slice(0, slash), protocol === "" ? "tcp" : protocol];
}

/**
 * Parses `-p` specs ("8080:80", "127.0.0.1::80/udp", "8000-8001:80-81", "80") into
 * exposed ports and host bindings (go-connections' nat.ParsePortSpec).
 */
export function parsePortSpecs(specs: string[]): {
  exposed: Record<string, Record<string, never>>;
  bindings: Record<string, { HostIp: string; HostPort: string }[]>;
} {
  const exposed: Record<string, Record<string, never>> = {};
  const bindings: Record<string, { HostIp: string; HostPort: string }[]> = {};
  for (const spec of specs) {
    let [ip, hostPort, containerText] = splitPortParts(spec);
    const [containerPort, protocolText] = splitProtocol(containerText);
    if (ip.startsWith("[")) ip = ip.replace(/^\[|\]$/g, "");
    if (ip !== "" && !isIpAddress(ip)) throw new Error(`invalid IP address: ${ip}`);
    if (containerPort === "") throw new Error(`no port specified: ${spec}<empty>`);
    let start: number, end: number;
    try {
      [start, end] = parsePortRange(containerPort);
    } catch {
      throw new Error(`invalid containerPort: ${containerPort}`);
    }
    let hostStart = 0;
    let hostEnd = 0;
    if (hostPort !== "") {
      try {
        [hostStart, hostEnd] = parsePortRange(hostPort);
      } catch {
        throw new Error(`invalid hostPort: ${hostPort}`);
      }
    }
    if (hostPort !== "" && end - start !== hostEnd - hostStart && end !== start) {
      throw new Error(
        `invalid ranges specified for container and host Ports: ${containerPort} and ${hostPort}`,
      );
    }
    const protocol = protocolText.toLowerCase();
    if (!["tcp", "udp", "sctp"].includes(protocol)) throw new Error(`invalid proto: ${protocol}`);
    for (let offset = 0; offset <= end - start; offset++) {
      const port = `${start + offset}/${protocol}`;
      let host = hostPort === "" ? "" : String(hostStart + offset);
      // A single container port with a host range: the daemon picks a port from the range.
      if (start === end && hostStart !== hostEnd) host = `${host}-${hostEnd}`;
      exposed[port] = {};
      (bindings[port] ??= []).push({ HostIp: ip, HostPort: host });
    }
  }
  return { exposed, bindings };
}

/** Parses `--restart` ("no", "always", "on-failure:3"). */
export function parseRestartPolicy(text: string): { Name: string; MaximumRetryCount: number } {
  if (text === "") return { Name: "", MaximumRetryCount: 0 };
  const colon = text.indexOf(":");
  const name = colon === -1 ? text : text.slice(0, colon);
  const count = colon === -1 ? "" : text.slice(colon + 1);
  if (colon !== -1 && name === "") {
    throw new Error("invalid restart policy format: no policy provided before colon");
  }
  let maximum = 0;
  if (count !== "") {
    if (!/^[+-]?\d+$/.test(count)) {
      throw new Error("invalid restart policy format: maximum retry count must be an integer");
    }
    maximum = Number(count);
  }
  return { Name: name, MaximumRetryCount: maximum };
}

/** Reads `--env-file` files: KEY=value lines, bare KEY taken from our environment. */
async function readEnvFiles(paths: string[]): Promise<string[]> {
  const result: string[] = [];
  for (const path of paths) {
    const text = await Deno.readTextFile(path);
    for (const rawLine of text.split(/\r?\n/)) {
      const line = rawLine.replace(/^\s+/, "");
      if (line === "" || line.startsWith("#")) continue;
      result.push(...expandEnv([line]));
    }
  }
  return result;
}

/** `-e NAME` without `=` takes NAME's value from the client's environment (or is dropped). */
function expandEnv(entries: string[]): string[] {
  const result: string[] = [];
  for (const entry of entries) {
    if (entry.includes("=")) {
      if (entry.startsWith("=")) throw new Error(`invalid environment variable: ${entry}`);
      result.push(entry);
      continue;
    }
    const value = Deno.env.get(entry);
    if (value !== undefined) result.push(`${entry}=${value}`);
  }
  return result;
}

/** `--label K=V` pairs as the API's map (a bare `K` is an empty label). */
export function labelsToMap(labels: string[]): Record<string, string> {
  const result: Record<string, string> = {};
  for (const label of labels) {
    const equals = label.indexOf("=");
    if (equals === -1) result[label] = "";
    else result[label.slice(0, equals)] = label.slice(equals + 1);
  }
  return result;
}

function parseUlimit(text: string): { Name: string; Soft: number; Hard: number } {
  const match = /^([a-z]+)=(-?\d+)(?::(-?\d+))?$/.exec(text);
  if (!match) throw new Error(`invalid ulimit argument: ${text}`);
  const soft = Number(match[2]);
  return { Name: match[1], Soft: soft, Hard: match[3] === undefined ? soft : Number(match[3]) };
}

/**
 * Builds the create request from the flags and the positional `IMAGE [COMMAND] [ARG...]`,
 * as `docker run`/`docker create` do. `detach` is false for create/run without -d.
 */
export async function buildContainerConfig(
  flags: ParsedFlags,
  image: string,
  command: string[],
  consoleSize: [number, number],
): Promise<ContainerConfig> {
  const values = flags.values;
  const attach = (values.attach as string[]).map((stream) => stream.toLowerCase());
  for (const stream of attach) {
    if (!["stdin", "stdout", "stderr"].includes(stream)) {
      throw new Error("valid streams are STDIN, STDOUT and STDERR");
    }
  }
  const interactive = values.interactive as boolean;
  const tty = values.tty as boolean;
  let attachStdin = attach.includes("stdin");
  let attachStdout = attach.includes("stdout");
  let attachStderr = attach.includes("stderr");
  if (attach.length === 0) {
    attachStdin = interactive;
    attachStdout = true;
    attachStderr = true;
  }

  let memory = 0;
  if (values.memory !== "") memory = ramInBytes(values.memory as string);
  let memorySwap = 0;
  if (values["memory-swap"] !== "") {
    memorySwap = values["memory-swap"] === "-1" ? -1 : ramInBytes(values["memory-swap"] as string);
  }
  let nanoCpus = 0;
  if (values.cpus !== "") {
    const cpus = Number(values.cpus);
    if (!Number.isFinite(cpus)) {
      throw new Error(`invalid argument "${values.cpus}" for "--cpus" flag`);
    }
    nanoCpus = Math.round(cpus * 1e9);
  }
  let shmSize = 0;
  if (values["shm-size"] !== "") shmSize = ramInBytes(values["shm-size"] as string);

  const { exposed, bindings } = parsePortSpecs(values.publish as string[]);
  for (const spec of values.expose as string[]) {
    const [portText, protocol] = splitProtocol(spec);
    const [start, end] = parsePortRange(portText);
    for (let port = start; port <= end; port++) exposed[`${port}/${protocol}`] = {};
  }

  const environment = [
    ...(await readEnvFiles(values["env-file"] as string[])),
    ...expandEnv(values.env as string[]),
  ];
  const restart = parseRestartPolicy(values.restart as string);
  const autoRemove = values.rm as boolean;
  if (autoRemove && restart.Name !== "" && restart.Name !== "no") {
    throw new Error("conflicting options: cannot specify both --restart and --rm");
  }
  const networkMode = (values.network as string) || (values.net as string) || "default";
  const entrypoint = flags.changed.has("entrypoint") ? [values.entrypoint as string] : null;
  const binds = (values.volume as string[]).length > 0 ? [...values.volume as string[]] : null;
  const tmpfs: Record<string, string> = {};
  for (const entry of values.tmpfs as string[]) {
    const colon = entry.indexOf(":");
    if (colon === -1) tmpfs[entry] = "";
    else tmpfs[entry.slice(0, colon)] = entry.slice(colon + 1);
  }

  const config: Record<string, unknown> = {
    Hostname: values.hostname,
    Domainname: "",
    User: values.user,
    AttachStdin: attachStdin,
    AttachStdout: attachStdout,
    AttachStderr: attachStderr,
  };
  if (Object.keys(exposed).length > 0) config.ExposedPorts = exposed;
  Object.assign(config, {
    Tty: tty,
    OpenStdin: interactive,
    StdinOnce: interactive && attachStdin,
    Env: environment.length > 0 ? environment : null,
    Cmd: command.length > 0 ? command : null,
    Image: image,
    Volumes: {},
    WorkingDir: values.workdir,
    Entrypoint: entrypoint,
    OnBuild: null,
    Labels: labelsToMap(values.label as string[]),
  });
  if (values["stop-signal"] !== "") config.StopSignal = values["stop-signal"];
  if (flags.changed.has("stop-timeout")) config.StopTimeout = values["stop-timeout"];

  const logOptions = labelsToMap(values["log-opt"] as string[]);
  const hostConfig: Record<string, unknown> = {
    Binds: binds,
    ContainerIDFile: values.cidfile,
    LogConfig: { Type: values["log-driver"], Config: logOptions },
    NetworkMode: networkMode,
    PortBindings: bindings,
    RestartPolicy: restart,
    AutoRemove: autoRemove,
    VolumeDriver: "",
    VolumesFrom: null,
    ConsoleSize: consoleSize,
    CapAdd: (values["cap-add"] as string[]).length > 0 ? values["cap-add"] : null,
    CapDrop: (values["cap-drop"] as string[]).length > 0 ? values["cap-drop"] : null,
    CgroupnsMode: "",
    Dns: values.dns,
    DnsOptions: [],
    DnsSearch: [],
    ExtraHosts: (values["add-host"] as string[]).length > 0 ? values["add-host"] : null,
    GroupAdd: null,
    IpcMode: values.ipc,
    Cgroup: "",
    Links: null,
    OomScoreAdj: 0,
    PidMode: values.pid,
    Privileged: values.privileged,
    PublishAllPorts: values["publish-all"],
    ReadonlyRootfs: values["read-only"],
    SecurityOpt: (values["security-opt"] as string[]).length > 0 ? values["security-opt"] : null,
    UTSMode: values.uts,
    UsernsMode: "",
    ShmSize: shmSize,
    Isolation: "",
    CpuShares: values["cpu-shares"],
    Memory: memory,
    NanoCpus: nanoCpus,
    CgroupParent: "",
    BlkioWeight: 0,
    BlkioWeightDevice: [],
    BlkioDeviceReadBps: [],
    BlkioDeviceWriteBps: [],
    BlkioDeviceReadIOps: [],
    BlkioDeviceWriteIOps: [],
    CpuPeriod: 0,
    CpuQuota: 0,
    CpuRealtimePeriod: 0,
    CpuRealtimeRuntime: 0,
    CpusetCpus: "",
    CpusetMems: "",
    Devices: [],
    DeviceCgroupRules: null,
    DeviceRequests: null,
    MemoryReservation: 0,
    MemorySwap: memorySwap,
    MemorySwappiness: -1,
    OomKillDisable: false,
    PidsLimit: values["pids-limit"],
    Ulimits: (values.ulimit as string[]).map(parseUlimit),
    CpuCount: 0,
    CpuPercent: 0,
    IOMaximumIOps: 0,
    IOMaximumBandwidth: 0,
    MaskedPaths: null,
    ReadonlyPaths: null,
  };
  if (Object.keys(tmpfs).length > 0) hostConfig.Tmpfs = tmpfs;
  if (flags.changed.has("init")) hostConfig.Init = values.init;

  const endpoint = {
    IPAMConfig: null,
    Links: null,
    Aliases: null,
    MacAddress: "",
    DriverOpts: null,
    GwPriority: 0,
    NetworkID: "",
    EndpointID: "",
    Gateway: "",
    IPAddress: "",
    IPPrefixLen: 0,
    IPv6Gateway: "",
    GlobalIPv6Address: "",
    GlobalIPv6PrefixLen: 0,
    DNSNames: null,
  };
  const networkingConfig = { EndpointsConfig: { [networkMode]: endpoint } };
  return { config, hostConfig, networkingConfig };
}

/** The create request body: Config with HostConfig and NetworkingConfig inside. */
export function createBody(container: ContainerConfig): Record<string, unknown> {
  return {
    ...container.config,
    HostConfig: container.hostConfig,
    NetworkingConfig: container.networkingConfig,
  };
}
