// The entry point of `mini-dockerd`, the daemon that mirrors dockerd (moby's
// cmd/dockerd). Only flag parsing and signal wiring live here; the daemon is
// lib/dockerd/daemon.ts, its configuration rules lib/dockerd/config.ts.

import { parseArgs } from "node:util";
import {
  ConfigError,
  DEFAULT_DOCKERD_CONFIG,
  type FlagSettings,
  loadDockerdConfig,
  parseUlimitFlag,
  type Ulimit,
} from "../lib/dockerd/config.ts";
import { Daemon, DOCKERD_VERSION } from "../lib/dockerd/daemon.ts";
import { ENGINE_MODULES } from "../lib/dockerd/routes/mod.ts";
import { takeDaemonTraceFlag } from "../lib/trace/hooks.ts";

const usage = `Usage: mini-dockerd [OPTIONS]

A self-sufficient runtime for containers (mini's dockerd).

Options:
      --config-file string          Daemon configuration file (default "${DEFAULT_DOCKERD_CONFIG.configFile}")
      --data-root string            Root directory of persistent state (default "${DEFAULT_DOCKERD_CONFIG.dataRoot}")
      --exec-root string            Root directory for execution state files (default "${DEFAULT_DOCKERD_CONFIG.execRoot}")
  -H, --host list                   Daemon socket(s) to connect to (default unix://${
  DEFAULT_DOCKERD_CONFIG.hosts[0].slice(7)
})
      --containerd string           containerd socket to use instead of starting one
  -p, --pidfile string              Path to use for daemon PID file (default "${DEFAULT_DOCKERD_CONFIG.pidfile}")
  -D, --debug                       Enable debug mode
  -l, --log-level string            Set the logging level ("debug"|"info"|"warn"|"error"|"fatal") (default "info")
      --live-restore                Enable live restore of docker when containers are still running
  -s, --storage-driver string       Storage driver to use (only overlay2)
  -b, --bridge string               Attach containers to a network bridge ("none" disables the default bridge)
      --bip string                  Specify network bridge IP
      --default-ulimit ulimit       Default ulimits for containers (name=soft[:hard])
      --iptables                    Enable addition of iptables rules (default true)
      --shutdown-timeout int        Default shutdown timeout in seconds (default 15)
      --max-concurrent-downloads int  Max concurrent downloads for each pull (default 3)
      --max-concurrent-uploads int    Max concurrent uploads for each push (default 5)
      --insecure-registry list      Enable insecure registry communication
      --trace                       Print every request's steps on stderr (MINI_TRACE=1 too)
  -v, --version                     Print version information and quit
  -h, --help                        Print usage`;

// Boolean flags accept `--flag=false` as in dockerd; parseArgs does not, so they are
// taken out first.
const booleanFlags: Record<string, string> = {
  "--debug": "debug",
  "-D": "debug",
  "--live-restore": "live-restore",
  "--iptables": "iptables",
};

function extractBooleans(args: string[], flags: FlagSettings): string[] {
  const rest: string[] = [];
  for (const arg of args) {
    const [name, value] = arg.split("=", 2);
    const key = booleanFlags[name];
    if (!key) {
      rest.push(arg);
      continue;
    }
    if (value === undefined || value === "true" || value === "1") flags[key] = true;
    else if (value === "false" || value === "0") flags[key] = false;
    else {throw new ConfigError(
        `invalid argument "${value}" for "${name}" flag: expected true or false`,
      );}
  }
  return rest;
}

function integerFlag(name: string, value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed)) {
    throw new ConfigError(`invalid argument "${value}" for "--${name}" flag: not an integer`);
  }
  return parsed;
}

async function main(): Promise<number> {
  const flags: FlagSettings = {};
  let values;
  try {
    const rest = extractBooleans(await takeDaemonTraceFlag(Deno.args), flags); // --trace: lib/trace
    values = parseArgs({
      args: rest,
      options: {
        "config-file": { type: "string" },
        "data-root": { type: "string" },
        "exec-root": { type: "string" },
        host: { type: "string", short: "H", multiple: true },
        containerd: { type: "string" },
        pidfile: { type: "string", short: "p" },
        "log-level": { type: "string", short: "l" },
        "storage-driver": { type: "string", short: "s" },
        bridge: { type: "string", short: "b" },
        bip: { type: "string" },
        "default-ulimit": { type: "string", multiple: true },
        "shutdown-timeout": { type: "string" },
        "max-concurrent-downloads": { type: "string" },
        "max-concurrent-uploads": { type: "string" },
        "insecure-registry": { type: "string", multiple: true },
        version: { type: "boolean", short: "v" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (error) {
    console.error(`mini-dockerd: ${error instanceof Error ? error.message : error}\n\n${usage}`);
    return 125;
  }
  if (values.help) {
    console.log(usage);
    return 0;
  }
  if (values.version) {
    console.log(`Docker version ${DOCKERD_VERSION}, build mini`);
    return 0;
  }

  let daemon: Daemon;
  try {
    const stringFlags = [
      "data-root",
      "exec-root",
      "containerd",
      "pidfile",
      "log-level",
      "storage-driver",
      "bridge",
      "bip",
    ] as const;
    for (const name of stringFlags) {
      if (values[name] !== undefined) flags[name] = values[name];
    }
    if (values.host) flags.hosts = values.host;
    if (values["insecure-registry"]) flags["insecure-registries"] = values["insecure-registry"];
    if (values["default-ulimit"]) {
      const ulimits: Record<string, Ulimit> = {};
      for (const text of values["default-ulimit"]) {
        const ulimit = parseUlimitFlag(text);
        ulimits[ulimit.Name] = ulimit;
      }
      flags["default-ulimits"] = ulimits;
    }
    for (
      const name of [
        "shutdown-timeout",
        "max-concurrent-downloads",
        "max-concurrent-uploads",
      ] as const
    ) {
      if (values[name] !== undefined) flags[name] = integerFlag(name, values[name]!);
    }
    const config = await loadDockerdConfig({
      configFile: values["config-file"],
      configFileExplicit: values["config-file"] !== undefined,
      flags,
    });
    daemon = await Daemon.start(config, { modules: ENGINE_MODULES, flags });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    console.error(error instanceof ConfigError ? message : `failed to start daemon: ${message}`);
    return 1;
  }

  const stopped = Promise.withResolvers<void>();
  const stop = () => stopped.resolve();
  Deno.addSignalListener("SIGTERM", stop);
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGHUP", () => void daemon.reload());
  await stopped.promise;
  await daemon.shutdown();
  return 0;
}

Deno.exit(await main());
