// What this teaches: every mini-ctr subcommand reads its flags the same way: unknown or
// malformed flags are a usage error that repeats the help text, and `--help`/`-h` prints
// the help and exits 0. urfave/cli gives ctr this for free; here it is one small function.
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
