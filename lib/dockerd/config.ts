// What this teaches: how dockerd is configured from two places at once, command-line
// flags and /etc/docker/daemon.json, and the rules that keep that safe:
// - the file is strict JSON, and a key dockerd does not know stops the daemon at start
//   ("the following directives don't match any configuration option: foo"), because a
//   misspelt "live-restor" silently ignored would be worse than a daemon that refuses;
// - a setting given both as a flag and in the file is refused too ("specified both as a
//   flag and in the configuration file"), so there is never a question which one won;
// - values are validated before anything starts (an unknown log level, a storage
//   driver other than overlay2);
// - SIGHUP re-reads the file and applies what can change on a running daemon (debug,
//   log-level, live-restore, the transfer limits); the rest needs a restart.
// Mirrors moby's daemon/config/config.go (MergeDaemonConfigurations,
// findConfigurationConflicts, getConflictFreeConfiguration, Validate) and
// cmd/dockerd/daemon.go (the "unable to configure the Docker daemon with file" wrapper).

import { jsonErrorLocation, jsonErrorReason } from "./server/json.ts";

/** Log levels dockerd accepts (logrus's, minus the two below debug it does not use). */
export const LOG_LEVELS = ["debug", "info", "warn", "error", "fatal"] as const;
export type DockerdLogLevel = typeof LOG_LEVELS[number];

/** One entry of `default-ulimits` (`{"nofile": {"Name": "nofile", "Hard": 64000, "Soft": 64000}}`). */
export interface Ulimit {
  Name: string;
  Hard: number;
  Soft: number;
}

/** One entry of `default-address-pools` (`{"base": "172.30.0.0/16", "size": 24}`). */
export interface AddressPool {
  base: string;
  size: number;
}

/** The settings of one mini-dockerd. */
export interface DockerdConfig {
  /** The daemon.json that was read ("" when none). */
  configFile: string;
  /** Persistent state: overlay2/, image/, containers/ (`--data-root`, /var/lib/docker). */
  dataRoot: string;
  /** Runtime state: the supervised containerd, netns handles (`--exec-root`, /var/run/docker). */
  execRoot: string;
  /** Where the API listens: `unix:///run/mini-docker.sock` (`-H`). */
  hosts: string[];
  /** An external mini-containerd socket; unset = start and supervise our own. */
  containerd?: string;
  pidfile: string;
  debug: boolean;
  logLevel: DockerdLogLevel;
  /** Keep containers running while the daemon is down (`live-restore`). */
  liveRestore: boolean;
  storageDriver: string;
  /** The default bridge's name, or "none" for no default bridge network. */
  bridge: string;
  /** The default bridge's address (`--bip 172.17.0.1/16`), for the networking code. */
  bip?: string;
  /**
   * The host address for published ports that name none (dockerd's `--ip`, default 0.0.0.0).
   * mini defaults to 127.0.0.1 so nothing is reachable from the network by accident; set
   * `"ip": "0.0.0.0"` for Docker's behaviour.
   */
  ip?: string;
  defaultAddressPools: AddressPool[];
  defaultUlimits: Record<string, Ulimit>;
  iptables: boolean;
  /** Seconds to wait for containers to stop at shutdown before SIGKILL (dockerd: 15). */
  shutdownTimeout: number;
  maxConcurrentDownloads: number;
  maxConcurrentUploads: number;
  /** Registries spoken to over plain HTTP (127.0.0.0/8 always is, as in dockerd). */
  insecureRegistries: string[];
  /** Where Docker Hub images are pulled from instead of registry-1.docker.io (`registry-mirrors`). */
  registryMirrors: string[];
}

/** dockerd's defaults, with mini's paths. */
export const DEFAULT_DOCKERD_CONFIG: DockerdConfig = {
  configFile: "/etc/mini-docker/daemon.json",
  dataRoot: "/var/lib/mini-docker",
  execRoot: "/run/mini-docker",
  hosts: ["unix:///run/mini-docker.sock"],
  pidfile: "/run/mini-docker.pid",
  debug: false,
  logLevel: "info",
  liveRestore: false,
  storageDriver: "overlay2",
  bridge: "",
  defaultAddressPools: [],
  defaultUlimits: {},
  iptables: true,
  shutdownTimeout: 15,
  maxConcurrentDownloads: 3,
  maxConcurrentUploads: 5,
  insecureRegistries: [],
  registryMirrors: [],
};

/** The configuration keys a running daemon can change on SIGHUP. */
export const RELOADABLE_KEYS = [
  "debug",
  "log-level",
  "live-restore",
  "max-concurrent-downloads",
  "max-concurrent-uploads",
  "shutdown-timeout",
  "insecure-registries",
  "registry-mirrors",
] as const;

type KeyKind = "string" | "boolean" | "integer" | "strings" | "pools" | "ulimits";

/** daemon.json keys mini-dockerd knows, with their JSON type and the config field they set. */
const KEYS: Record<string, { kind: KeyKind; field: keyof DockerdConfig }> = {
  "data-root": { kind: "string", field: "dataRoot" },
  "exec-root": { kind: "string", field: "execRoot" },
  "hosts": { kind: "strings", field: "hosts" },
  "containerd": { kind: "string", field: "containerd" },
  "pidfile": { kind: "string", field: "pidfile" },
  "debug": { kind: "boolean", field: "debug" },
  "log-level": { kind: "string", field: "logLevel" },
  "live-restore": { kind: "boolean", field: "liveRestore" },
  "storage-driver": { kind: "string", field: "storageDriver" },
  "bridge": { kind: "string", field: "bridge" },
  "bip": { kind: "string", field: "bip" },
  "ip": { kind: "string", field: "ip" },
  "default-address-pools": { kind: "pools", field: "defaultAddressPools" },
  "default-ulimits": { kind: "ulimits", field: "defaultUlimits" },
  "iptables": { kind: "boolean", field: "iptables" },
  "shutdown-timeout": { kind: "integer", field: "shutdownTimeout" },
  "max-concurrent-downloads": { kind: "integer", field: "maxConcurrentDownloads" },
  "max-concurrent-uploads": { kind: "integer", field: "maxConcurrentUploads" },
  "insecure-registries": { kind: "strings", field: "insecureRegistries" },
  "registry-mirrors": { kind: "strings", field: "registryMirrors" },
};

/** The daemon.json keys mini-dockerd understands. */
export function knownConfigKeys(): string[] {
  return Object.keys(KEYS);
}

/** A configuration problem; the message is what dockerd prints before exiting 1. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

/** Settings given on the command line, by daemon.json key (only the flags actually used). */
export type FlagSettings = Partial<Record<string, unknown>>;

/** The wrapper dockerd puts around every problem with the file. */
function fileError(path: string, problem: string): ConfigError {
  return new ConfigError(`unable to configure the Docker daemon with file ${path}: ${problem}`);
}

/** Parses daemon.json text into key → value, refusing invalid JSON with its line and column. */
export function parseConfigText(path: string, text: string): Record<string, unknown> {
  let document: unknown;
  try {
    document = text.trim() === "" ? {} : JSON.parse(text);
  } catch (error) {
    const where = jsonErrorLocation(text, error);
    throw fileError(
      path,
      `invalid JSON${where ? ` at ${where}` : ""}: ${jsonErrorReason(error)}`,
    );
  }
  if (typeof document !== "object" || document === null || Array.isArray(document)) {
    throw fileError(path, "the file must hold a JSON object ({...})");
  }
  const unknown = Object.keys(document).filter((key) => !(key in KEYS));
  if (unknown.length > 0) {
    throw fileError(
      path,
      `the following directives don't match any configuration option: ${unknown.join(", ")}`,
    );
  }
  return document as Record<string, unknown>;
}

/** Checks a value's JSON type against the key's, and converts it to the config field's shape. */
function convertValue(key: string, value: unknown): unknown {
  const { kind } = KEYS[key];
  const wrongType = (expected: string) =>
    new ConfigError(`invalid value for ${key}: expected ${expected}, got ${JSON.stringify(value)}`);
  switch (kind) {
    case "string":
      if (typeof value !== "string") throw wrongType("a string");
      return value;
    case "boolean":
      if (typeof value !== "boolean") throw wrongType("true or false");
      return value;
    case "integer":
      if (typeof value !== "number" || !Number.isInteger(value)) throw wrongType("an integer");
      return value;
    case "strings":
      if (!Array.isArray(value) || !value.every((item) => typeof item === "string")) {
        throw wrongType("a list of strings");
      }
      return value;
    case "pools":
      if (
        !Array.isArray(value) ||
        !value.every((pool) =>
          typeof pool === "object" && pool !== null && typeof pool.base === "string" &&
          Number.isInteger(pool.size)
        )
      ) throw wrongType(`a list of {"base": "CIDR", "size": N}`);
      return value;
    case "ulimits": {
      if (typeof value !== "object" || value === null || Array.isArray(value)) {
        throw wrongType(`a map like {"nofile": {"Name": "nofile", "Hard": 1024, "Soft": 1024}}`);
      }
      const ulimits: Record<string, Ulimit> = {};
      for (const [name, limit] of Object.entries(value)) {
        const entry = limit as Partial<Ulimit>;
        if (
          typeof entry !== "object" || entry === null || !Number.isInteger(entry.Hard) ||
          !Number.isInteger(entry.Soft)
        ) {
          throw new ConfigError(
            `invalid value for default-ulimits.${name}: need integer Hard and Soft`,
          );
        }
        ulimits[name] = { Name: entry.Name ?? name, Hard: entry.Hard!, Soft: entry.Soft! };
      }
      return ulimits;
    }
  }
}

/** Parses a `--default-ulimit nofile=1024:2048` flag value. */
export function parseUlimitFlag(text: string): Ulimit {
  const match = /^([a-z]+)=(-?\d+)(?::(-?\d+))?$/.exec(text);
  if (!match) {
    throw new ConfigError(
      `invalid ulimit argument: ${text} (expected name=soft[:hard], e.g. nofile=1024:2048)`,
    );
  }
  const soft = Number(match[2]);
  const hard = match[3] === undefined ? soft : Number(match[3]);
  if (soft > hard) {
    throw new ConfigError(
      `ulimit soft limit must be less than or equal to hard limit: ${soft} > ${hard}`,
    );
  }
  return { Name: match[1], Soft: soft, Hard: hard };
}

/** Reads the file; `explicit` (the user passed --config-file) makes a missing file an error. */
export async function readConfigFile(
  path: string,
  explicit: boolean,
): Promise<Record<string, unknown> | undefined> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      if (!explicit) return undefined;
      throw fileError(path, `open ${path}: no such file or directory`);
    }
    throw fileError(path, `open ${path}: ${error instanceof Error ? error.message : error}`);
  }
  return parseConfigText(path, text);
}

/** Refuses settings present both as flags and in the file, with dockerd's message. */
function findConflicts(path: string, file: Record<string, unknown>, flags: FlagSettings): void {
  const conflicts: string[] = [];
  for (const [key, flagValue] of Object.entries(flags)) {
    if (key in file) {
      conflicts.push(
        `${key}: (from flag: ${formatValue(flagValue)}, from file: ${formatValue(file[key])})`,
      );
    }
  }
  if (conflicts.length > 0) {
    throw fileError(
      path,
      "the following directives are specified both as a flag and in the configuration file: " +
        conflicts.join(", "),
    );
  }
}

function formatValue(value: unknown): string {
  if (Array.isArray(value)) return `[${value.join(" ")}]`;
  if (typeof value === "object" && value !== null) return JSON.stringify(value);
  return String(value);
}

/** Applies key → value settings onto a config (after type checks). */
function applySettings(config: DockerdConfig, settings: Record<string, unknown>): void {
  const target = config as unknown as Record<string, unknown>;
  for (const [key, value] of Object.entries(settings)) {
    if (value === undefined) continue;
    if (!(key in KEYS)) throw new ConfigError(`unknown setting ${key}`);
    target[KEYS[key].field] = convertValue(key, value);
  }
}

/** Validates the merged configuration (dockerd's config.Validate plus mini's limits). */
export function validateConfig(config: DockerdConfig): void {
  if (!(LOG_LEVELS as readonly string[]).includes(config.logLevel)) {
    throw new ConfigError(`invalid logging level: ${config.logLevel}`);
  }
  if (config.storageDriver !== "overlay2") {
    throw new ConfigError(
      `error initializing graphdriver: storage-driver "${config.storageDriver}" is not supported: ` +
        `mini-dockerd only implements overlay2 (remove "storage-driver" or set it to "overlay2")`,
    );
  }
  for (const host of config.hosts) {
    if (!host.startsWith("unix://") || host.length <= "unix://".length) {
      throw new ConfigError(
        `invalid host ${JSON.stringify(host)}: mini-dockerd listens on Unix sockets only ` +
          `(-H unix:///path/to/socket)`,
      );
    }
  }
  if (config.hosts.length === 0) throw new ConfigError("no hosts to listen on (-H unix:///...)");
  for (
    const [name, value] of [
      ["max-concurrent-downloads", config.maxConcurrentDownloads],
      ["max-concurrent-uploads", config.maxConcurrentUploads],
    ] as const
  ) {
    if (value < 1) throw new ConfigError(`invalid ${name} value: ${value} (must be at least 1)`);
  }
  for (const mirror of config.registryMirrors) {
    try {
      parseRegistryMirror(mirror);
    } catch (error) {
      throw new ConfigError((error as Error).message);
    }
  }
  if (
    config.ip !== undefined && config.ip !== "0.0.0.0" && !/^127\.\d+\.\d+\.\d+$/.test(config.ip)
  ) {
    throw new ConfigError(
      `invalid ip ${JSON.stringify(config.ip)}: mini-dockerd publishes ports on 0.0.0.0 or a ` +
        `loopback address (127.x.x.x) only`,
    );
  }
  if (config.shutdownTimeout < -1) {
    throw new ConfigError(`invalid shutdown-timeout: ${config.shutdownTimeout}`);
  }
  if (config.debug && config.logLevel === "info") config.logLevel = "debug";
}

/** The Unix socket paths of `-H unix://...` hosts. */
export function socketPaths(config: DockerdConfig): string[] {
  return config.hosts.map((host) => host.slice("unix://".length));
}

/** Options of loadDockerdConfig(). */
export interface LoadOptions {
  /** The daemon.json path (`--config-file`); `configFileExplicit` when the user passed it. */
  configFile?: string;
  configFileExplicit?: boolean;
  /** Settings from command-line flags, by daemon.json key. */
  flags?: FlagSettings;
}

/**
 * Builds the configuration the daemon starts with: defaults, then daemon.json, then
 * flags, refusing unknown keys, invalid JSON, flag/file conflicts and invalid values.
 */
export async function loadDockerdConfig(options: LoadOptions = {}): Promise<DockerdConfig> {
  const config: DockerdConfig = structuredClone(DEFAULT_DOCKERD_CONFIG);
  config.configFile = options.configFile ?? DEFAULT_DOCKERD_CONFIG.configFile;
  const flags = options.flags ?? {};
  const file = await readConfigFile(config.configFile, options.configFileExplicit ?? false);
  if (file === undefined) {
    config.configFile = "";
  } else {
    findConflicts(config.configFile, file, flags);
    try {
      applySettings(config, file);
    } catch (error) {
      throw fileError(config.configFile, (error as Error).message);
    }
  }
  applySettings(config, flags);
  validateConfig(config);
  return config;
}

/**
 * What SIGHUP changes: re-reads the file and returns the config with the reloadable
 * settings taken from it (keys not in the file fall back to their defaults, as in dockerd).
 * Throws (leaving the running config alone) when the file is now invalid.
 */
export async function reloadDockerdConfig(
  current: DockerdConfig,
  flags: FlagSettings,
): Promise<{ config: DockerdConfig; changed: string[] }> {
  if (current.configFile === "") return { config: current, changed: [] };
  const file = await readConfigFile(current.configFile, true) ?? {};
  findConflicts(current.configFile, file, flags);
  const fresh: DockerdConfig = structuredClone(DEFAULT_DOCKERD_CONFIG);
  applySettings(fresh, file);
  applySettings(fresh, flags);
  const next: DockerdConfig = structuredClone(current);
  const changed: string[] = [];
  for (const key of RELOADABLE_KEYS) {
    const field = KEYS[key].field;
    const before = JSON.stringify(current[field]);
    const after = JSON.stringify(fresh[field]);
    (next as unknown as Record<string, unknown>)[field] = fresh[field];
    if (before !== after) changed.push(key);
  }
  // debug=true without a log level means debug logging, as at start.
  next.logLevel = fresh.logLevel;
  validateConfig(next);
  return { config: next, changed };
}

/** The grace dockerd adds to a container's stop timeout when bounding its shutdown. */
export const SHUTDOWN_GRACE_SECONDS = 5;

/**
 * How long shutdown may take in all, in seconds (-1: no limit), as moby's
 * Daemon.ShutdownTimeout computes it: `shutdown-timeout`, raised to the longest
 * container stop timeout plus 5 s, so that a container with `--stop-timeout 30` gets
 * its 30 s before SIGKILL even under the default 15; a stop timeout of -1 (wait
 * forever) makes shutdown wait forever too. `stopTimeouts` has one entry per container
 * (its StopTimeout, or the default 10).
 */
export function shutdownLimitSeconds(shutdownTimeout: number, stopTimeouts: number[]): number {
  if (shutdownTimeout < 0) return -1;
  let limit = shutdownTimeout;
  for (const stopTimeout of stopTimeouts) {
    if (stopTimeout < 0) return -1;
    limit = Math.max(limit, stopTimeout + SHUTDOWN_GRACE_SECONDS);
  }
  return limit;
}

/** A registry mirror from daemon.json, as `scheme://host[:port]`. */
export interface RegistryMirror {
  scheme: "http" | "https";
  host: string;
}

/**
 * Validates one `registry-mirrors` entry as dockerd's ValidateMirror does: an http or
 * https URL with nothing but a host (no path, query, fragment or credentials).
 * Returns the mirror or throws an Error whose message says what is wrong.
 */
export function parseRegistryMirror(text: string): RegistryMirror {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new Error(`invalid mirror: "${text}" is not a valid URI`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new Error(
      `invalid mirror: unsupported scheme "${url.protocol.slice(0, -1)}" in "${text}"`,
    );
  }
  if (url.username || url.password) {
    throw new Error(`invalid mirror: does not support user-info, use ${url.protocol}//${url.host}`);
  }
  if ((url.pathname !== "/" && url.pathname !== "") || url.search || url.hash) {
    throw new Error(`invalid mirror: path, query, or fragment at end of the URI "${text}"`);
  }
  return { scheme: url.protocol === "http:" ? "http" : "https", host: url.host };
}
