// What this teaches: `docker images` is `GET /images/json` (`all=1` with -a, a
// `reference` filter for `docker images busybox`); the CLI turns each image's tags into
// rows. Mirrors docker/cli's cli/command/image/list.go.

import type { ImageSummary } from "../../client/types.ts";
import type { ParsedFlags } from "../../flags.ts";
import { renderFormat, TABLE_FORMAT_KEY } from "../../format/formatter.ts";
import { IMAGE_HEADER, imageFormat, imageRows } from "../../format/image.ts";
import type { CommandSpec, DockerCli } from "../../types.ts";
import { FILTER_FLAG, filtersQuery } from "../filters.ts";

const AMBIGUOUS_NAMES = new Set([
  "build",
  "history",
  "import",
  "inspect",
  "list",
  "load",
  "ls",
  "prune",
  "pull",
  "push",
  "rm",
  "save",
  "tag",
]);

async function runImages(cli: DockerCli, flags: ParsedFlags, calledAs: string): Promise<number> {
  const values = flags.values;
  const matchName = flags.positional[0];
  const images = await cli.client().json<ImageSummary[]>("GET", "/images/json", {
    query: {
      all: values.all ? true : undefined,
      filters: filtersQuery(values.filter as string[], matchName ? { reference: [matchName] } : {}),
    },
  });
  const format = (values.format as string) || TABLE_FORMAT_KEY;
  const digests = values.digests as boolean;
  const template = imageFormat(format, values.quiet as boolean, digests);
  const rows = imageRows(images ?? [], !(values["no-trunc"] as boolean), digests, template);
  cli.out.write(renderFormat(template, rows, IMAGE_HEADER));
  if (
    matchName && (images ?? []).length === 0 && calledAs === "images" &&
    AMBIGUOUS_NAMES.has(matchName)
  ) {
    cli.err.write(
      `\nNo images found matching "${matchName}": did you mean "${cli.programName} image ${matchName}"?\n`,
    );
  }
  return 0;
}

const IMAGE_LIST_FLAGS = [
  {
    name: "all",
    short: "a",
    kind: "bool" as const,
    description: "Show all images (default hides intermediate images)",
  },
  { name: "digests", kind: "bool" as const, description: "Show digests" },
  FILTER_FLAG,
  { name: "format", kind: "string" as const, description: "Format output using a custom template" },
  { name: "no-trunc", kind: "bool" as const, description: "Don't truncate output" },
  { name: "quiet", short: "q", kind: "bool" as const, description: "Only show image IDs" },
];

/** `docker images`. */
export const imagesCommand: CommandSpec = {
  name: "images",
  usage: "images [OPTIONS] [REPOSITORY[:TAG]]",
  summary: "List images",
  flags: IMAGE_LIST_FLAGS,
  maxArgs: 1,
  run: (cli, flags) => runImages(cli, flags, "images"),
};

/** `docker image ls`. */
export const imageLsCommand: CommandSpec = {
  ...imagesCommand,
  name: "ls",
  aliases: ["list"],
  usage: "image ls [OPTIONS] [REPOSITORY[:TAG]]",
  run: (cli, flags) => runImages(cli, flags, "ls"),
};
