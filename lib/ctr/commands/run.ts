// What this teaches: what `ctr run` does, one API call at a time. It creates a
// container from an image (unpack if needed, a writable snapshot on the image's
// chainID, a spec from the image config and the flags), creates the task with FIFOs
// for stdio, asks for the exit *before* starting (so a process that ends at once is
// not missed), starts it, forwards signals, copies output until the shim closes the
// FIFOs, and finally deletes the task (and with --rm the container and its snapshot).
// The exit status of the container becomes mini-ctr's own.
// Mirrors containerd's `cmd/ctr/commands/run/run.go` and `run_unix.go` (NewContainer),
// and `cmd/ctr/commands/tasks/start.go`.

import { isErrorCode } from "../../api/errors.ts";
import { AttachedIo, FifoSet } from "../../client/cio.ts";
import type { ContainerdClient } from "../../client/client.ts";
import {
  createContainerFromImage,
  deleteContainerAndSnapshot,
  runtimeInfo,
} from "../../client/containers.ts";
import type { Container } from "../../containers/types.ts";
import { parseSignal } from "../../linux/signals.ts";
import { removeCniForTask, setupCniForTask, type TaskNetworkOptions } from "../../cni/task.ts";
import { generateSpec } from "../../oci_spec/options.ts";
import {
  withEnv,
  withHostHostsFile,
  withHostname,
  withHostNamespace,
  withHostResolvconf,
  withMemoryLimit,
  withProcessArgs,
  withProcessCwd,
  withRootfsPath,
  withTerminal,
  withUser,
} from "../../oci_spec/options.ts";
import type { SpecOption } from "../../oci_spec/types.ts";
import { parseLabelArguments } from "../table.ts";
import type { CtrCommand, FlagSpec } from "../types.ts";
import { UsageError } from "../types.ts";

/** Parsed flags and the positionals after them. */
export interface ParsedFlags {
  values: Map<string, string[]>;
  booleans: Set<string>;
  positionals: string[];
}

/**
 * Parses flags up to the first positional, as urfave/cli does for ctr: everything after
 * `IMAGE ID` is the container's command, even when it looks like a flag (`sh -c ...`).
 */
export function parseLeadingFlags(
  args: readonly string[],
  specs: readonly FlagSpec[],
): ParsedFlags {
  const parsed: ParsedFlags = { values: new Map(), booleans: new Set(), positionals: [] };
  let index = 0;
  while (index < args.length) {
    const argument = args[index];
    if (argument === "--") {
      index++;
      break;
    }
    if (!argument.startsWith("-") || argument === "-") break;
    const [flagText, inline] = argument.includes("=")
      ? [argument.slice(0, argument.indexOf("=")), argument.slice(argument.indexOf("=") + 1)]
      : [argument, undefined];
    const bare = flagText.replace(/^--?/, "");
    const spec = specs.find((candidate) =>
      candidate.name === bare || candidate.short === bare || candidate.aliases?.includes(bare)
    );
    if (!spec) throw new UsageError(`flag provided but not defined: ${flagText}`);
    if (spec.takesValue) {
      const value = inline ?? args[++index];
      if (value === undefined) throw new UsageError(`flag ${flagText} needs a value`);
      const list = parsed.values.get(spec.name) ?? [];
      if (!spec.multiple) list.length = 0;
      list.push(value);
      parsed.values.set(spec.name, list);
    } else {
      if (inline === undefined || inline === "true") parsed.booleans.add(spec.name);
    }
    index++;
  }
  parsed.positionals = args.slice(index);
  return parsed;
}

/** The flags shared by `run` and `containers create` (ctr's ContainerFlags). */
export const containerFlags: FlagSpec[] = [
  { name: "env", takesValue: true, multiple: true },
  { name: "cwd", takesValue: true },
  { name: "memory-limit", takesValue: true },
  { name: "net-host" },
  { name: "runtime-binary", aliases: ["runc-binary"], takesValue: true },
  { name: "snapshotter", takesValue: true },
  { name: "rootfs" },
  { name: "label", takesValue: true, multiple: true },
  { name: "hostname", takesValue: true },
  { name: "user", short: "u", takesValue: true },
  { name: "tty", short: "t" },
];

/** Parses a size in bytes, with an optional k/m/g suffix ("64m"). */
export function parseBytes(text: string): number {
  const match = /^(\d+)([kmg]?)(i?b)?$/i.exec(text.trim());
  if (!match) throw new UsageError(`"${text}" is not a size in bytes (e.g. 67108864 or 64m)`);
  const factor = { "": 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[match[2].toLowerCase()]!;
  return Number(match[1]) * factor;
}

/** Turns container flags into spec options (after the image config). */
export function specOptionsFromFlags(flags: ParsedFlags, command: string[]): SpecOption[] {
  const options: SpecOption[] = [];
  if (flags.booleans.has("tty")) options.push(withTerminal());
  if (command.length > 0) options.push(withProcessArgs(...command));
  const env = flags.values.get("env") ?? [];
  if (env.length > 0) options.push(withEnv(env));
  const cwd = flags.values.get("cwd")?.[0];
  if (cwd) options.push(withProcessCwd(cwd));
  const user = flags.values.get("user")?.[0];
  if (user) options.push(withUser(user));
  const memory = flags.values.get("memory-limit")?.[0];
  if (memory) options.push(withMemoryLimit(parseBytes(memory)));
  const hostname = flags.values.get("hostname")?.[0];
  if (hostname) options.push(withHostname(hostname));
  if (flags.booleans.has("net-host")) {
    options.push(withHostNamespace("network"), withHostHostsFile(), withHostResolvconf());
  }
  return options;
}

/**
 * Creates the container a `run` or `containers create` line describes:
 * `[flags] IMAGE ID [CMD...]`, or with --rootfs `[flags] DIR ID [CMD...]`.
 */
export async function createContainerFromFlags(
  client: ContainerdClient,
  flags: ParsedFlags,
): Promise<Container> {
  const [source, id, ...command] = flags.positionals;
  if (!source || !id) {
    throw new UsageError(
      flags.booleans.has("rootfs")
        ? "a rootfs directory and a container ID must be provided"
        : "an image and a container ID must be provided",
    );
  }
  const specOptions = specOptionsFromFlags(flags, command);
  const labels = parseLabelArguments(flags.values.get("label") ?? []);
  const runtimeBinary = flags.values.get("runtime-binary")?.[0];
  if (flags.booleans.has("rootfs")) {
    // ctr run --rootfs: a directory no snapshotter manages; the command must be given.
    const spec = generateSpec(
      { namespace: client.namespace, id },
      withRootfsPath(await Deno.realPath(source)),
      ...specOptions,
    );
    return await client.containers.create({
      id,
      image: "",
      labels,
      runtime: runtimeInfo(runtimeBinary),
      spec,
    });
  }
  return await createContainerFromImage(client, {
    id,
    image: source,
    specOptions,
    runtimeBinary,
    labels,
    snapshotter: flags.values.get("snapshotter")?.[0],
  });
}

/** Signals a foreground `run` forwards to the container (ctr's ForwardAllSignals). */
const FORWARDED_SIGNALS: Deno.Signal[] = [
  "SIGINT",
  "SIGTERM",
  "SIGHUP",
  "SIGQUIT",
  "SIGUSR1",
  "SIGUSR2",
];

/**
 * Forwards this process's signals to a task (or one of its exec processes) until the
 * returned function is called.
 */
export function forwardSignals(
  client: ContainerdClient,
  id: string,
  execId?: string,
): () => void {
  const listeners = FORWARDED_SIGNALS.map((name) => {
    const listener = () => {
      client.tasks.kill(id, parseSignal(name), { execId }).catch(() => {});
    };
    Deno.addSignalListener(name, listener);
    return [name, listener] as const;
  });
  return () => {
    for (const [name, listener] of listeners) Deno.removeSignalListener(name, listener);
  };
}

/**
 * Puts this terminal in raw mode (keys such as Ctrl-C reach the container as
 * characters) and keeps the container's terminal the size of ours (SIGWINCH). Returns
 * the function that undoes it. Mirrors ctr's console handling (`HandleConsoleResize`).
 */
export async function startTerminalSession(
  client: ContainerdClient,
  id: string,
  execId?: string,
): Promise<() => void> {
  const interactive = Deno.stdin.isTerminal();
  const resize = async () => {
    if (!Deno.stdout.isTerminal()) return;
    const { columns, rows } = Deno.consoleSize();
    await client.tasks.resizePty(id, columns, rows, execId).catch(() => {});
  };
  if (interactive) Deno.stdin.setRaw(true);
  await resize();
  const onResize = () => {
    resize();
  };
  Deno.addSignalListener("SIGWINCH", onResize);
  return () => {
    Deno.removeSignalListener("SIGWINCH", onResize);
    if (interactive) Deno.stdin.setRaw(false);
  };
}

/**
 * Runs a created container's task in the foreground: FIFOs, create, wait, start,
 * copy, delete. With a terminal (the spec says so), this terminal drives it; without,
 * signals are forwarded. Returns the exit status.
 */
export async function runTaskAttached(
  client: ContainerdClient,
  id: string,
  beforeStart?: (pid: number) => Promise<unknown>,
): Promise<number> {
  const container = await client.containers.get(id);
  const terminal = container.spec.process?.terminal === true;
  const fifos = await FifoSet.create(id, { stdin: true, terminal });
  const io = new AttachedIo(fifos, {
    stdin: Deno.stdin.readable,
    stdout: Deno.stdout.writable,
    stderr: Deno.stderr.writable,
  });
  try {
    let created: { pid: number };
    try {
      created = await client.tasks.create({ containerId: id, stdio: fifos.stdio });
    } catch (error) {
      io.cancel();
      throw error;
    }
    const exited = client.tasks.wait(id);
    const stopForwarding = terminal
      ? await startTerminalSession(client, id)
      : forwardSignals(client, id);
    try {
      await beforeStart?.(created.pid);
      await client.tasks.start(id);
    } catch (error) {
      stopForwarding();
      io.cancel();
      await client.tasks.delete(id).catch(() => {});
      throw error;
    }
    const exit = await exited;
    stopForwarding();
    await io.done;
    io.closeStdin();
    await client.tasks.delete(id);
    return exit.exitStatus;
  } finally {
    await fifos.remove();
  }
}

const runFlags: FlagSpec[] = [
  ...containerFlags,
  { name: "rm" },
  { name: "detach", short: "d" },
  { name: "cni" },
  { name: "cni-conf-dir", takesValue: true },
  { name: "cni-bin-dir", takesValue: true },
];

const runUsage = `Usage: mini-ctr run [options] IMAGE|ROOTFS ID [COMMAND] [ARG...]

Runs a container: creates it from IMAGE (unpacking the image if needed), starts its task
and, unless -d, waits for it with its output on this terminal and exits with its status.

Options:
  --rm                      delete the container (and its snapshot) when the task exits
  -d, --detach              start the task and return at once
  --env K=V                 set an environment variable (repeatable)
  --cwd DIR                 working directory inside the container
  -u, --user UID[:GID]      run as this user
  --memory-limit BYTES      memory limit (an OOM kill exits with 137); k/m/g suffixes work
  --net-host                share the host's network namespace
  --cni                     network the container with the CNI plugins of --cni-conf-dir
                            (default /etc/cni/net.d; plugins from --cni-bin-dir, default
                            /opt/cni/bin:/usr/lib/cni)
  --hostname NAME           the container's hostname
  -t, --tty                 give the container a terminal (this one, in raw mode)
  --runtime-binary PATH     the OCI runtime (default mini-runc; alias --runc-binary)
  --snapshotter NAME        snapshotter of the rootfs (default overlayfs)
  --rootfs                  the first argument is a rootfs directory, not an image
  --label K=V               a label on the container (repeatable)`;

export const runCommand: CtrCommand = {
  name: "run",
  aliases: [],
  summary: "run a container: run [--rm] [-d] [--env K=V] IMAGE ID [CMD...]",
  usage: runUsage,
  leadingFlags: runFlags,
  async run(args, { client }) {
    const flags = parseLeadingFlags(args, runFlags);
    const container = await createContainerFromFlags(client, flags);
    const remove = flags.booleans.has("rm");
    const cni: TaskNetworkOptions | undefined = flags.booleans.has("cni")
      ? {
        namespace: client.namespace,
        containerId: container.id,
        confDir: flags.values.get("cni-conf-dir")?.[0],
        binDirs: flags.values.get("cni-bin-dir")?.[0]?.split(":"),
      }
      : undefined;
    const setupNetwork = cni ? (pid: number) => setupCniForTask(cni, pid) : undefined;
    const cleanup = async () => {
      if (cni && !flags.booleans.has("detach")) await removeCniForTask(cni);
      if (!remove) return;
      await deleteContainerAndSnapshot(client, container.id).catch((error) => {
        if (!isErrorCode(error, "not_found")) throw error;
      });
    };
    if (flags.booleans.has("detach")) {
      if (remove) {
        await cleanup();
        throw new UsageError("flags --detach and --rm cannot be used together");
      }
      try {
        const created = await client.tasks.create({ containerId: container.id });
        await setupNetwork?.(created.pid);
        await client.tasks.start(container.id);
      } catch (error) {
        await client.tasks.delete(container.id).catch(() => {});
        throw error;
      }
      return 0;
    }
    try {
      return await runTaskAttached(client, container.id, setupNetwork);
    } finally {
      await cleanup();
    }
  },
};
