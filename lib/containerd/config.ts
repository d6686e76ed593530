// What this teaches: where a container daemon keeps things. `root` holds what must
// survive a reboot (the content store, snapshots, meta.db); `state` holds what only
// makes sense while the machine is up (sockets, running task bundles). Mirrors
// containerd's `cmd/containerd/server/config` and its config.toml (version 2).

import { parse as parseToml } from "smol-toml";

/** The settings of one mini-containerd daemon. */
export interface DaemonConfig {
  /** Persistent data: content store, snapshots, metadata database. */
  root: string;
  /** Runtime state: sockets, task bundles; lost on reboot by design. */
  state: string;
  /** The API socket. */
  address: string;
  /** A group allowed to use the socket besides root (containerd's `grpc.gid`). */
  gid?: number;
  logLevel: "debug" | "info" | "warn" | "error";
}

/** Defaults, mirroring /var/lib/containerd and /run/containerd. */
export const DEFAULT_CONFIG: DaemonConfig = {
  root: "/var/lib/mini-containerd",
  state: "/run/mini-containerd",
  address: "/run/mini-containerd/mini-containerd.sock",
  logLevel: "info",
};

const logLevels = ["debug", "info", "warn", "error"] as const;

/**
 * Reads a containerd-style TOML config (`root`, `state`, `[grpc] address/gid`,
 * `[debug] level`). Unknown top-level keys are refused with their name, so a typo
 * never silently falls back to a default.
 */
export async function loadConfigFile(path: string): Promise<Partial<DaemonConfig>> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    throw new Error(
      `cannot read config file ${path}: ${error instanceof Error ? error.message : error}`,
    );
  }
  let document: Record<string, unknown>;
  try {
    document = parseToml(text) as Record<string, unknown>;
  } catch (error) {
    throw new Error(
      `config file ${path} is not valid TOML: ${error instanceof Error ? error.message : error}`,
    );
  }
  const config: Partial<DaemonConfig> = {};
  for (const [key, value] of Object.entries(document)) {
    switch (key) {
      case "version":
        break;
      case "root":
      case "state":
        config[key] = requireString(path, key, value);
        break;
      case "grpc": {
        const grpc = requireTable(path, key, value);
        if (grpc.address !== undefined) {
          config.address = requireString(path, "grpc.address", grpc.address);
        }
        if (grpc.gid !== undefined) config.gid = Number(grpc.gid);
        break;
      }
      case "debug": {
        const debug = requireTable(path, key, value);
        if (debug.level !== undefined) config.logLevel = parseLogLevel(String(debug.level));
        break;
      }
      default:
        throw new Error(
          `config file ${path}: unknown key "${key}" (known: version, root, state, grpc, debug)`,
        );
    }
  }
  return config;
}

/** Validates a log level name. */
export function parseLogLevel(value: string): DaemonConfig["logLevel"] {
  if ((logLevels as readonly string[]).includes(value)) return value as DaemonConfig["logLevel"];
  throw new Error(`unknown log level "${value}": use one of ${logLevels.join(", ")}`);
}

function requireString(path: string, key: string, value: unknown): string {
  if (typeof value !== "string") throw new Error(`config file ${path}: ${key} must be a string`);
  return value;
}

function requireTable(path: string, key: string, value: unknown): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new Error(`config file ${path}: [${key}] must be a table`);
  }
  return value as Record<string, unknown>;
}
