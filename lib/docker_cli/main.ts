// What this teaches: the front door of a docker-like CLI. Global flags come first
// (`-H` picks the daemon, `--debug` traces the API calls), then a command, either
// top-level (`ps`, `run`) or inside a management group (`container ls`, `image rm`,
// `network ls`, `system df`) — the same code answers both spellings. Errors are
// printed on stderr the way docker prints them ("Error response from daemon: ...",
// usage mistakes with the usage line), and the exit status follows docker's rules:
// 125 for a bad flag, the container's own status for `run`, 1 otherwise.
// The daemon address: `-H`, else $MINI_DOCKER_HOST, else unix:///run/mini-docker.sock.
// ($DOCKER_HOST is deliberately ignored, so mini-docker never talks to a real dockerd
// by accident.)
// Mirrors docker/cli's cmd/docker/docker.go, cli/cobra.go and cli/required.go.

import {
  ConnectionError,
  DaemonError,
  DEFAULT_HOST,
  EngineClient,
  parseHost,
} from "./client/engine.ts";
import { createCommand, runCommand, startCommand } from "./commands/container/run.ts";
import { execCommand } from "./commands/container/exec.ts";
import { logsCommand } from "./commands/container/logs.ts";
import { psCommand } from "./commands/container/list.ts";
import {
  containerPruneCommand,
  killCommand,
  pauseCommand,
  portCommand,
  renameCommand,
  restartCommand,
  rmCommand,
  stopCommand,
  unpauseCommand,
  waitCommand,
} from "./commands/container/lifecycle.ts";
import { buildCommand } from "./commands/image/build.ts";
import { historyCommand } from "./commands/image/history.ts";
import { imageLsCommand, imagesCommand } from "./commands/image/list.ts";
import { imagePruneCommand, rmiCommand, tagCommand } from "./commands/image/manage.ts";
import { loadCommand, pullCommand, pushCommand, saveCommand } from "./commands/image/transfer.ts";
import { networkCommands } from "./commands/network/network.ts";
import { inspectCommand, typedInspectCommand } from "./commands/system/inspect.ts";
import { dfCommand, infoCommand, versionCommand } from "./commands/system/system.ts";
import { FlagError, type FlagSpec, formatFlagHelp, parseFlags } from "./flags.ts";
import { FormatError } from "./format/formatter.ts";
import { TemplateError } from "./format/template.ts";
import { JsonMessageError } from "./streams/jsonmessage.ts";
import { FileOutput, type InputStream, type OutputStream, StdinInput } from "./streams/output.ts";
import {
  type CommandGroup,
  type CommandSpec,
  type DockerCli,
  JoinedError,
  type SignalSource,
  StatusError,
} from "./types.ts";
import { MINI_DOCKER_COMMIT, MINI_DOCKER_VERSION } from "./version.ts";
import { startCliTrace, type TraceSession } from "../trace/session.ts";

const PROGRAM = "mini-docker";

/** Global flags (before the command). */
const GLOBAL_FLAGS: FlagSpec[] = [
  { name: "config", kind: "string", description: "Location of client config files" },
  {
    name: "context",
    short: "c",
    kind: "string",
    description: 'Name of the context to use (only "default")',
  },
  { name: "debug", short: "D", kind: "bool", description: "Enable debug mode" },
  { name: "host", short: "H", kind: "list", description: "Daemon socket to connect to" },
  {
    name: "log-level",
    short: "l",
    kind: "string",
    defaultValue: "info",
    description: 'Set the logging level ("debug", "info", "warn", "error", "fatal")',
  },
  { name: "trace", kind: "bool", description: "Print each step of the request across processes" },
  { name: "version", short: "v", kind: "bool", description: "Print version information and quit" },
];

/** Top-level commands, in `--help` order. */
export const TOP_LEVEL_COMMANDS: CommandSpec[] = [
  runCommand,
  execCommand,
  psCommand,
  imagesCommand,
  pullCommand,
  pushCommand,
  infoCommand,
  versionCommand,
  createCommand,
  startCommand,
  stopCommand,
  restartCommand,
  killCommand,
  waitCommand,
  rmCommand,
  logsCommand,
  portCommand,
  pauseCommand,
  unpauseCommand,
  renameCommand,
  inspectCommand,
  buildCommand,
  historyCommand,
  rmiCommand,
  tagCommand,
  saveCommand,
  loadCommand,
];

function renamed(
  command: CommandSpec,
  name: string,
  usage: string,
  aliases: string[] = [],
): CommandSpec {
  return { ...command, name, usage, aliases };
}

/** Management groups: `mini-docker container ls` etc. */
export const COMMAND_GROUPS: CommandGroup[] = [
  {
    name: "container",
    summary: "Manage containers",
    commands: [
      renamed(createCommand, "create", "container create [OPTIONS] IMAGE [COMMAND] [ARG...]"),
      renamed(execCommand, "exec", "container exec [OPTIONS] CONTAINER COMMAND [ARG...]"),
      typedInspectCommand("container"),
      renamed(killCommand, "kill", "container kill [OPTIONS] CONTAINER [CONTAINER...]"),
      renamed(logsCommand, "logs", "container logs [OPTIONS] CONTAINER"),
      renamed(psCommand, "ls", "container ls [OPTIONS]", ["ps", "list"]),
      renamed(pauseCommand, "pause", "container pause CONTAINER [CONTAINER...]"),
      renamed(portCommand, "port", "container port CONTAINER [PRIVATE_PORT[/PROTO]]"),
      containerPruneCommand,
      renamed(renameCommand, "rename", "container rename CONTAINER NEW_NAME"),
      renamed(restartCommand, "restart", "container restart [OPTIONS] CONTAINER [CONTAINER...]"),
      renamed(rmCommand, "rm", "container rm [OPTIONS] CONTAINER [CONTAINER...]", ["remove"]),
      renamed(runCommand, "run", "container run [OPTIONS] IMAGE [COMMAND] [ARG...]"),
      renamed(startCommand, "start", "container start [OPTIONS] CONTAINER [CONTAINER...]"),
      renamed(stopCommand, "stop", "container stop [OPTIONS] CONTAINER [CONTAINER...]"),
      renamed(unpauseCommand, "unpause", "container unpause CONTAINER [CONTAINER...]"),
      renamed(waitCommand, "wait", "container wait CONTAINER [CONTAINER...]"),
    ],
  },
  {
    name: "image",
    summary: "Manage images",
    commands: [
      renamed(buildCommand, "build", "image build [OPTIONS] PATH | -"),
      renamed(historyCommand, "history", "image history [OPTIONS] IMAGE"),
      typedInspectCommand("image"),
      renamed(loadCommand, "load", "image load [OPTIONS]"),
      imageLsCommand,
      imagePruneCommand,
      renamed(pullCommand, "pull", "image pull [OPTIONS] NAME[:TAG|@DIGEST]"),
      renamed(pushCommand, "push", "image push [OPTIONS] NAME[:TAG]"),
      renamed(rmiCommand, "rm", "image rm [OPTIONS] IMAGE [IMAGE...]", ["rmi", "remove"]),
      renamed(saveCommand, "save", "image save [OPTIONS] IMAGE [IMAGE...]"),
      renamed(tagCommand, "tag", "image tag SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]"),
    ],
  },
  { name: "network", summary: "Manage networks", commands: networkCommands },
  {
    name: "system",
    summary: "Manage Docker",
    commands: [dfCommand, renamed(infoCommand, "info", "system info [OPTIONS]")],
  },
];

/** The real process's signals. */
export const processSignals: SignalSource = {
  listen(signals, handler) {
    const installed: [Deno.Signal, () => void][] = [];
    for (const signal of signals) {
      const listener = () => handler(signal);
      try {
        Deno.addSignalListener(signal, listener);
        installed.push([signal, listener]);
      } catch { /* a signal this platform cannot catch */ }
    }
    return () => {
      for (const [signal, listener] of installed) Deno.removeSignalListener(signal, listener);
    };
  },
};

/** Where the CLI's streams and environment come from (the real process, or a test). */
export interface CliEnvironment {
  in: InputStream;
  out: OutputStream;
  err: OutputStream;
  env: (name: string) => string | undefined;
  signals: SignalSource;
}

/** The real process's streams and environment. */
export function processEnvironment(): CliEnvironment {
  return {
    in: new StdinInput(),
    out: new FileOutput(Deno.stdout),
    err: new FileOutput(Deno.stderr),
    env: (name) => Deno.env.get(name),
    signals: processSignals,
  };
}

function mainHelp(): string {
  const lines = [
    `Usage:  ${PROGRAM} [OPTIONS] COMMAND`,
    "",
    "A docker-like client for mini-dockerd (speaks the Docker Engine API 1.41)",
    "",
    "Commands:",
    ...TOP_LEVEL_COMMANDS.map((command) => `  ${command.name.padEnd(11)} ${command.summary}`),
    "",
    "Management Commands:",
    ...COMMAND_GROUPS.map((group) => `  ${group.name.padEnd(11)} ${group.summary}`),
    "",
    "Global Options:",
    formatFlagHelp(GLOBAL_FLAGS),
    "",
    `The daemon is -H, else $MINI_DOCKER_HOST, else ${DEFAULT_HOST}.`,
    "",
    `Run '${PROGRAM} COMMAND --help' for more information on a command.`,
  ];
  return lines.join("\n") + "\n";
}

function groupHelp(group: CommandGroup): string {
  return [
    `Usage:  ${PROGRAM} ${group.name} COMMAND`,
    "",
    group.summary,
    "",
    "Commands:",
    ...group.commands.map((command) => `  ${command.name.padEnd(11)} ${command.summary}`),
    "",
    `Run '${PROGRAM} ${group.name} COMMAND --help' for more information on a command.`,
    "",
  ].join("\n");
}

function commandHelp(command: CommandSpec): string {
  const lines = [`Usage:  ${PROGRAM} ${command.usage}`, "", command.summary, ""];
  if (command.aliases && command.aliases.length > 0) {
    lines.push("Aliases:", `  ${[command.name, ...command.aliases].join(", ")}`, "");
  }
  if (command.flags.some((flag) => !flag.hidden)) {
    lines.push("Options:", formatFlagHelp(command.flags), "");
  }
  return lines.join("\n");
}

/** Checks the positional argument count the way docker's cli/required.go does. */
function checkArgs(command: CommandSpec, path: string, count: number): void {
  const usageLine = `${PROGRAM} ${command.usage}`;
  const { minArgs, maxArgs } = command;
  const plural = (n: number) => (n === 1 ? "argument" : "arguments");
  let message: string | undefined;
  let hint = "Run";
  if (maxArgs === 0 && count > 0) {
    message = `'${path}' accepts no arguments`;
  } else if (
    minArgs !== undefined && maxArgs !== undefined && minArgs === maxArgs && count !== minArgs
  ) {
    message = `'${path}' requires ${minArgs} ${plural(minArgs)}`;
  } else if (
    minArgs !== undefined && maxArgs !== undefined && (count < minArgs || count > maxArgs)
  ) {
    message = `'${path}' requires at least ${minArgs} and at most ${maxArgs} ${plural(maxArgs)}`;
  } else if (minArgs !== undefined && count < minArgs) {
    message = `'${path}' requires at least ${minArgs} ${plural(minArgs)}`;
    hint = "See";
  } else if (maxArgs !== undefined && count > maxArgs) {
    message = `'${path}' requires at most ${maxArgs} ${plural(maxArgs)}`;
  }
  if (message !== undefined) {
    throw new StatusError(
      `${PROGRAM}: ${message}\n\nUsage:  ${usageLine}\n\n${hint} '${path} --help' for more information`,
      1,
    );
  }
}

/** Finds a command from the words after the global flags. */
function resolveCommand(
  words: string[],
): { command: CommandSpec; path: string; rest: string[] } | string {
  const [first, second, ...after] = words;
  const group = COMMAND_GROUPS.find((candidate) => candidate.name === first);
  if (group) {
    if (second === undefined || second === "--help" || second === "-h" || second === "help") {
      return groupHelp(group);
    }
    const command = group.commands.find((candidate) =>
      candidate.name === second || (candidate.aliases ?? []).includes(second)
    );
    if (!command) {
      throw new StatusError(
        `${PROGRAM}: unknown command: ${PROGRAM} ${group.name} ${second}\n\nUsage:  ${PROGRAM} ${group.name}\n\nRun '${PROGRAM} ${group.name} --help' for more information`,
        1,
      );
    }
    return { command, path: `${PROGRAM} ${group.name} ${command.name}`, rest: after };
  }
  const command = TOP_LEVEL_COMMANDS.find((candidate) => candidate.name === first);
  if (!command) {
    if (first === "builder" || first === "buildx") {
      throw new StatusError(
        `${PROGRAM}: '${first}' is not part of mini-docker's CLI yet; use the real docker CLI against mini-dockerd (DOCKER_HOST=unix://...)`,
        1,
      );
    }
    throw new StatusError(
      `${PROGRAM}: unknown command: ${PROGRAM} ${first}\n\nRun '${PROGRAM} --help' for more information`,
      1,
    );
  }
  return { command, path: `${PROGRAM} ${command.name}`, rest: words.slice(1) };
}

/** Prints an error the way docker does and returns the exit status. */
function reportError(err: OutputStream, error: unknown): number {
  if (error instanceof StatusError) {
    if (error.message !== "") err.write(`${error.message}\n`);
    return error.exitCode;
  }
  if (error instanceof FormatError) {
    err.write(`${error.message}\n`);
    return error.exitCode;
  }
  if (
    error instanceof DaemonError || error instanceof ConnectionError ||
    error instanceof JoinedError ||
    error instanceof JsonMessageError || error instanceof TemplateError
  ) {
    err.write(`${error.message}\n`);
    return 1;
  }
  if (error instanceof Deno.errors.NotFound || error instanceof Deno.errors.PermissionDenied) {
    err.write(`${error.message}\n`);
    return 1;
  }
  err.write(`${error instanceof Error ? error.message : String(error)}\n`);
  return 1;
}

/** Runs mini-docker with `args`; returns the exit status. */
export async function runDocker(
  args: string[],
  environment: CliEnvironment = processEnvironment(),
): Promise<number> {
  const { out, err } = environment;
  let client: EngineClient | undefined;
  let traceSession: TraceSession | undefined;
  try {
    // Global flags stop at the first word that is not a flag (the command).
    let commandIndex = 0;
    const flagsWithValues = new Set([
      "--config",
      "--context",
      "-c",
      "--host",
      "-H",
      "--log-level",
      "-l",
    ]);
    while (
      commandIndex < args.length && args[commandIndex].startsWith("-") &&
      args[commandIndex] !== "--"
    ) {
      const arg = args[commandIndex];
      if (flagsWithValues.has(arg)) commandIndex++;
      commandIndex++;
    }
    let global;
    try {
      global = parseFlags(args.slice(0, commandIndex), GLOBAL_FLAGS);
    } catch (error) {
      if (error instanceof FlagError) {
        throw new StatusError(
          `${error.message}\n\nUsage:  ${PROGRAM} [OPTIONS] COMMAND [ARG...]\n\nRun '${PROGRAM} --help' for more information`,
          125,
        );
      }
      throw error;
    }
    if (global.values.version) {
      out.write(`${PROGRAM} version ${MINI_DOCKER_VERSION}, build ${MINI_DOCKER_COMMIT}\n`);
      return 0;
    }
    const words = args.slice(commandIndex);
    if (global.help || words.length === 0 || words[0] === "help" || words[0] === "--help") {
      (words.length === 0 && !global.help ? err : out).write(mainHelp());
      return 0;
    }
    const hosts = global.values.host as string[];
    if (hosts.length > 1) throw new StatusError("Specify only one -H", 1);
    const context = global.values.context as string;
    if (context !== "" && context !== "default") {
      throw new StatusError(
        `context "${context}" does not exist (mini-docker only has "default")`,
        1,
      );
    }
    const hostText = hosts[0] ?? environment.env("MINI_DOCKER_HOST") ?? DEFAULT_HOST;
    const endpoint = (() => {
      try {
        return parseHost(hostText);
      } catch (error) {
        throw new StatusError((error as Error).message, 1);
      }
    })();
    const debug = (global.values.debug as boolean) || global.values["log-level"] === "debug";

    const resolved = resolveCommand(words);
    if (typeof resolved === "string") {
      out.write(resolved);
      return 0;
    }
    const { command, path, rest } = resolved;
    let parsed;
    try {
      parsed = parseFlags(rest, command.flags, command.interspersed ?? true);
    } catch (error) {
      if (error instanceof FlagError) {
        throw new StatusError(
          `${error.message}\n\nUsage:  ${PROGRAM} ${command.usage}\n\nRun '${path} --help' for more information`,
          125,
        );
      }
      throw error;
    }
    if (parsed.help) {
      out.write(commandHelp(command));
      return 0;
    }
    checkArgs(command, path, parsed.positional.length);

    traceSession = await startCliTrace(global.values.trace === true, environment, PROGRAM, args);
    const cli: DockerCli = {
      programName: PROGRAM,
      host: endpoint.text,
      in: environment.in,
      out,
      err,
      signals: environment.signals,
      debug,
      client() {
        if (!client) {
          client = new EngineClient(endpoint);
          if (debug) client.debugLog = (line) => err.write(`DEBU[mini-docker] ${line}\n`);
        }
        return client;
      },
    };
    const status = await command.run(cli, parsed);
    return status ?? 0;
  } catch (error) {
    return reportError(err, error);
  } finally {
    client?.close();
    await traceSession?.stop();
  }
}
