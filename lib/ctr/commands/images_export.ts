// What this teaches: `ctr images export`, writing images to an OCI image-layout tar
// (with a docker manifest.json beside it) that skopeo, umoci, `docker load` and
// `ctr images import` all read. By default only this machine's platform of a
// multi-platform image is included, plus the index that names them all.
// Mirrors containerd's cmd/ctr/commands/images/export.go (its --local code path).

import { exportImages } from "../../image_archive/export.ts";
import { orderedPlatforms } from "../../platforms/compare.ts";
import { parsePlatform } from "../../platforms/parse.ts";
import { parseSubcommandArguments } from "../arguments.ts";
import type { CtrSubcommand } from "../types.ts";
import { UsageError } from "../types.ts";

const usage = `Usage: mini-ctr images export [options] FILE|- IMAGE...

Export images to an OCI tar archive ("-" writes to standard output). A Docker
manifest.json is included for docker load; --skip-manifest-json leaves it out.

Options:
  --platform P          export content for this platform (repeatable; default: this machine's)
  --all-platforms       export content for every platform of an index
  --skip-manifest-json  do not add the Docker-compatible manifest.json`;

export const exportSubcommand: CtrSubcommand = {
  name: "export",
  usage,
  aliases: [],
  summary: "export images to an OCI tar archive",
  async run(args, { client }) {
    const parsed = parseSubcommandArguments(args, {
      platform: { type: "string", multiple: true },
      "all-platforms": { type: "boolean" },
      "skip-manifest-json": { type: "boolean" },
    }, usage);
    const { values, positionals } = parsed;
    const [output, ...names] = positionals;
    if (output === undefined || names.length === 0) {
      throw new UsageError(
        `please provide both an output filename and an image reference to export\n\n${usage}`,
      );
    }
    const platforms = values.platform?.length
      ? orderedPlatforms(...values.platform.map(parsePlatform))
      : undefined;
    // Everything is looked up and checked before the output file is created.
    const archive = await exportImages(client, names, {
      platforms,
      allPlatforms: values["all-platforms"],
      skipManifestJson: values["skip-manifest-json"],
    });
    if (output === "-") {
      await archive.pipeTo(Deno.stdout.writable, { preventClose: true });
      return 0;
    }
    const file = await Deno.open(output, { write: true, create: true, truncate: true });
    try {
      await archive.pipeTo(file.writable);
    } catch (error) {
      // A half-written archive is worse than none.
      await Deno.remove(output).catch(() => {});
      throw error;
    }
    return 0;
  },
};
