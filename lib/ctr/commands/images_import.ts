// What this teaches: `ctr images import`, loading images from a file instead of a
// registry. The archive is streamed (a file or stdin, gzip or plain), its blobs land
// in the content store, each named index entry becomes an image record, and then
// each image is unpacked into snapshots so it can run, printing
// `unpacking <name> (<digest>)...done` as ctr does.
// Mirrors containerd's cmd/ctr/commands/images/import.go (its --local code path).

import { importImages } from "../../image_archive/import.ts";
import type { ImportOptions } from "../../image_archive/types.ts";
import { allPlatforms, defaultPlatform, onlyPlatformStrict } from "../../platforms/compare.ts";
import { parsePlatform } from "../../platforms/parse.ts";
import { unpackImage } from "../../unpack/mod.ts";
import { parseLabelArguments } from "../table.ts";
import { parseSubcommandArguments } from "../arguments.ts";
import type { CtrSubcommand } from "../types.ts";
import { UsageError } from "../types.ts";

const usage = `Usage: mini-ctr images import [options] FILE|-

Import images from a tar stream (an OCI image layout or a docker save archive,
gzip-compressed or not); "-" reads standard input.

For OCI archives whose index only has tags ("latest"), --base-name gives the image
name (foo/bar makes foo/bar:latest); without it names are import-YYYY-MM-DD:<tag>.

Options:
  --base-name NAME      base image name for tag-only references; only images under it are kept
  --digests             also create NAME@sha256:... images for every manifest
  --skip-digest-for-named  with --digests, skip manifests that already got a name
  --index-name NAME     keep the archive's index as an image with this name
  --all-platforms       import content for all platforms
  --platform P          import content for one platform (e.g. linux/arm64)
  --no-unpack           skip unpacking the images
  --label K=V           set a label on the imported images (repeatable)`;

/** Opens the archive named on the command line ("-" is standard input). */
async function openInput(path: string): Promise<ReadableStream<Uint8Array>> {
  if (path === "-") return Deno.stdin.readable;
  try {
    return (await Deno.open(path, { read: true })).readable;
  } catch (error) {
    throw new UsageError(
      `cannot open ${path}: ${error instanceof Error ? error.message : error}`,
    );
  }
}

export const importSubcommand: CtrSubcommand = {
  name: "import",
  usage,
  aliases: [],
  summary: "import images from an OCI or docker save archive",
  async run(args, { client }) {
    const parsed = parseSubcommandArguments(args, {
      "base-name": { type: "string" },
      digests: { type: "boolean" },
      "skip-digest-for-named": { type: "boolean" },
      "index-name": { type: "string" },
      "all-platforms": { type: "boolean" },
      platform: { type: "string" },
      "no-unpack": { type: "boolean" },
      label: { type: "string", multiple: true },
    }, usage);
    const { values, positionals } = parsed;
    if (positionals.length !== 1) {
      throw new UsageError(`expected one archive file or "-"\n\n${usage}`);
    }
    if (values["skip-digest-for-named"] && !values.digests) {
      throw new UsageError("--skip-digest-for-named must be specified with --digests option");
    }
    const platform = values.platform ? parsePlatform(values.platform) : undefined;
    const options: ImportOptions = {
      baseName: values["base-name"],
      indexName: values["index-name"],
      digests: values.digests,
      skipDigestForNamed: values["skip-digest-for-named"],
      labels: values.label ? parseLabelArguments(values.label) : undefined,
      platforms: values["all-platforms"]
        ? allPlatforms
        : platform
        ? onlyPlatformStrict(platform)
        : undefined,
    };
    const result = await importImages(client, await openInput(positionals[0]), options);
    if (values["no-unpack"]) return 0;

    // ctr unpacks every image it created (a by-digest name reuses the same snapshots).
    for (const image of result.images) {
      await Deno.stdout.write(
        new TextEncoder().encode(`unpacking ${image.name} (${image.target.digest})...`),
      );
      await unpackImage(client, image.name, { platform: platform ?? defaultPlatform() });
      console.log("done");
    }
    return 0;
  },
};
