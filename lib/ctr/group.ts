// What this teaches: command groups such as `mini-ctr images ls` dispatch on their
// first argument, with aliases (`ls`/`list`, `rm`/`remove`/`delete`) as ctr has them,
// and answer `--help` for every subcommand (`mini-ctr tasks kill --help`) before it
// runs, as urfave/cli does for ctr; a flag a subcommand does not know is a usage error
// that shows its usage.
// Mirrors urfave/cli's `Subcommands` as containerd's cmd/ctr/commands/*/ declare them.

import { asksForHelp, usageText } from "./arguments.ts";
import type { CtrCommand, CtrContext, CtrSubcommand } from "./types.ts";
import { UsageError } from "./types.ts";

/** Builds a command group from its subcommands. */
export function commandGroup(
  name: string,
  aliases: string[],
  summary: string,
  subcommands: CtrSubcommand[],
): CtrCommand {
  const help = () =>
    [
      `Usage: mini-ctr ${name} COMMAND [options] [arguments...]`,
      "",
      summary,
      "",
      "Commands:",
      ...subcommands.map((sub) =>
        `  ${[sub.name, ...sub.aliases].join(", ").padEnd(24)} ${sub.summary}`
      ),
    ].join("\n");
  return {
    name,
    aliases,
    summary,
    subcommands,
    async run(args: string[], context: CtrContext): Promise<number> {
      const [subName, ...rest] = args;
      if (subName === undefined || subName === "--help" || subName === "-h" || subName === "help") {
        console.log(help());
        return subName === undefined ? 1 : 0;
      }
      const sub = subcommands.find((candidate) =>
        candidate.name === subName || candidate.aliases.includes(subName)
      );
      if (!sub) throw new UsageError(`no such command "${name} ${subName}"\n\n${help()}`);
      if (asksForHelp(rest, sub.passesCommandLine)) {
        console.log(usageText(`${name} ${sub.name}`, sub));
        return 0;
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
}

/** True for the errors node:util's parseArgs throws (unknown flag, missing value...). */
function isFlagParsingError(error: unknown): error is Error {
  return error instanceof Error &&
    String((error as { code?: unknown }).code ?? "").startsWith("ERR_PARSE_ARGS_");
}
