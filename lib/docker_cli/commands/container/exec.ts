// What this teaches: `docker exec` runs a second process inside a running container in
// three API calls: `POST /containers/{id}/exec` registers the process (command, env,
// user, tty) and returns an exec ID; `POST /exec/{id}/start` starts it and hijacks the
// connection for its streams, like attach; when the streams close, `GET
// /exec/{id}/json` tells the exit code, which becomes the CLI's own. With -d the start
// call returns at once and nothing is attached.
// Mirrors docker/cli's cli/command/container/exec.go.

import type { ExecInspect } from "../../client/types.ts";
import type { ParsedFlags } from "../../flags.ts";
import { DetachedError, parseDetachKeys, streamHijacked } from "../../streams/hijack.ts";
import { type CommandSpec, type DockerCli, StatusError } from "../../types.ts";
import { monitorTtySize } from "./run.ts";

function expandEnv(entries: string[]): string[] {
  return entries.flatMap((entry) => {
    if (entry.includes("=")) return [entry];
    const value = Deno.env.get(entry);
    return value === undefined ? [] : [`${entry}=${value}`];
  });
}

async function runExec(cli: DockerCli, flags: ParsedFlags): Promise<number> {
  const [container, ...command] = flags.positional;
  const values = flags.values;
  const detach = values.detach as boolean;
  const tty = values.tty as boolean;
  const interactive = values.interactive as boolean;
  const client = cli.client();
  const environment = expandEnv(values.env as string[]);
  const options = {
    User: values.user,
    Privileged: values.privileged,
    Tty: tty,
    AttachStdin: !detach && interactive,
    AttachStderr: !detach,
    AttachStdout: !detach,
    Detach: detach,
    DetachKeys: values["detach-keys"],
    Env: environment.length > 0 ? environment : null,
    WorkingDir: values.workdir,
    Cmd: command,
  };
  await client.call("GET", `/containers/${container}/json`);
  if (!detach && tty && interactive && !cli.in.isTerminal) {
    throw new StatusError("the input device is not a TTY", 1);
  }
  const created = await client.json<{ Id: string }>("POST", `/containers/${container}/exec`, {
    json: options,
  });
  if (!created?.Id) throw new StatusError("exec ID empty", 1);
  const execId = created.Id;
  if (detach) {
    await client.call("POST", `/exec/${execId}/start`, { json: { Detach: true, Tty: tty } });
    return 0;
  }
  const connection = await client.hijack(`/exec/${execId}/start`, {
    json: { Detach: false, Tty: tty },
  });
  const pump = streamHijacked({
    connection,
    tty,
    stdin: interactive ? cli.in : undefined,
    stdout: cli.out,
    stderr: tty ? cli.out : cli.err,
    detachKeys: values["detach-keys"]
      ? parseDetachKeys(values["detach-keys"] as string)
      : undefined,
  });
  let stopResize = () => {};
  if (tty && cli.in.isTerminal) stopResize = monitorTtySize(cli, `/exec/${execId}`);
  try {
    await pump;
  } catch (error) {
    if (!(error instanceof DetachedError)) throw error;
    return 0;
  } finally {
    stopResize();
  }
  let inspect: ExecInspect;
  try {
    inspect = await client.json<ExecInspect>("GET", `/exec/${execId}/json`);
  } catch (error) {
    if (error instanceof Error && error.name === "ConnectionError") return 255;
    throw error;
  }
  return inspect.ExitCode ?? 0;
}

/** `docker exec`. */
export const execCommand: CommandSpec = {
  name: "exec",
  usage: "exec [OPTIONS] CONTAINER COMMAND [ARG...]",
  summary: "Execute a command in a running container",
  flags: [
    {
      name: "detach",
      short: "d",
      kind: "bool",
      description: "Detached mode: run command in the background",
    },
    {
      name: "detach-keys",
      kind: "string",
      description: "Override the key sequence for detaching a container",
    },
    { name: "env", short: "e", kind: "list", description: "Set environment variables" },
    {
      name: "interactive",
      short: "i",
      kind: "bool",
      description: "Keep STDIN open even if not attached",
    },
    { name: "privileged", kind: "bool", description: "Give extended privileges to the command" },
    { name: "tty", short: "t", kind: "bool", description: "Allocate a pseudo-TTY" },
    {
      name: "user",
      short: "u",
      kind: "string",
      description: 'Username or UID (format: "<name|uid>[:<group|gid>]")',
    },
    {
      name: "workdir",
      short: "w",
      kind: "string",
      description: "Working directory inside the container",
    },
  ],
  interspersed: false,
  minArgs: 2,
  run: runExec,
};
