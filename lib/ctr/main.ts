// What this teaches: how ctr reads its global flags (`--address`, `--namespace`,
// with the environment variables CONTAINERD_ADDRESS-style fallbacks) before handing
// the rest of the line to a command. Mirrors containerd's `cmd/ctr/app/main.go`.

import { ApiError } from "../api/errors.ts";
import { ContainerdClient, DEFAULT_ADDRESS } from "../client/client.ts";
import { findCommandEntry } from "./commands/mod.ts";
import { answerHelp } from "./help.ts";
import { UsageError } from "./types.ts";
import { startStderrCliTrace, type TraceSession } from "../trace/session.ts";

interface GlobalOptions {
  address: string;
  namespace: string;
  rest: string[];
  trace?: boolean;
}

/** Reads the global flags that come before the command name. */
export function parseGlobalOptions(args: string[], env: (name: string) => string | undefined) {
  const options: GlobalOptions = {
    address: env("MINI_CONTAINERD_ADDRESS") || DEFAULT_ADDRESS,
    namespace: env("CONTAINERD_NAMESPACE") || "default",
    rest: [],
  };
  let index = 0;
  while (index < args.length && args[index].startsWith("-")) {
    const arg = args[index];
    const [flag, inlineValue] = arg.includes("=") ? arg.split(/=(.*)/s, 2) : [arg, undefined];
    const takeValue = () => {
      if (inlineValue !== undefined) return inlineValue;
      index++;
      if (index >= args.length) throw new UsageError(`flag ${flag} needs a value`);
      return args[index];
    };
    if (flag === "--address" || flag === "-a") options.address = takeValue();
    else if (flag === "--namespace" || flag === "-n") options.namespace = takeValue();
    else if (flag === "--help" || flag === "-h") options.rest = ["--help"];
    else if (flag === "--trace") options.trace = true;
    else throw new UsageError(`flag provided but not defined: ${flag}`);
    if (options.rest[0] === "--help") return options;
    index++;
  }
  options.rest = args.slice(index);
  return options;
}

/** Runs mini-ctr with the given arguments; returns the exit code. */
export async function runCtr(args: string[]): Promise<number> {
  let client: ContainerdClient | undefined;
  let traceSession: TraceSession | undefined;
  try {
    const options = parseGlobalOptions(args, (name) => Deno.env.get(name));
    // Help first, and only there (help.ts): it needs no daemon and no command runs.
    const helpExitCode = await answerHelp(options.rest);
    if (helpExitCode !== undefined) return helpExitCode;
    const [commandName, ...commandArgs] = options.rest;
    const entry = findCommandEntry(commandName);
    if (!entry) throw new UsageError(`no such command "${commandName}"; see mini-ctr --help`);
    const command = await entry.load();
    traceSession = await startStderrCliTrace(options.trace === true, "mini-ctr", args); // lib/trace
    client = new ContainerdClient(options.address, options.namespace);
    return await command.run(commandArgs, {
      client,
      address: options.address,
      namespace: options.namespace,
    });
  } catch (error) {
    if (error instanceof UsageError || error instanceof ApiError) {
      console.error(`ctr: ${error.message}`);
    } else if (error instanceof Error) {
      console.error(`ctr: ${error.message}`);
    } else {
      console.error(`ctr: ${error}`);
    }
    return 1;
  } finally {
    client?.close();
    await traceSession?.stop();
  }
}
