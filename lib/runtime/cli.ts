// What this teaches: a runtime's command line is an interface other programs depend on.
// containerd's shim runs `runc --root R --log L --log-format json create --bundle B
// --pid-file P ID`, then `start`, `state`, `kill`, `delete`, `exec --process F --detach
// --pid-file P ID`; mini-runc accepts exactly those flags, so the real shim can drive it.
// Mirrors runc's main.go and its command files (create.go, start.go, run.go, exec.go,
// kill.go, delete.go, state.go, ps.go, list.go, spec.go, features.go, pause.go).

import { parseSignal } from "../linux/signals.ts";
import {
  containerState,
  createContainer,
  deleteContainer,
  killContainer,
  pauseContainer,
  runContainer,
  type RuntimeOptions,
  startContainer,
  updateContainer,
} from "./container.ts";
import { execInContainer } from "./exec.ts";
import { features, listContainers, renderList, renderPs } from "./inspect.ts";
import { Logger } from "./log.ts";
import { defaultSpec } from "./spec.ts";
import { loadRecord } from "./state.ts";
import type { LinuxResources, Process } from "./types.ts";
import {
  commandFlags,
  type FlagValues,
  globalFlags,
  parseCommandLine,
  parseFlags,
  UsageError,
} from "./cli_flags.ts";
import type { LaunchedInit } from "./launch.ts";

/** The default --root, as runc's /run/runc. */
export const defaultRoot = "/run/mini-runc";

const usage = `mini-runc: an OCI runtime with runc's command line, in Deno

usage: mini-runc [global options] command [command options] [arguments...]

commands:
  spec      write a new config.json (like runc spec)
  create    create a container (the init waits until start)
  start     start the process of a created container
  run       create and start a container (waits for it unless --detach)
  exec      run a new process inside a running container
  state     print the runtime-spec state of a container
  kill      send a signal to the init (or to all processes with --all)
  delete    delete a stopped container (--force: also a running one)
  ps        show the processes running in a container
  list      list containers under --root
  pause     freeze every process of a container
  resume    thaw a paused container
  update    change a running container's resource limits
  features  print what this runtime supports (JSON)

global options:
  --root value        state directory (default: ${defaultRoot})
  --log value         log file (default: stderr)
  --log-format value  text or json (default: text)
  --debug             log debug messages
  --trace             print each step on stderr, with timings (the init's steps too)
  --systemd-cgroup    refused: mini-runc only has the cgroupfs driver
`;

function requireId(positionals: string[], command: string, count = 1): string {
  if (positionals.length < count) {
    throw new UsageError(`"${command}" requires a container id (mini-runc ${command} <id>)`);
  }
  return positionals[0];
}

function integerFlag(value: unknown, name: string): number {
  if (value === undefined) return 0;
  const number = Number(value);
  if (!Number.isInteger(number) || number < 0) {
    throw new UsageError(`--${name} needs a non-negative integer`);
  }
  return number;
}

/** "64m", "1g", "4096" → bytes (runc's units.RAMInBytes, binary units); "-1" stays -1. */
function parseBytes(text: string, name: string): number {
  const match = /^(-1|\d+)([kmgt]?)b?$/i.exec(text.trim());
  if (!match) throw new UsageError(`--${name} needs a byte count such as 512m, not ${text}`);
  const powers: Record<string, number> = { "": 0, k: 1, m: 2, g: 3, t: 4 };
  const value = Number(match[1]);
  return value < 0 ? value : value * 1024 ** powers[match[2].toLowerCase()];
}

function integerValue(text: string, name: string): number {
  const number = Number(text);
  if (!Number.isInteger(number)) throw new UsageError(`--${name} needs an integer, not ${text}`);
  return number;
}

/** `update`'s resources: --resources FILE (or - for stdin), then the single-value flags. */
async function updateResources(values: FlagValues): Promise<LinuxResources> {
  let resources: LinuxResources = {};
  if (typeof values.resources === "string") {
    const text = values.resources === "-"
      ? await new Response(Deno.stdin.readable).text()
      : Deno.readTextFileSync(values.resources);
    try {
      resources = JSON.parse(text);
    } catch (error) {
      throw new Error(`--resources is not valid JSON: ${(error as Error).message}`);
    }
  }
  const text = (name: string) => typeof values[name] === "string" ? values[name] : undefined;
  const memory = { ...resources.memory };
  const cpu = { ...resources.cpu };
  if (text("memory")) memory.limit = parseBytes(text("memory")!, "memory");
  if (text("memory-swap")) memory.swap = parseBytes(text("memory-swap")!, "memory-swap");
  if (text("memory-reservation")) {
    memory.reservation = parseBytes(text("memory-reservation")!, "memory-reservation");
  }
  if (text("cpu-shares")) cpu.shares = integerValue(text("cpu-shares")!, "cpu-shares");
  if (text("cpu-quota")) cpu.quota = integerValue(text("cpu-quota")!, "cpu-quota");
  if (text("cpu-period")) cpu.period = integerValue(text("cpu-period")!, "cpu-period");
  if (text("cpuset-cpus")) cpu.cpus = text("cpuset-cpus");
  if (text("cpuset-mems")) cpu.mems = text("cpuset-mems");
  if (Object.keys(memory).length > 0) resources.memory = memory;
  if (Object.keys(cpu).length > 0) resources.cpu = cpu;
  if (text("pids-limit")) {
    resources.pids = { limit: integerValue(text("pids-limit")!, "pids-limit") };
  }
  return resources;
}

/** The process `exec` runs: --process FILE, or the container's process with overrides. */
function execProcessFrom(runtime: RuntimeOptions, id: string, values: FlagValues, args: string[]) {
  if (typeof values.process === "string") {
    try {
      return JSON.parse(Deno.readTextFileSync(values.process)) as Process;
    } catch (error) {
      throw new Error(`cannot read --process ${values.process}: ${(error as Error).message}`);
    }
  }
  if (args.length === 0) {
    throw new UsageError(`exec needs a command: mini-runc exec <id> <command>`);
  }
  const base = structuredClone(loadRecord(runtime.root, id).spec.process!);
  const process: Process = { ...base, args, terminal: values.tty === true };
  if (typeof values.cwd === "string") process.cwd = values.cwd;
  if (Array.isArray(values.env)) process.env = [...(process.env ?? []), ...values.env];
  if (typeof values.user === "string") {
    const [uid, gid] = values.user.split(":").map(Number);
    if (!Number.isInteger(uid) || (gid !== undefined && !Number.isInteger(gid))) {
      throw new UsageError(`--user must be UID[:GID] in numbers, not ${values.user}`);
    }
    process.user = { uid, gid: gid ?? 0 };
  }
  if (Array.isArray(values["additional-gids"])) {
    process.user.additionalGids = values["additional-gids"].map(Number);
  }
  if (Array.isArray(values.cap)) {
    const caps = process.capabilities ??= {};
    for (const set of ["bounding", "effective", "permitted", "ambient"] as const) {
      caps[set] = [...new Set([...(caps[set] ?? []), ...values.cap])];
    }
  }
  if (values["no-new-privs"] === true) process.noNewPrivileges = true;
  return process;
}

/**
 * Runs one mini-runc invocation; returns the exit status. `prelaunched` is an init the
 * entry point already started for `create`/`run` (see prelaunch.ts); it is used or ended.
 */
export async function main(args: string[], prelaunched?: LaunchedInit): Promise<number> {
  let logger = new Logger({ format: "text", debug: false });
  try {
    const { values: globals, positionals } = parseFlags(args, globalFlags, true);
    const logFormat = (globals["log-format"] as string | undefined) ?? "text";
    logger = new Logger({
      path: globals.log as string | undefined,
      format: logFormat === "json" ? "json" : "text",
      debug: globals.debug === true,
    });
    if (globals.version) {
      console.log("mini-runc version 0.1.0\nspec: 1.0.2-dev");
      return 0;
    }
    const command = positionals[0];
    if (globals.help || command === undefined || command === "help") {
      console.log(usage);
      return command === undefined && !globals.help ? 1 : 0;
    }
    if (logFormat !== "text" && logFormat !== "json") {
      throw new UsageError(`--log-format must be text or json, not ${logFormat}`);
    }
    if (globals["systemd-cgroup"]) {
      throw new Error(
        "--systemd-cgroup is not supported: mini-runc manages cgroups through cgroupfs only; " +
          "drop the flag (containerd: SystemdCgroup = false)",
      );
    }
    if (typeof globals.rootless === "string" && globals.rootless === "true") {
      throw new Error("--rootless is not supported: mini-runc runs containers as root");
    }
    if (!commandFlags[command]) {
      throw new UsageError(`unknown command "${command}" (see mini-runc --help)`);
    }
    const { values, operands } = parseCommandLine(args);
    const runtime: RuntimeOptions = {
      root: (globals.root as string | undefined) ?? defaultRoot,
      logger,
    };
    logger.debug(`${command} ${operands.join(" ")}`);
    return await dispatch(runtime, command, values, operands, prelaunched);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    logger.fatal(message);
    if (error instanceof UsageError) console.error(`(see mini-runc --help)`);
    return 1;
  }
}

async function dispatch(
  runtime: RuntimeOptions,
  command: string,
  values: FlagValues,
  operands: string[],
  prelaunched: LaunchedInit | undefined,
): Promise<number> {
  switch (command) {
    case "spec": {
      if (values.rootless) throw new Error("--rootless specs are not supported by mini-runc");
      const bundle = (values.bundle as string | undefined) ?? ".";
      const path = `${bundle}/config.json`;
      try {
        Deno.lstatSync(path);
        throw new Error(`File ${path} exists. Remove it first`);
      } catch (error) {
        if (!(error instanceof Deno.errors.NotFound)) throw error;
      }
      Deno.writeTextFileSync(path, JSON.stringify(defaultSpec(), null, "\t") + "\n");
      return 0;
    }
    case "create": {
      const id = requireId(operands, command);
      await createContainer(runtime, id, {
        bundle: (values.bundle as string | undefined) ?? ".",
        pidFile: values["pid-file"] as string | undefined,
        consoleSocket: values["console-socket"] as string | undefined,
        noPivot: values["no-pivot"] === true,
        preserveFds: integerFlag(values["preserve-fds"], "preserve-fds"),
        prelaunched,
      });
      return 0;
    }
    case "run": {
      const id = requireId(operands, command);
      return await runContainer(runtime, id, {
        bundle: (values.bundle as string | undefined) ?? ".",
        pidFile: values["pid-file"] as string | undefined,
        consoleSocket: values["console-socket"] as string | undefined,
        noPivot: values["no-pivot"] === true,
        preserveFds: integerFlag(values["preserve-fds"], "preserve-fds"),
        detach: values.detach === true,
        keep: values.keep === true,
        prelaunched,
      });
    }
    case "start":
      await startContainer(runtime, requireId(operands, command));
      return 0;
    case "state":
      console.log(JSON.stringify(containerState(runtime, requireId(operands, command)), null, 2));
      return 0;
    case "kill": {
      const id = requireId(operands, command);
      const signal = parseSignal(operands[1] ?? "SIGTERM");
      killContainer(runtime, id, signal, values.all === true);
      return 0;
    }
    case "delete":
      await deleteContainer(runtime, requireId(operands, command), values.force === true);
      return 0;
    case "exec": {
      const id = requireId(operands, command);
      const process = execProcessFrom(runtime, id, values, operands.slice(1));
      return await execInContainer(runtime, id, process, {
        detach: values.detach === true,
        pidFile: values["pid-file"] as string | undefined,
        consoleSocket: values["console-socket"] as string | undefined,
        preserveFds: integerFlag(values["preserve-fds"], "preserve-fds"),
      });
    }
    case "ps": {
      const id = requireId(operands, command);
      const format = (values.format as string | undefined) ?? "table";
      const output = await renderPs(runtime, id, format, operands.slice(1));
      Deno.stdout.writeSync(new TextEncoder().encode(output));
      return 0;
    }
    case "list": {
      const output = renderList(
        listContainers(runtime),
        (values.format as string | undefined) ?? "table",
        values.quiet === true,
      );
      Deno.stdout.writeSync(new TextEncoder().encode(output));
      return 0;
    }
    case "pause":
    case "resume":
      pauseContainer(runtime, requireId(operands, command), command === "pause");
      return 0;
    case "features":
      console.log(JSON.stringify(features(), null, 2));
      return 0;
    case "update":
      updateContainer(runtime, requireId(operands, command), await updateResources(values));
      return 0;
  }
  throw new UsageError(`unknown command "${command}"`);
}
