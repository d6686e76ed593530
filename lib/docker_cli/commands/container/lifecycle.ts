// What this teaches: the small container commands are thin wrappers over one API call
// each, run for every named container at once (docker runs up to 50 in parallel, so
// `docker rm -f a b c` sends three DELETEs on three connections) and reported in the
// order given: the name on stdout for each success, the daemon's error for each
// failure, exit status 1 if any failed. `stop -t N` becomes `?t=N`, `kill -s HUP`
// becomes `?signal=HUP`, `rm -f -v` becomes `?force=1&v=1`.
// Mirrors docker/cli's cli/command/container/{stop,kill,restart,wait,rm,prune,port,
// pause,unpause,rename}.go and utils.go (parallelOperation).

import { DaemonError } from "../../client/engine.ts";
import type { ContainerInspect, WaitResponse } from "../../client/types.ts";
import type { ParsedFlags } from "../../flags.ts";
import { joinHostPort } from "../../format/container.ts";
import { naturalLess } from "../../format/network.ts";
import { humanSize } from "../../format/units.ts";
import { type CommandSpec, type DockerCli, JoinedError, StatusError } from "../../types.ts";
import { filtersQuery } from "../filters.ts";
import { confirm } from "../prompt.ts";

/** Runs `operation` on every target concurrently; returns results in the original order. */
async function forEachConcurrently(
  targets: string[],
  operation: (target: string) => Promise<void>,
): Promise<(Error | undefined)[]> {
  return await Promise.all(targets.map(async (target) => {
    try {
      await operation(target);
      return undefined;
    } catch (error) {
      return error instanceof Error ? error : new Error(String(error));
    }
  }));
}

/** Prints names that worked and fails with the joined errors of those that did not. */
function report(cli: DockerCli, targets: string[], results: (Error | undefined)[]): number {
  const errors: Error[] = [];
  targets.forEach((target, index) => {
    const error = results[index];
    if (error) errors.push(error);
    else cli.out.write(`${target}\n`);
  });
  if (errors.length > 0) throw new JoinedError(errors);
  return 0;
}

async function runStop(cli: DockerCli, flags: ParsedFlags): Promise<number> {
  const client = cli.client();
  const timeout = flags.changed.has("timeout") || flags.changed.has("time")
    ? (flags.changed.has("timeout") ? flags.values.timeout : flags.values.time) as number
    : undefined;
  const signal = flags.values.signal as string;
  const results = await forEachConcurrently(
    flags.positional,
    (name) =>
      client.call("POST", `/containers/${name}/stop`, {
        query: { t: timeout, signal: signal === "" ? undefined : signal },
      }),
  );
  return report(cli, flags.positional, results);
}

async function runRestart(cli: DockerCli, flags: ParsedFlags): Promise<number> {
  const client = cli.client();
  const timeout = flags.changed.has("timeout") || flags.changed.has("time")
    ? (flags.changed.has("timeout") ? flags.values.timeout : flags.values.time) as number
    : undefined;
  const signal = flags.values.signal as string;
  const results: (Error | undefined)[] = [];
  // Restarts run one after another, as in docker.
  for (const name of flags.positional) {
    try {
      await client.call("POST", `/containers/${name}/restart`, {
        query: { t: timeout, signal: signal === "" ? undefined : signal },
      });
      results.push(undefined);
    } catch (error) {
      results.push(error as Error);
    }
  }
  return report(cli, flags.positional, results);
}

async function runKill(cli: DockerCli, flags: ParsedFlags): Promise<number> {
  const client = cli.client();
  const signal = flags.values.signal as string;
  const results = await forEachConcurrently(
    flags.positional,
    (name) =>
      client.call("POST", `/containers/${name}/kill`, {
        query: { signal: signal === "" ? undefined : signal },
      }),
  );
  return report(cli, flags.positional, results);
}

async function runWait(cli: DockerCli, flags: ParsedFlags): Promise<number> {
  const client = cli.client();
  const errors: Error[] = [];
  for (const name of flags.positional) {
    try {
      const result = await client.json<WaitResponse>("POST", `/containers/${name}/wait`);
      cli.out.write(`${result.StatusCode}\n`);
    } catch (error) {
      errors.push(error as Error);
    }
  }
  if (errors.length > 0) throw new JoinedError(errors);
  return 0;
}

async function runRm(cli: DockerCli, flags: ParsedFlags): Promise<number> {
  const client = cli.client();
  const force = flags.values.force as boolean;
  const results = await forEachConcurrently(flags.positional, async (name) => {
    const trimmed = name.replace(/^\/+|\/+$/g, "");
    if (trimmed === "") throw new Error("container name cannot be empty");
    await client.call("DELETE", `/containers/${trimmed}`, {
      query: {
        v: flags.values.volumes ? true : undefined,
        link: flags.values.link ? true : undefined,
        force: force ? true : undefined,
      },
    });
  });
  const errors: Error[] = [];
  flags.positional.forEach((name, index) => {
    const error = results[index];
    if (!error) cli.out.write(`${name}\n`);
    else if (force && error instanceof DaemonError && error.isNotFound) {
      cli.err.write(`${error.message}\n`);
    } else errors.push(error);
  });
  if (errors.length > 0) throw new JoinedError(errors);
  return 0;
}

async function runContainerPrune(cli: DockerCli, flags: ParsedFlags): Promise<number> {
  if (!flags.values.force) {
    const yes = await confirm(
      cli,
      "WARNING! This will remove all stopped containers.\nAre you sure you want to continue?",
    );
    if (!yes) return 0; // docker treats a "no" as a cancellation, not a failure
  }
  const report = await cli.client().json<
    { ContainersDeleted?: string[] | null; SpaceReclaimed?: number }
  >(
    "POST",
    "/containers/prune",
    { query: { filters: filtersQuery(flags.values.filter as string[]) } },
  );
  const deleted = report?.ContainersDeleted ?? [];
  let reclaimed = 0;
  if (deleted.length > 0) {
    cli.out.write(`Deleted Containers:\n${deleted.map((id) => `${id}\n`).join("")}\n`);
    reclaimed = report.SpaceReclaimed ?? 0;
  }
  cli.out.write(`Total reclaimed space: ${humanSize(reclaimed)}\n`);
  return 0;
}

async function runPort(cli: DockerCli, flags: ParsedFlags): Promise<number> {
  const [name, portSpec] = flags.positional;
  const inspect = await cli.client().json<ContainerInspect>("GET", `/containers/${name}/json`);
  const ports = inspect.NetworkSettings?.Ports ?? {};
  const lines: string[] = [];
  if (portSpec !== undefined) {
    const [port, protocolText] = portSpec.split("/", 2);
    const protocol = protocolText || "tcp";
    if (!/^\d+$/.test(port) || Number(port) > 65535) {
      throw new StatusError(
        `Error: invalid port (${port}): strconv.ParseUint: parsing "${port}": invalid syntax`,
        1,
      );
    }
    const frontends = ports[`${port}/${protocol}`];
    if (!frontends || frontends.length === 0) {
      throw new StatusError(`Error: No public port '${portSpec}' published for ${name}`, 1);
    }
    for (const frontend of frontends) lines.push(joinHostPort(frontend.HostIp, frontend.HostPort));
  } else {
    for (const [from, frontends] of Object.entries(ports)) {
      for (const frontend of frontends ?? []) {
        lines.push(`${from} -> ${joinHostPort(frontend.HostIp, frontend.HostPort)}`);
      }
    }
  }
  lines.sort((a, b) => (naturalLess(a, b) ? -1 : naturalLess(b, a) ? 1 : 0));
  if (lines.length > 0) cli.out.write(`${lines.join("\n")}\n`);
  return 0;
}

function simpleAction(action: string): (cli: DockerCli, flags: ParsedFlags) => Promise<number> {
  return async (cli, flags) => {
    const client = cli.client();
    const results = await forEachConcurrently(
      flags.positional,
      (name) => client.call("POST", `/containers/${name}/${action}`),
    );
    return report(cli, flags.positional, results);
  };
}

const TIMEOUT_FLAGS = [
  {
    name: "signal",
    short: "s",
    kind: "string" as const,
    description: "Signal to send to the container",
  },
  {
    name: "timeout",
    short: "t",
    kind: "int" as const,
    description: "Seconds to wait before killing the container",
  },
  {
    name: "time",
    kind: "int" as const,
    description: "Seconds to wait before killing the container",
    hidden: true,
  },
];

/** `docker stop`. */
export const stopCommand: CommandSpec = {
  name: "stop",
  usage: "stop [OPTIONS] CONTAINER [CONTAINER...]",
  summary: "Stop one or more running containers",
  flags: TIMEOUT_FLAGS,
  minArgs: 1,
  run: runStop,
};

/** `docker restart`. */
export const restartCommand: CommandSpec = {
  name: "restart",
  usage: "restart [OPTIONS] CONTAINER [CONTAINER...]",
  summary: "Restart one or more containers",
  flags: TIMEOUT_FLAGS,
  minArgs: 1,
  run: runRestart,
};

/** `docker kill`. */
export const killCommand: CommandSpec = {
  name: "kill",
  usage: "kill [OPTIONS] CONTAINER [CONTAINER...]",
  summary: "Kill one or more running containers",
  flags: [{
    name: "signal",
    short: "s",
    kind: "string",
    description: "Signal to send to the container",
  }],
  minArgs: 1,
  run: runKill,
};

/** `docker wait`. */
export const waitCommand: CommandSpec = {
  name: "wait",
  usage: "wait CONTAINER [CONTAINER...]",
  summary: "Block until one or more containers stop, then print their exit codes",
  flags: [],
  minArgs: 1,
  run: runWait,
};

/** `docker rm`. */
export const rmCommand: CommandSpec = {
  name: "rm",
  aliases: ["remove"],
  usage: "rm [OPTIONS] CONTAINER [CONTAINER...]",
  summary: "Remove one or more containers",
  flags: [
    {
      name: "force",
      short: "f",
      kind: "bool",
      description: "Force the removal of a running container (uses SIGKILL)",
    },
    { name: "link", short: "l", kind: "bool", description: "Remove the specified link" },
    {
      name: "volumes",
      short: "v",
      kind: "bool",
      description: "Remove anonymous volumes associated with the container",
    },
  ],
  minArgs: 1,
  run: runRm,
};

/** `docker container prune`. */
export const containerPruneCommand: CommandSpec = {
  name: "prune",
  usage: "container prune [OPTIONS]",
  summary: "Remove all stopped containers",
  flags: [
    {
      name: "filter",
      kind: "list",
      valueName: "filter",
      description: 'Provide filter values (e.g. "until=<timestamp>")',
    },
    { name: "force", short: "f", kind: "bool", description: "Do not prompt for confirmation" },
  ],
  maxArgs: 0,
  run: runContainerPrune,
};

/** `docker port`. */
export const portCommand: CommandSpec = {
  name: "port",
  usage: "port CONTAINER [PRIVATE_PORT[/PROTO]]",
  summary: "List port mappings or a specific mapping for the container",
  flags: [],
  minArgs: 1,
  maxArgs: 2,
  run: runPort,
};

/** `docker pause`. */
export const pauseCommand: CommandSpec = {
  name: "pause",
  usage: "pause CONTAINER [CONTAINER...]",
  summary: "Pause all processes within one or more containers",
  flags: [],
  minArgs: 1,
  run: simpleAction("pause"),
};

/** `docker unpause`. */
export const unpauseCommand: CommandSpec = {
  name: "unpause",
  usage: "unpause CONTAINER [CONTAINER...]",
  summary: "Unpause all processes within one or more containers",
  flags: [],
  minArgs: 1,
  run: simpleAction("unpause"),
};

/** `docker rename`. */
export const renameCommand: CommandSpec = {
  name: "rename",
  usage: "rename CONTAINER NEW_NAME",
  summary: "Rename a container",
  flags: [],
  minArgs: 2,
  maxArgs: 2,
  async run(cli, flags) {
    const [oldName, newName] = flags.positional;
    if (oldName.trim() === "" || newName.trim() === "") {
      throw new StatusError("Error: Neither old nor new names may be empty", 1);
    }
    await cli.client().call("POST", `/containers/${oldName}/rename`, { query: { name: newName } });
    return 0;
  },
};
