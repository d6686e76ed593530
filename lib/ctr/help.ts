// What this teaches: `--help` is answered in one place, before any command runs and
// before any connection to mini-containerd is made, so no command can forget it and
// help never needs a daemon. The command line is resolved the way it will be run
// (global flags are already gone; then a command, then a group's subcommand), and one
// question is asked of what is left: does it ask for help? For commands whose trailing
// arguments are a process's command line (`run IMAGE ID sh --help`), only the flags
// before the first positional count, skipping the values of the flags that take one
// (`run --env A=1 --help` is mini-ctr's help, `run IMAGE ID sh --help` is the shell's).
// Mirrors urfave/cli's help handling (HelpFlag, ShowCommandHelp, ShowSubcommandHelp)
// as containerd's cmd/ctr/app/main.go uses it.

import { DEFAULT_ADDRESS } from "../client/client.ts";
import { commands, findCommandEntry } from "./commands/mod.ts";
import type { CtrCommand, FlagSpec } from "./types.ts";

/** The words that ask for help in place of a command or subcommand name. */
const HELP_WORDS = new Set(["--help", "-h", "help"]);

/** `mini-ctr --help`: the global flags and every command. */
export function topLevelHelp(): string {
  return [
    "NAME:",
    "   mini-ctr - a ctr-like client for mini-containerd",
    "",
    "USAGE:",
    "   mini-ctr [global options] command [command options] [arguments...]",
    "",
    "COMMANDS:",
    ...commands.map((command) =>
      `   ${[command.name, ...command.aliases].join(", ").padEnd(28)} ${command.summary}`
    ),
    "",
    "GLOBAL OPTIONS:",
    `   --address value, -a value    address of mini-containerd's socket (default: "${DEFAULT_ADDRESS}") [$MINI_CONTAINERD_ADDRESS]`,
    '   --namespace value, -n value  namespace to use with commands (default: "default") [$CONTAINERD_NAMESPACE]',
    "   --trace                      print each step of the request across processes [$MINI_TRACE=1]",
    "   --help, -h                   show help",
  ].join("\n");
}

/** `mini-ctr images --help`: a command group's subcommands. */
export function groupHelp(group: CtrCommand): string {
  return [
    `Usage: mini-ctr ${group.name} COMMAND [options] [arguments...]`,
    "",
    group.summary,
    "",
    "Commands:",
    ...(group.subcommands ?? []).map((sub) =>
      `  ${[sub.name, ...sub.aliases].join(", ").padEnd(24)} ${sub.summary}`
    ),
  ].join("\n");
}

/**
 * The `--help` text of a command: its own usage if it has one, else one built from
 * its summary, whose "what it does: syntax" form gives the usage line
 * ("list tasks: ls [-q]" → "Usage: mini-ctr tasks ls [-q]").
 */
export function usageText(
  path: string,
  command: { name: string; aliases: string[]; summary: string; usage?: string },
): string {
  if (command.usage) return command.usage;
  const separator = command.summary.indexOf(": ");
  const description = separator < 0 ? command.summary : command.summary.slice(0, separator);
  const syntax = separator < 0 ? "" : command.summary.slice(separator + 2);
  const names = [command.name, ...command.aliases];
  const startsWithName = names.some((name) => syntax === name || syntax.startsWith(`${name} `));
  const usageLine = startsWithName
    ? `${path} ${syntax.slice(syntax.split(" ")[0].length).trimStart()}`.trimEnd()
    : `${path} [options] [arguments...]`;
  const lines = [`Usage: mini-ctr ${usageLine}`, "", description];
  if (command.aliases.length > 0) lines.push("", `Aliases: ${command.aliases.join(", ")}`);
  return lines.join("\n");
}

/**
 * True when `args` ask for help: `--help` or `-h` among the flags (before a `--`).
 * With `leadingFlags` (a command whose arguments after the first positional are a
 * process's command line), only the flags before that positional count; the value
 * after a flag that takes one is skipped, not taken for the first positional.
 */
export function asksForHelp(args: readonly string[], leadingFlags?: readonly FlagSpec[]): boolean {
  for (let index = 0; index < args.length; index++) {
    const argument = args[index];
    if (argument === "--") return false;
    if (argument === "--help" || argument === "-h") return true;
    if (!leadingFlags) continue;
    if (!argument.startsWith("-") || argument === "-") return false;
    if (argument.includes("=")) continue;
    const bare = argument.replace(/^--?/, "");
    const spec = leadingFlags.find((candidate) =>
      candidate.name === bare || candidate.short === bare || candidate.aliases?.includes(bare)
    );
    if (spec?.takesValue) index++;
  }
  return false;
}

/** Finds a subcommand of `group` by name or alias. */
export function findSubcommand(group: CtrCommand, name: string) {
  return group.subcommands?.find((candidate) =>
    candidate.name === name || candidate.aliases.includes(name)
  );
}

/**
 * The one place mini-ctr answers help. `words` is the command line after the global
 * flags. Prints the help it asks for and returns the exit code (1 when a command or
 * subcommand name is missing, as ctr does, 0 when help was asked for), or returns
 * undefined when the line does not ask for help and should run. An unknown command or
 * subcommand is not help: running it reports the error.
 */
export async function answerHelp(words: readonly string[]): Promise<number | undefined> {
  const [commandName, ...commandArgs] = words;
  if (commandName === undefined || HELP_WORDS.has(commandName)) {
    console.log(topLevelHelp());
    return commandName === undefined ? 1 : 0;
  }
  const entry = findCommandEntry(commandName);
  if (!entry) return undefined;
  const command = await entry.load();
  if (!command.subcommands) {
    if (!asksForHelp(commandArgs, command.leadingFlags)) return undefined;
    console.log(usageText(command.name, command));
    return 0;
  }
  const [subName, ...subArgs] = commandArgs;
  if (subName === undefined || HELP_WORDS.has(subName)) {
    console.log(groupHelp(command));
    return subName === undefined ? 1 : 0;
  }
  const sub = findSubcommand(command, subName);
  if (!sub || !asksForHelp(subArgs, sub.leadingFlags)) return undefined;
  console.log(usageText(`${command.name} ${sub.name}`, sub));
  return 0;
}
