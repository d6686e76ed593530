// What this teaches: command groups such as `mini-ctr images ls` dispatch on their
// first argument, with aliases (`ls`/`list`, `rm`/`remove`/`delete`) as ctr has them;
// a flag a subcommand does not know is a usage error that shows its usage. `--help`
// never reaches a group: help.ts has answered it before anything runs.
// Mirrors urfave/cli's `Subcommands` as containerd's cmd/ctr/commands/*/ declare them.

import { findSubcommand, groupHelp, usageText } from "./help.ts";
import type { CtrCommand, CtrContext, CtrSubcommand } from "./types.ts";
import { UsageError } from "./types.ts";

/** Builds a command group from its subcommands. */
export function commandGroup(
  name: string,
  aliases: string[],
  summary: string,
  subcommands: CtrSubcommand[],
): CtrCommand {
  const group: CtrCommand = {
    name,
    aliases,
    summary,
    subcommands,
    async run(args: string[], context: CtrContext): Promise<number> {
      const [subName, ...rest] = args;
      const sub = subName === undefined ? undefined : findSubcommand(group, subName);
      if (!sub) {
        throw new UsageError(`no such command "${name} ${subName ?? ""}"\n\n${groupHelp(group)}`);
      }
      try {
        return await sub.run(rest, context);
      } catch (error) {
        // A flag node:util's parseArgs refused: say so with the usage, as for any
        // usage mistake (subcommands built on parseSubcommandArguments already do).
        if (isFlagParsingError(error)) {
          throw new UsageError(`${error.message}\n\n${usageText(`${name} ${sub.name}`, sub)}`);
        }
        throw error;
      }
    },
  };
  return group;
}

/** True for the errors node:util's parseArgs throws (unknown flag, missing value...). */
function isFlagParsingError(error: unknown): error is Error {
  return error instanceof Error &&
    String((error as { code?: unknown }).code ?? "").startsWith("ERR_PARSE_ARGS_");
}
