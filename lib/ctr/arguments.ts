// What this teaches: every mini-ctr subcommand reads its flags the same way: unknown or
// malformed flags are a usage error that repeats the help text. urfave/cli gives ctr
// this for free; here it is one small function. `--help`/`-h` is not among the flags:
// help.ts answers it before any command runs, so no subcommand can forget to.
// Mirrors urfave/cli's flag parsing as used by containerd's `cmd/ctr/commands/*`.

import { parseArgs, type ParseArgsConfig } from "node:util";
import { UsageError } from "./types.ts";

type FlagDefinitions = NonNullable<ParseArgsConfig["options"]>;

/**
 * Parses a subcommand's arguments against its flags; returns the flags and positionals.
 * Throws a UsageError, with the usage text, for a flag it does not know.
 */
export function parseSubcommandArguments<const Flags extends FlagDefinitions>(
  args: string[],
  flags: Flags,
  usage: string,
) {
  try {
    return parseArgs({ args, allowPositionals: true, options: flags });
  } catch (error) {
    throw new UsageError(`${error instanceof Error ? error.message : error}\n\n${usage}`);
  }
}
