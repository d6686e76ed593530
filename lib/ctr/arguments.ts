// What this teaches: every mini-ctr subcommand reads its flags the same way: unknown or
// malformed flags are a usage error that repeats the help text, and `--help`/`-h` prints
// the help and exits 0. urfave/cli gives ctr this for free; here it is a few small
// functions: the command groups (group.ts) answer `--help` for every subcommand before
// running it, so no subcommand can forget to.
// Mirrors urfave/cli's flag parsing as used by containerd's `cmd/ctr/commands/*`.

import { parseArgs, type ParseArgsConfig } from "node:util";
import { UsageError } from "./types.ts";

type FlagDefinitions = NonNullable<ParseArgsConfig["options"]>;

/**
 * Parses a subcommand's arguments against its flags (plus `--help`/`-h`). Returns the
 * flags and positionals, or undefined when help was asked for and has been printed.
 * Throws a UsageError, with the usage text, for a flag it does not know.
 */
export function parseSubcommandArguments<const Flags extends FlagDefinitions>(
  args: string[],
  flags: Flags,
  usage: string,
) {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: { ...flags, help: { type: "boolean", short: "h" } },
    });
  } catch (error) {
    throw new UsageError(`${error instanceof Error ? error.message : error}\n\n${usage}`);
  }
  // parseArgs's result type does not see the added flag through the generic spread.
  if ((parsed.values as { help?: boolean }).help) {
    console.log(usage);
    return undefined;
  }
  return parsed;
}

/**
 * True when `args` ask for help: `--help` or `-h` among the flags (before a `--`).
 * With `leadingOnly`, only the flags before the first positional count, because what
 * follows it is a process's command line (`run IMAGE ID sh --help`).
 */
export function asksForHelp(args: readonly string[], leadingOnly = false): boolean {
  for (const argument of args) {
    if (argument === "--") return false;
    if (argument === "--help" || argument === "-h") return true;
    if (leadingOnly && !argument.startsWith("-")) return false;
  }
  return false;
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
