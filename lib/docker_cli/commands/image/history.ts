// What this teaches: `docker history IMAGE` reads `GET /images/{name}/history`, one
// entry per build step, newest first. -H=false prints raw byte counts and RFC 3339
// dates instead of "4.26MB" and "2 weeks ago".
// Mirrors docker/cli's cli/command/image/history.go.

import type { HistoryItem } from "../../client/types.ts";
import type { ParsedFlags } from "../../flags.ts";
import { renderFormat, TABLE_FORMAT_KEY } from "../../format/formatter.ts";
import { HISTORY_HEADER, HistoryContext, historyFormat } from "../../format/history.ts";
import type { CommandSpec, DockerCli } from "../../types.ts";

async function runHistory(cli: DockerCli, flags: ParsedFlags): Promise<number> {
  const values = flags.values;
  const history = await cli.client().json<HistoryItem[]>(
    "GET",
    `/images/${flags.positional[0]}/history`,
  );
  const human = values.human as boolean;
  const trunc = !(values["no-trunc"] as boolean);
  const format = historyFormat(
    (values.format as string) || TABLE_FORMAT_KEY,
    values.quiet as boolean,
    human,
  );
  const rows = (history ?? []).map((item) => new HistoryContext(item, trunc, human));
  cli.out.write(renderFormat(format, rows, HISTORY_HEADER));
  return 0;
}

/** `docker history`. */
export const historyCommand: CommandSpec = {
  name: "history",
  usage: "history [OPTIONS] IMAGE",
  summary: "Show the history of an image",
  flags: [
    { name: "format", kind: "string", description: "Format output using a custom template" },
    {
      name: "human",
      short: "H",
      kind: "bool",
      defaultValue: true,
      description: "Print sizes and dates in human readable format",
    },
    { name: "no-trunc", kind: "bool", description: "Don't truncate output" },
    { name: "quiet", short: "q", kind: "bool", description: "Only show image IDs" },
  ],
  minArgs: 1,
  maxArgs: 1,
  run: runHistory,
};
