// What this teaches: removing and naming images. `docker rmi` is `DELETE /images/{name}`
// and the daemon answers with what it did: "Untagged: busybox:latest" (a name removed)
// and "Deleted: sha256:..." (content removed, only once no name points at it). `docker
// tag` adds a name (`POST /images/{src}/tag?repo=...&tag=...`). `docker image prune`
// asks the daemon to delete dangling images (or, with -a, every unused one).
// Mirrors docker/cli's cli/command/image/{remove,tag,prune}.go.

import { parseNormalizedNamed } from "../../../reference/mod.ts";
import { DaemonError } from "../../client/engine.ts";
import type { ParsedFlags } from "../../flags.ts";
import { humanSize } from "../../format/units.ts";
import { type CommandSpec, type DockerCli, JoinedError, StatusError } from "../../types.ts";
import { filtersQuery } from "../filters.ts";
import { confirm } from "../prompt.ts";

interface DeleteItem {
  Untagged?: string;
  Deleted?: string;
}

async function runRmi(cli: DockerCli, flags: ParsedFlags): Promise<number> {
  const force = flags.values.force as boolean;
  const errors: Error[] = [];
  let fatal = false;
  for (const image of flags.positional) {
    try {
      const items = await cli.client().json<DeleteItem[]>("DELETE", `/images/${image}`, {
        query: {
          force: force ? true : undefined,
          noprune: flags.values["no-prune"] ? true : undefined,
        },
      });
      for (const item of items ?? []) {
        if (item.Deleted) cli.out.write(`Deleted: ${item.Deleted}\n`);
        else cli.out.write(`Untagged: ${item.Untagged}\n`);
      }
    } catch (error) {
      if (!(error instanceof DaemonError && error.isNotFound)) fatal = true;
      errors.push(error as Error);
    }
  }
  if (errors.length > 0) {
    if (!force || fatal) throw new JoinedError(errors);
    cli.err.write(`${errors.map((error) => error.message).join("\n")}\n`);
  }
  return 0;
}

async function runTag(cli: DockerCli, flags: ParsedFlags): Promise<number> {
  const [source, target] = flags.positional;
  const invalid = (text: string) => {
    let detail = "invalid reference format";
    const slash = text.indexOf("/");
    if (text.toLowerCase() !== text) {
      const name = text.replace(/[:@].*$/, "");
      detail += `: repository name (${slash === -1 ? `library/${name}` : name}) must be lowercase`;
    }
    return new StatusError(
      `Error parsing reference: "${text}" is not a valid repository/tag: ${detail}`,
      1,
    );
  };
  if (!/^[a-f0-9]{64}$/.test(source)) {
    try {
      parseNormalizedNamed(source);
    } catch {
      throw invalid(source);
    }
  }
  let reference;
  try {
    reference = parseNormalizedNamed(target);
  } catch {
    throw invalid(target);
  }
  if (reference.digest !== undefined) {
    throw new StatusError("refusing to create a tag with a digest reference", 1);
  }
  await cli.client().call("POST", `/images/${source}/tag`, {
    query: { repo: `${reference.domain}/${reference.path}`, tag: reference.tag ?? "latest" },
  });
  return 0;
}

async function runImagePrune(cli: DockerCli, flags: ParsedFlags): Promise<number> {
  const all = flags.values.all as boolean;
  if (!flags.values.force) {
    const warning = all
      ? "WARNING! This will remove all images without at least one container associated to them.\nAre you sure you want to continue?"
      : "WARNING! This will remove all dangling images.\nAre you sure you want to continue?";
    if (!(await confirm(cli, warning))) return 0; // a "no" is a cancellation, exit 0
  }
  const report = await cli.client().json<
    { ImagesDeleted?: DeleteItem[] | null; SpaceReclaimed?: number }
  >(
    "POST",
    "/images/prune",
    {
      query: {
        filters: filtersQuery(flags.values.filter as string[], { dangling: [String(!all)] }),
      },
    },
  );
  const deleted = report?.ImagesDeleted ?? [];
  let reclaimed = 0;
  if (deleted.length > 0) {
    let text = "Deleted Images:\n";
    for (const item of deleted) {
      text += item.Untagged ? `untagged: ${item.Untagged}\n` : `deleted: ${item.Deleted}\n`;
    }
    cli.out.write(`${text}\n`);
    reclaimed = report.SpaceReclaimed ?? 0;
  }
  cli.out.write(`Total reclaimed space: ${humanSize(reclaimed)}\n`);
  return 0;
}

/** `docker rmi`. */
export const rmiCommand: CommandSpec = {
  name: "rmi",
  usage: "rmi [OPTIONS] IMAGE [IMAGE...]",
  summary: "Remove one or more images",
  flags: [
    { name: "force", short: "f", kind: "bool", description: "Force removal of the image" },
    { name: "no-prune", kind: "bool", description: "Do not delete untagged parents" },
  ],
  minArgs: 1,
  run: runRmi,
};

/** `docker tag`. */
export const tagCommand: CommandSpec = {
  name: "tag",
  usage: "tag SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]",
  summary: "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE",
  flags: [],
  minArgs: 2,
  maxArgs: 2,
  run: runTag,
};

/** `docker image prune`. */
export const imagePruneCommand: CommandSpec = {
  name: "prune",
  usage: "image prune [OPTIONS]",
  summary: "Remove unused images",
  flags: [
    {
      name: "all",
      short: "a",
      kind: "bool",
      description: "Remove all unused images, not just dangling ones",
    },
    {
      name: "filter",
      kind: "list",
      valueName: "filter",
      description: 'Provide filter values (e.g. "until=<timestamp>")',
    },
    { name: "force", short: "f", kind: "bool", description: "Do not prompt for confirmation" },
  ],
  maxArgs: 0,
  run: runImagePrune,
};
