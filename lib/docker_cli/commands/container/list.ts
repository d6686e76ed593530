// What this teaches: `docker ps` is a single `GET /containers/json` (`all=1` for -a);
// everything else — which columns, truncation, "5 hours ago" — happens in the CLI's
// formatter. Using `.Size` in a --format makes the CLI ask the daemon for sizes
// (`size=1`), which is slower because the daemon must measure each container's layer.
// Mirrors docker/cli's cli/command/container/list.go.

import type { ContainerSummary } from "../../client/types.ts";
import type { ParsedFlags } from "../../flags.ts";
import { CONTAINER_HEADER, ContainerContext, containerFormat } from "../../format/container.ts";
import { renderFormat } from "../../format/formatter.ts";
import { parseDockerTemplate } from "../../format/functions.ts";
import { type CommandSpec, type DockerCli, StatusError } from "../../types.ts";
import { FILTER_FLAG, filtersQuery } from "../filters.ts";

async function runPs(cli: DockerCli, flags: ParsedFlags): Promise<number> {
  const values = flags.values;
  const quiet = values.quiet as boolean;
  const format = values.format as string;
  if (format !== "" && quiet) {
    cli.err.write("WARNING: Ignoring custom format, because both --format and --quiet are set.\n");
  }
  if (format !== "") {
    // docker runs the template once against an empty row first, so template mistakes
    // are reported before any API call.
    let template;
    try {
      template = parseDockerTemplate(format);
    } catch (error) {
      throw new StatusError(`failed to parse template: ${(error as Error).message}`, 1);
    }
    try {
      template.execute(new ContainerContext({ Id: "", Created: 0 }, true));
    } catch (error) {
      throw new StatusError(`failed to execute template: ${(error as Error).message}`, 1);
    }
  }
  let size = values.size as boolean;
  // docker finds out by running the template on a recorder: `.Size` is a use, and so is
  // `{{json .}}`, which marshals every field (the plain `json` format does not).
  const usesSize = format.includes(".Size") || /\{\{-?\s*json\s+\.\s*-?\}\}/.test(format);
  if (format !== "" && !quiet && !size && !flags.changed.has("size") && usesSize) {
    size = true;
  }
  let limit = values.last as number;
  if (values.latest && limit === -1) limit = 1;
  const containers = await cli.client().json<ContainerSummary[]>("GET", "/containers/json", {
    query: {
      all: values.all ? true : undefined,
      limit: limit > 0 ? limit : undefined,
      size: size ? true : undefined,
      filters: filtersQuery(values.filter as string[]),
    },
  });
  const trunc = !(values["no-trunc"] as boolean);
  const rows = (containers ?? []).map((container) => new ContainerContext(container, trunc));
  cli.out.write(renderFormat(containerFormat(format, quiet, size), rows, CONTAINER_HEADER));
  return 0;
}

/** `docker ps` (also `docker container ls`). */
export const psCommand: CommandSpec = {
  name: "ps",
  aliases: ["ls", "list"],
  usage: "ps [OPTIONS]",
  summary: "List containers",
  flags: [
    {
      name: "all",
      short: "a",
      kind: "bool",
      description: "Show all containers (default shows just running)",
    },
    FILTER_FLAG,
    { name: "format", kind: "string", description: "Format output using a custom template" },
    {
      name: "last",
      short: "n",
      kind: "int",
      defaultValue: -1,
      description: "Show n last created containers (includes all states)",
    },
    {
      name: "latest",
      short: "l",
      kind: "bool",
      description: "Show the latest created container (includes all states)",
    },
    { name: "no-trunc", kind: "bool", description: "Don't truncate output" },
    { name: "quiet", short: "q", kind: "bool", description: "Only display container IDs" },
    { name: "size", short: "s", kind: "bool", description: "Display total file sizes" },
  ],
  maxArgs: 0,
  run: runPs,
};
