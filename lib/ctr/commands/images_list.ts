// What this teaches: `ctr images ls` — each row is an image record, and its SIZE and
// PLATFORMS columns come from walking the image's blobs in the content store (only
// the JSON nodes are read). Mirrors `listCommand` of containerd's
// `cmd/ctr/commands/images/images.go`.

import { parseArgs } from "node:util";
import { formatPlatformsColumn, imagePlatforms, measureImage } from "../../images/image.ts";
import { formatBytes, formatTable } from "../table.ts";
import type { CtrSubcommand } from "../types.ts";

const errorText = (error: unknown) => error instanceof Error ? error.message : String(error);

/** Labels sorted as ctr prints them: `k=v,k2=v2`, or `-`. */
export function formatSortedLabels(labels: Record<string, string>): string {
  const pairs = Object.entries(labels).map(([key, value]) => `${key}=${value}`).sort();
  return pairs.length === 0 ? "-" : pairs.join(",");
}

export const listSubcommand: CtrSubcommand = {
  name: "list",
  aliases: ["ls"],
  summary: "list images known to mini-containerd: ls [-q] [FILTER...]",
  async run(args, { client }) {
    const { values, positionals: filters } = parseArgs({
      args,
      options: { quiet: { type: "boolean", short: "q" } },
      allowPositionals: true,
    });
    const images = await client.images.list(filters);
    if (values.quiet) {
      for (const image of images) console.log(image.name);
      return 0;
    }
    const rows: string[][] = [];
    for (const image of images) {
      // Like ctr, a partially present image still gets a row: the size reached so far
      // and an error on stderr.
      const { size, error } = await measureImage(client.content, image.target);
      if (error !== undefined) {
        console.error(`ctr: failed calculating size for image ${image.name}: ${errorText(error)}`);
      }
      let platforms = "-";
      try {
        platforms = formatPlatformsColumn(await imagePlatforms(client.content, image.target));
      } catch (platformError) {
        console.error(
          `ctr: failed resolving platform for image ${image.name}: ${errorText(platformError)}`,
        );
      }
      rows.push([
        image.name,
        image.target.mediaType,
        image.target.digest,
        formatBytes(size),
        platforms,
        formatSortedLabels(image.labels),
        // ctr ends every row with a tab, so LABELS is padded too.
        "",
      ]);
    }
    console.log(
      formatTable(["REF", "TYPE", "DIGEST", "SIZE", "PLATFORMS", "LABELS", ""], rows),
    );
    return 0;
  },
};
