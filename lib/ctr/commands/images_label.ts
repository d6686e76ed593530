// What this teaches: image labels are metadata on the record (not in the image
// itself), set and cleared through the Images service's update mask. Mirrors
// `setLabelsCommand` of containerd's `cmd/ctr/commands/images/images.go`.

import { parseArgs } from "node:util";
import { parseLabelArguments } from "../table.ts";
import type { CtrSubcommand } from "../types.ts";
import { UsageError } from "../types.ts";

export const labelSubcommand: CtrSubcommand = {
  name: "label",
  aliases: [],
  summary: "set and clear labels for an image: label [-r] NAME k=v [k2=] (empty value clears)",
  async run(args, { client }) {
    const { values, positionals } = parseArgs({
      args,
      options: { "replace-all": { type: "boolean", short: "r" } },
      allowPositionals: true,
    });
    const [name, ...labelArgs] = positionals;
    if (!name) throw new UsageError("please specify an image");
    const labels = parseLabelArguments(labelArgs);
    const replaceAll = values["replace-all"] === true;
    // With nothing to change, show the labels (ctr would send an empty update and fail).
    const updated = labelArgs.length === 0 && !replaceAll
      ? await client.images.get(name)
      : await client.images.update({ name, labels }, fieldPathsFor(labels, replaceAll));
    console.log(
      Object.entries(updated.labels).map(([key, value]) => `${key}=${value}`).sort().join(","),
    );
    return 0;
  },
};

/** `labels.<key>` for each key given, or `labels` (replace them all) with --replace-all. */
function fieldPathsFor(labels: Record<string, string>, replaceAll: boolean): string[] {
  return replaceAll ? ["labels"] : Object.keys(labels).map((key) => `labels.${key}`);
}
