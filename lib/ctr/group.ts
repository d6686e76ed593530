// What this teaches: command groups such as `mini-ctr images ls` dispatch on their
// first argument, with aliases (`ls`/`list`, `rm`/`remove`/`delete`) as ctr has them.
// Mirrors urfave/cli's `Subcommands` as containerd's cmd/ctr/commands/*/ declare them.

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
      return await sub.run(rest, context);
    },
  };
}
