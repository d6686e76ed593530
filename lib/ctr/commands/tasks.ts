// What this teaches: `ctr tasks` works on the running side: start a created container's
// task, list tasks with their pid and status, signal them, run extra processes inside
// (exec), list a task's processes, attach to its output, and delete stopped tasks.
// Mirrors containerd's `cmd/ctr/commands/tasks/*.go` (start, list, kill, exec, ps,
// delete, attach, pause, resume).

import { parseArgs } from "node:util";
import { isErrorCode } from "../../api/errors.ts";
import { AttachedIo, FifoSet } from "../../client/cio.ts";
import type { ContainerdClient } from "../../client/client.ts";
import { parseSignal } from "../../linux/signals.ts";
import { mergeEnv } from "../../oci_spec/options.ts";
import type { Process } from "../../oci_spec/types.ts";
import { commandGroup } from "../group.ts";
import { formatTable } from "../table.ts";
import { type FlagSpec, UsageError } from "../types.ts";
import { forwardSignals, parseLeadingFlags, runTaskAttached, startTerminalSession } from "./run.ts";

/**
 * Copies a process's output to this terminal until it exits; returns its exit status.
 * `register` hands the FIFOs to the daemon (Exec or Attach); `start` then runs the
 * process, after the Wait is in place so an instant exit is not missed.
 */
async function attachAndWait(
  client: ContainerdClient,
  id: string,
  steps: { register: (fifos: FifoSet) => Promise<void>; start?: () => Promise<void> },
  execId?: string,
  options: { stdin?: boolean; terminal?: boolean } = {},
): Promise<number> {
  const terminal = options.terminal ?? false;
  const fifos = await FifoSet.create(execId ?? id, { stdin: options.stdin ?? true, terminal });
  const io = new AttachedIo(fifos, {
    stdin: Deno.stdin.readable,
    stdout: Deno.stdout.writable,
    stderr: Deno.stderr.writable,
  });
  try {
    let exited;
    try {
      await steps.register(fifos);
      exited = client.tasks.wait(id, execId);
      await steps.start?.();
    } catch (error) {
      io.cancel();
      throw error;
    }
    const stopForwarding = terminal
      ? await startTerminalSession(client, id, execId)
      : forwardSignals(client, id, execId);
    const exit = await exited;
    stopForwarding();
    await io.done;
    io.closeStdin();
    return exit.exitStatus;
  } finally {
    await fifos.remove();
  }
}

/** The process spec of an exec: the container's own process, with new args, env, cwd. */
async function execProcessSpec(
  client: ContainerdClient,
  id: string,
  command: string[],
  env: string[],
  cwd: string | undefined,
  user: string | undefined,
): Promise<Process> {
  const container = await client.containers.get(id);
  const base = container.spec.process ?? { user: { uid: 0, gid: 0 }, args: [], cwd: "/" };
  const process: Process = {
    ...base,
    terminal: false,
    args: command,
    env: mergeEnv(base.env ?? [], env),
    cwd: cwd ?? base.cwd,
  };
  if (user) {
    const [uid, gid] = user.split(":");
    if (!/^\d+$/.test(uid) || (gid !== undefined && !/^\d+$/.test(gid))) {
      throw new UsageError(`--user must be UID[:GID] in numbers, got "${user}"`);
    }
    process.user = { uid: Number(uid), gid: gid === undefined ? 0 : Number(gid) };
  }
  return process;
}

/** The flags of `tasks exec`, before the container ID and the process's command line. */
const execFlags: FlagSpec[] = [
  { name: "exec-id", takesValue: true },
  { name: "detach", short: "d" },
  { name: "tty", short: "t" },
  { name: "env", takesValue: true, multiple: true },
  { name: "cwd", takesValue: true },
  { name: "user", short: "u", takesValue: true },
];

export const tasksCommand = commandGroup(
  "tasks",
  ["t", "task"],
  "manage tasks",
  [
    {
      name: "start",
      aliases: [],
      summary: "start a container's task: start [-d] CONTAINER",
      async run(args, { client }) {
        const flags = parseLeadingFlags(args, [{ name: "detach", short: "d" }]);
        const [id] = flags.positionals;
        if (!id) throw new UsageError("container ID must be provided");
        if (flags.booleans.has("detach")) {
          await client.tasks.create({ containerId: id });
          try {
            await client.tasks.start(id);
          } catch (error) {
            await client.tasks.delete(id).catch(() => {});
            throw error;
          }
          return 0;
        }
        return await runTaskAttached(client, id);
      },
    },
    {
      name: "list",
      aliases: ["ls"],
      summary: "list tasks: ls [-q]",
      async run(args, { client }) {
        const { values } = parseArgs({
          args,
          options: { quiet: { type: "boolean", short: "q" } },
        });
        const tasks = await client.tasks.list();
        if (values.quiet) {
          for (const task of tasks) console.log(task.id);
          return 0;
        }
        console.log(formatTable(
          ["TASK", "PID", "STATUS"],
          tasks.map((task) => [task.id, String(task.pid), task.status.toUpperCase()]),
        ));
        return 0;
      },
    },
    {
      name: "kill",
      aliases: [],
      summary: "signal a task: kill [-s SIGNAL] [-a] [--exec-id ID] CONTAINER",
      async run(args, { client }) {
        const { values, positionals } = parseArgs({
          args,
          options: {
            signal: { type: "string", short: "s", default: "SIGTERM" },
            all: { type: "boolean", short: "a" },
            "exec-id": { type: "string" },
          },
          allowPositionals: true,
        });
        const [id] = positionals;
        if (!id) throw new UsageError("container ID must be provided");
        if (values.all && values["exec-id"]) {
          throw new UsageError("--all and --exec-id cannot be used together");
        }
        let signal: number;
        try {
          signal = parseSignal(values.signal);
        } catch (error) {
          throw new UsageError(error instanceof Error ? error.message : String(error));
        }
        await client.tasks.kill(id, signal, { all: values.all, execId: values["exec-id"] });
        return 0;
      },
    },
    {
      name: "exec",
      leadingFlags: execFlags,
      aliases: [],
      summary: "run a process in a task: exec [-d] [-t] --exec-id ID [--env K=V] CONTAINER CMD...",
      async run(args, { client }) {
        const flags = parseLeadingFlags(args, execFlags);
        const execId = flags.values.get("exec-id")?.[0];
        const [id, ...command] = flags.positionals;
        if (!execId) throw new UsageError("exec-id must be provided");
        if (!id || command.length === 0) {
          throw new UsageError("a container ID and a command must be provided");
        }
        const terminal = flags.booleans.has("tty");
        const spec = await execProcessSpec(
          client,
          id,
          command,
          flags.values.get("env") ?? [],
          flags.values.get("cwd")?.[0],
          flags.values.get("user")?.[0],
        );
        spec.terminal = terminal;
        if (flags.booleans.has("detach")) {
          if (terminal) throw new UsageError("-t needs this terminal: it cannot be used with -d");
          await client.tasks.exec({ containerId: id, execId, spec });
          await client.tasks.start(id, execId);
          return 0;
        }
        let registered = false;
        try {
          return await attachAndWait(
            client,
            id,
            {
              register: async (fifos) => {
                await client.tasks.exec({ containerId: id, execId, spec, stdio: fifos.stdio });
                registered = true;
              },
              start: async () => {
                await client.tasks.start(id, execId);
              },
            },
            execId,
            { terminal },
          );
        } finally {
          if (registered) await client.tasks.deleteProcess(id, execId).catch(() => {});
        }
      },
    },
    {
      name: "ps",
      aliases: [],
      summary: "list the processes of a task: ps CONTAINER",
      async run(args, { client }) {
        const [id] = args;
        if (!id) throw new UsageError("container ID must be provided");
        const processes = await client.tasks.pids(id);
        console.log(formatTable(
          ["PID", "INFO"],
          processes.map((process) => [
            String(process.pid),
            process.execId ? `exec-id=${process.execId}` : "-",
          ]),
        ));
        return 0;
      },
    },
    {
      name: "delete",
      aliases: ["del", "remove", "rm"],
      summary: "delete stopped tasks: rm [-f] CONTAINER... (-f kills a running one first)",
      async run(args, { client }) {
        const { values, positionals } = parseArgs({
          args,
          options: { force: { type: "boolean", short: "f" } },
          allowPositionals: true,
        });
        if (positionals.length === 0) throw new UsageError("container ID must be provided");
        let exitCode = 0;
        for (const id of positionals) {
          try {
            if (values.force) {
              const task = await client.tasks.get(id);
              if (task.status !== "stopped") {
                const exited = client.tasks.wait(id);
                await client.tasks.kill(id, 9, { all: true }).catch((error) => {
                  if (!isErrorCode(error, "not_found")) throw error;
                });
                await exited;
              }
            }
            const exit = await client.tasks.delete(id);
            console.log(`${id} exited with status ${exit.exitStatus}`);
          } catch (error) {
            console.error(
              `ctr: unable to delete ${id}: ${error instanceof Error ? error.message : error}`,
            );
            exitCode = 1;
          }
        }
        return exitCode;
      },
    },
    {
      name: "attach",
      aliases: [],
      summary: "attach to a running task's output and stdin: attach CONTAINER",
      async run(args, { client }) {
        const [id] = args;
        if (!id) throw new UsageError("container ID must be provided");
        // A task started without stdin (-d) has none to attach to.
        const task = await client.tasks.get(id);
        return await attachAndWait(
          client,
          id,
          {
            register: (fifos) => client.tasks.attach(id, fifos.stdio),
          },
          undefined,
          { stdin: Boolean(task.stdio.stdin), terminal: Boolean(task.stdio.terminal) },
        );
      },
    },
    {
      name: "pause",
      aliases: [],
      summary: "pause a task (freezer cgroup): pause CONTAINER",
      async run(args, { client }) {
        if (!args[0]) throw new UsageError("container ID must be provided");
        await client.tasks.pause(args[0]);
        return 0;
      },
    },
    {
      name: "resume",
      aliases: [],
      summary: "resume a paused task: resume CONTAINER",
      async run(args, { client }) {
        if (!args[0]) throw new UsageError("container ID must be provided");
        await client.tasks.resume(args[0]);
        return 0;
      },
    },
  ],
);
