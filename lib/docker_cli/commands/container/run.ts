// What this teaches: `docker run` is not one API call but a small protocol, in this
// order: (1) `POST /containers/create` — on 404 "No such image" the CLI pulls
// (`POST /images/create`) and creates again; (2) if attached, `POST .../attach`
// hijacked BEFORE the container starts, so no output is lost; (3) `POST .../wait?
// condition=next-exit` (or `removed` with --rm), whose headers arrive at once and
// whose body arrives when the container exits; (4) `POST .../start`. The exit status
// comes from the wait body, and signals the CLI receives are forwarded as `POST
// .../kill?signal=...`. `docker create` is step (1); `docker start -a` is (2)-(4).
// Mirrors docker/cli's cli/command/container/run.go, create.go, start.go, utils.go
// (waitExitOrRemoved), tty.go (MonitorTtySize) and signals.go (ForwardAllSignals).

import { familiarString, parseNormalizedNamed, tagNameOnly } from "../../../reference/mod.ts";
import {
  DaemonError,
  type EngineClient,
  type EngineResponse,
  readBody,
} from "../../client/engine.ts";
import type { ContainerInspect, WaitResponse } from "../../client/types.ts";
import type { FlagSpec, ParsedFlags } from "../../flags.ts";
import { DetachedError, parseDetachKeys, streamHijacked } from "../../streams/hijack.ts";
import { displayJsonMessages } from "../../streams/jsonmessage.ts";
import { MemoryOutput } from "../../streams/output.ts";
import { type CommandSpec, type DockerCli, StatusError } from "../../types.ts";
import { buildContainerConfig, CONTAINER_FLAGS, createBody } from "./opts.ts";

/** Flags `create` and `run` add to the container flags. */
const CREATE_ONLY_FLAGS: FlagSpec[] = [
  { name: "name", kind: "string", description: "Assign a name to the container" },
  {
    name: "pull",
    kind: "string",
    defaultValue: "missing",
    description: 'Pull image before running ("always", "missing", "never")',
  },
  { name: "quiet", short: "q", kind: "bool", description: "Suppress the pull output" },
];

const RUN_ONLY_FLAGS: FlagSpec[] = [
  {
    name: "detach",
    short: "d",
    kind: "bool",
    description: "Run container in background and print container ID",
  },
  {
    name: "detach-keys",
    kind: "string",
    description: "Override the key sequence for detaching a container",
  },
  {
    name: "sig-proxy",
    kind: "bool",
    defaultValue: true,
    description: "Proxy received signals to the process",
  },
];

/** Signals forwarded to the container, by Deno name and API name. */
const FORWARDED_SIGNALS: [Deno.Signal, string][] = [
  ["SIGINT", "INT"],
  ["SIGTERM", "TERM"],
  ["SIGHUP", "HUP"],
  ["SIGQUIT", "QUIT"],
  ["SIGUSR1", "USR1"],
  ["SIGUSR2", "USR2"],
];

/** docker's "docker: <error>\n\nRun 'docker run --help'..." wrapping, with an exit status. */
export function runError(
  cli: DockerCli,
  command: string,
  error: unknown,
  status = 125,
): StatusError {
  const message = error instanceof Error ? error.message : String(error);
  let code = status;
  if (/executable file not found|no such file or directory/.test(message)) code = 127;
  else if (/permission denied|is a directory/.test(message)) code = 126;
  return new StatusError(
    `${cli.programName}: ${message}\n\nRun '${cli.programName} ${command} --help' for more information`,
    code,
  );
}

/** Checks a reference the way ParseAnyReference does, with its error wording. */
function namedReference(image: string): string | undefined {
  if (/^(sha256:)?[a-f0-9]{64}$/.test(image)) return undefined; // an image ID: never pulled
  try {
    return familiarString(tagNameOnly(parseNormalizedNamed(image)));
  } catch {
    if (image.toLowerCase() !== image) {
      throw new Error("invalid reference format: repository name must be lowercase");
    }
    throw new Error("invalid reference format");
  }
}

/** `POST /images/create` for a missing image, progress on stderr (run/create). */
export async function pullForCreate(cli: DockerCli, image: string, quiet: boolean): Promise<void> {
  const reference = tagNameOnly(parseNormalizedNamed(image));
  const response = await cli.client().request("POST", "/images/create", {
    query: {
      fromImage: `${reference.domain}/${reference.path}`,
      tag: reference.digest ?? reference.tag ?? "latest",
    },
    headers: { "X-Registry-Auth": "e30=" },
  });
  await displayJsonMessages(response.body, quiet ? new MemoryOutput() : cli.err);
}

/** Creates a container, pulling its image first when needed; returns its ID. */
async function createContainer(
  cli: DockerCli,
  flags: ParsedFlags,
  image: string,
  body: Record<string, unknown>,
): Promise<string> {
  const client = cli.client();
  const pullPolicy = flags.values.pull as string;
  const quiet = flags.values.quiet as boolean;
  const named = namedReference(image);
  const cidFile = flags.values.cidfile as string;
  if (cidFile !== "") {
    try {
      await Deno.stat(cidFile);
      throw new Error(
        `container ID file found, make sure the other container isn't running or delete ${cidFile}`,
      );
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
  }
  if (pullPolicy === "always" && named) await pullForCreate(cli, image, quiet);
  const name = flags.values.name as string;
  const create = () =>
    client.json<{ Id: string; Warnings?: string[] | null }>("POST", "/containers/create", {
      query: { name: name === "" ? undefined : name },
      json: body,
    });
  let created: { Id: string; Warnings?: string[] | null };
  try {
    created = await create();
  } catch (error) {
    if (!(error instanceof DaemonError && error.isNotFound && named && pullPolicy === "missing")) {
      throw error;
    }
    if (!quiet) cli.err.write(`Unable to find image '${named}' locally\n`);
    await pullForCreate(cli, image, quiet);
    created = await create();
  }
  for (const warning of created.Warnings ?? []) cli.err.write(`WARNING: ${warning}\n`);
  if (cidFile !== "") await Deno.writeTextFile(cidFile, created.Id);
  return created.Id;
}

/**
 * Starts `POST /containers/{id}/wait` and returns once its headers arrived; the
 * promise inside resolves with the exit status (125 when waiting failed).
 */
export async function waitExitOrRemoved(
  cli: DockerCli,
  id: string,
  removed: boolean,
): Promise<{ status: Promise<number> }> {
  const response: EngineResponse = await cli.client().request("POST", `/containers/${id}/wait`, {
    query: { condition: removed ? "removed" : "next-exit" },
  });
  const status = (async () => {
    try {
      const text = new TextDecoder().decode(await readBody(response.body));
      const result = JSON.parse(text) as WaitResponse;
      if (result.Error?.Message) {
        cli.err.write(`Error waiting for container: ${result.Error.Message}\n`);
        return 125;
      }
      return result.StatusCode;
    } catch (error) {
      cli.err.write(
        `error waiting for container: ${error instanceof Error ? error.message : error}\n`,
      );
      return 125;
    }
  })();
  return { status };
}

/** Forwards the signals this process gets to the container as `kill` calls. */
export function forwardSignals(cli: DockerCli, client: EngineClient, id: string): () => void {
  let terminations = 0;
  return cli.signals.listen(FORWARDED_SIGNALS.map(([name]) => name), (signal) => {
    const apiName = FORWARDED_SIGNALS.find(([name]) => name === signal)?.[1];
    if (apiName === undefined) return;
    client.call("POST", `/containers/${id}/kill`, { query: { signal: apiName } }).catch(() => {});
    if (signal === "SIGINT" || signal === "SIGTERM") {
      // docker gives up after the third Ctrl-C / SIGTERM, so a stuck daemon cannot trap you.
      if (++terminations >= 3) Deno.exit(signal === "SIGINT" ? 130 : 143);
    }
  });
}

/** Sends the terminal size now and whenever it changes (SIGWINCH). */
export function monitorTtySize(cli: DockerCli, path: string): () => void {
  const resize = () => {
    const [rows, columns] = cli.out.size();
    if (rows === 0 && columns === 0) return;
    cli.client().call("POST", `${path}/resize`, { query: { h: rows, w: columns } }).catch(() => {});
  };
  resize();
  return cli.signals.listen(["SIGWINCH"], resize);
}

/** Attaches to a container (hijack) and returns the running stream pump. */
async function attach(
  cli: DockerCli,
  id: string,
  options: { stdin: boolean; stdout: boolean; stderr: boolean; tty: boolean; detachKeys?: string },
): Promise<{ pump: Promise<void> }> {
  const connection = await cli.client().hijack(`/containers/${id}/attach`, {
    query: {
      stream: true,
      stdin: options.stdin ? true : undefined,
      stdout: options.stdout ? true : undefined,
      stderr: options.stderr ? true : undefined,
      detachKeys: options.detachKeys || undefined,
    },
  });
  const pump = streamHijacked({
    connection,
    tty: options.tty,
    stdin: options.stdin ? cli.in : undefined,
    stdout: options.stdout ? cli.out : undefined,
    stderr: options.stderr ? (options.tty ? cli.out : cli.err) : undefined,
    detachKeys: options.detachKeys ? parseDetachKeys(options.detachKeys) : undefined,
  });
  // Keep a rejection from going unobserved before the caller awaits it.
  pump.catch(() => {});
  return { pump };
}

function checkTty(cli: DockerCli, attachStdin: boolean, tty: boolean): void {
  if (tty && attachStdin && !cli.in.isTerminal) {
    throw new StatusError("the input device is not a TTY", 1);
  }
}

async function runRun(cli: DockerCli, flags: ParsedFlags): Promise<number> {
  const [image, ...command] = flags.positional;
  const detach = flags.values.detach as boolean;
  const pullPolicy = flags.values.pull as string;
  if (!["always", "missing", "never"].includes(pullPolicy)) {
    throw runError(
      cli,
      "run",
      new Error(
        `invalid pull option: '${pullPolicy}': must be one of "always", "missing" or "never"`,
      ),
    );
  }
  let container;
  try {
    container = await buildContainerConfig(flags, image, command, cli.out.size());
  } catch (error) {
    throw runError(cli, "run", error);
  }
  const config = container.config;
  if (!detach) {
    checkTty(cli, config.AttachStdin as boolean, config.Tty as boolean);
  } else {
    if ((flags.values.attach as string[]).length > 0) {
      throw new StatusError("conflicting options: cannot specify both --attach and --detach", 1);
    }
    config.AttachStdin = false;
    config.AttachStdout = false;
    config.AttachStderr = false;
    config.StdinOnce = false;
  }

  let id: string;
  try {
    id = await createContainer(cli, flags, image, createBody(container));
  } catch (error) {
    throw runError(cli, "run", error);
  }
  const client = cli.client();
  const stopForwarding = flags.values["sig-proxy"] ? forwardSignals(cli, client, id) : () => {};
  try {
    const attachStdin = config.AttachStdin as boolean;
    const attachStdout = config.AttachStdout as boolean;
    const attachStderr = config.AttachStderr as boolean;
    const attached = attachStdin || attachStdout || attachStderr;
    const tty = config.Tty as boolean;
    let pump: Promise<void> | undefined;
    if (attached) {
      ({ pump } = await attach(cli, id, {
        stdin: attachStdin,
        stdout: attachStdout,
        stderr: attachStderr,
        tty,
        detachKeys: flags.values["detach-keys"] as string,
      }));
    }
    const autoRemove = (container.hostConfig.AutoRemove as boolean) ?? false;
    const wait = await waitExitOrRemoved(cli, id, autoRemove);
    try {
      await client.call("POST", `/containers/${id}/start`);
    } catch (error) {
      if (pump) {
        await pump.catch(() => {});
      }
      if (autoRemove) await wait.status;
      throw runError(cli, "run", error);
    }
    if (!attached) {
      cli.out.write(`${id}\n`);
      return 0;
    }
    let stopResize = () => {};
    if (tty && cli.out.isTerminal) stopResize = monitorTtySize(cli, `/containers/${id}`);
    try {
      await pump;
    } catch (error) {
      if (error instanceof DetachedError) return 0;
      throw error;
    } finally {
      stopResize();
    }
    const status = await wait.status;
    return status;
  } finally {
    stopForwarding();
  }
}

async function runCreate(cli: DockerCli, flags: ParsedFlags): Promise<number> {
  const [image, ...command] = flags.positional;
  let container;
  try {
    container = await buildContainerConfig(flags, image, command, cli.out.size());
  } catch (error) {
    throw runError(cli, "create", error);
  }
  try {
    const id = await createContainer(cli, flags, image, createBody(container));
    cli.out.write(`${id}\n`);
  } catch (error) {
    throw runError(cli, "create", error);
  }
  return 0;
}

async function runStart(cli: DockerCli, flags: ParsedFlags): Promise<number> {
  const containers = flags.positional;
  const attachOutput = flags.values.attach as boolean;
  const openStdin = flags.values.interactive as boolean;
  const client = cli.client();
  if (attachOutput || openStdin) {
    if (containers.length > 1) {
      throw new StatusError("you cannot start and attach multiple containers at once", 1);
    }
    const inspect = await client.json<ContainerInspect>("GET", `/containers/${containers[0]}/json`);
    const tty = inspect.Config?.Tty ?? false;
    const stopForwarding = tty ? () => {} : forwardSignals(cli, client, inspect.Id);
    try {
      const stdin = openStdin && (inspect.Config?.OpenStdin ?? false);
      const { pump } = await attach(cli, inspect.Id, {
        stdin,
        stdout: true,
        stderr: true,
        tty,
        detachKeys: flags.values["detach-keys"] as string,
      });
      const autoRemove = inspect.HostConfig?.AutoRemove ?? false;
      const wait = await waitExitOrRemoved(cli, inspect.Id, autoRemove);
      try {
        await client.call("POST", `/containers/${inspect.Id}/start`);
      } catch (error) {
        if (autoRemove) await wait.status;
        throw error;
      }
      let stopResize = () => {};
      if (tty && cli.out.isTerminal) stopResize = monitorTtySize(cli, `/containers/${inspect.Id}`);
      try {
        await pump;
      } catch (error) {
        if (error instanceof DetachedError) return 0;
        throw error;
      } finally {
        stopResize();
      }
      return await wait.status;
    } finally {
      stopForwarding();
    }
  }
  const failed: string[] = [];
  for (const container of containers) {
    try {
      await client.call("POST", `/containers/${container}/start`);
      cli.out.write(`${container}\n`);
    } catch (error) {
      cli.err.write(`${error instanceof Error ? error.message : error}\n`);
      failed.push(container);
    }
  }
  if (failed.length > 0) {
    throw new StatusError(`Error: failed to start containers: ${failed.join(", ")}`, 1);
  }
  return 0;
}

/** `docker run`. */
export const runCommand: CommandSpec = {
  name: "run",
  usage: "run [OPTIONS] IMAGE [COMMAND] [ARG...]",
  summary: "Create and run a new container from an image",
  flags: [...RUN_ONLY_FLAGS, ...CREATE_ONLY_FLAGS, ...CONTAINER_FLAGS],
  interspersed: false,
  minArgs: 1,
  run: runRun,
};

/** `docker create`. */
export const createCommand: CommandSpec = {
  name: "create",
  usage: "create [OPTIONS] IMAGE [COMMAND] [ARG...]",
  summary: "Create a new container",
  flags: [...CREATE_ONLY_FLAGS, ...CONTAINER_FLAGS],
  interspersed: false,
  minArgs: 1,
  run: runCreate,
};

/** `docker start`. */
export const startCommand: CommandSpec = {
  name: "start",
  usage: "start [OPTIONS] CONTAINER [CONTAINER...]",
  summary: "Start one or more stopped containers",
  flags: [
    {
      name: "attach",
      short: "a",
      kind: "bool",
      description: "Attach STDOUT/STDERR and forward signals",
    },
    {
      name: "detach-keys",
      kind: "string",
      description: "Override the key sequence for detaching a container",
    },
    { name: "interactive", short: "i", kind: "bool", description: "Attach container's STDIN" },
  ],
  minArgs: 1,
  run: runStart,
};
