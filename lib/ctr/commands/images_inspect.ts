// What this teaches: what an image record actually points at. `inspect` prints the
// descriptor tree from the record's target down: index → manifests (with their
// platforms) → config and layers, as containerd 2.x's `ctr images inspect` does;
// `--content` adds each JSON blob and its content labels (the gc.ref edges), and
// `--json` prints the record with the manifest and config resolved for one platform.
// Mirrors `inspectCommand` of containerd's `cmd/ctr/commands/images/inspect.go` and
// the `ImageTreePrinter` of `pkg/display/manifest_printer.go`.

import { parseArgs } from "node:util";
import { isErrorCode } from "../../api/errors.ts";
import type { ContentApi } from "../../content/types.ts";
import { resolveImage } from "../../images/image.ts";
import { parseImageIndex, parseImageManifest } from "../../images/manifest.ts";
import { isIndexType, isManifestType } from "../../images/media_types.ts";
import type { Descriptor, Image } from "../../images/types.ts";
import { readSmallBlob } from "../../images/walk.ts";
import { defaultPlatformMatcher, onlyPlatform } from "../../platforms/compare.ts";
import { formatPlatform, parsePlatform } from "../../platforms/parse.ts";
import type { CtrSubcommand } from "../types.ts";
import { UsageError } from "../types.ts";

/** The line-drawing pieces of the tree; all four are the same width. */
const tree = { middle: "├── ", last: "└── ", skip: "│   ", spacer: "    " };

type TreeContent = Pick<ContentApi, "readAll" | "info">;

/** Prints an image's descriptor tree, line by line, through `print`. */
export class ImageTreePrinter {
  constructor(
    private readonly content: TreeContent,
    private readonly verbose: boolean,
    private readonly print: (line: string) => void = console.log,
  ) {}

  async printImage(image: Image): Promise<void> {
    this.print(image.name);
    this.print(`${tree.skip} Created: ${image.createdAt}`);
    this.print(`${tree.skip} Updated: ${image.updatedAt}`);
    for (const [key, value] of Object.entries(image.labels).sort()) {
      this.print(`${tree.skip} Label ${JSON.stringify(key)}: ${JSON.stringify(value)}`);
    }
    await this.#printNode(image.target, tree.last, tree.spacer);
  }

  async #printNode(descriptor: Descriptor, prefix: string, childPrefix: string): Promise<void> {
    let branch = childPrefix + tree.middle;
    let under = childPrefix + tree.skip;
    this.print(`${prefix}${describe(descriptor)}`);
    if (descriptor.platform?.architecture) {
      this.print(`${under} Platform: ${formatPlatform(descriptor.platform)}`);
    }
    let bytes: Uint8Array;
    try {
      bytes = await readSmallBlob(this.content, descriptor);
    } catch (error) {
      if (!isErrorCode(error, "not_found")) throw error;
      // A partial image (say, one platform of an index) still shows what is here.
      this.print(`${childPrefix}${tree.last} Content does not exist locally, skipping`);
      return;
    }
    await this.#showContent(descriptor, under, bytes);
    if (isManifestType(descriptor.mediaType)) {
      const manifest = parseImageManifest(bytes, descriptor);
      if (manifest.layers.length === 0) {
        branch = childPrefix + tree.last;
        under = childPrefix + tree.spacer;
      }
      this.print(`${branch}${describe(manifest.config)}`);
      await this.#showContent(manifest.config, under);
      for (const [index, layer] of manifest.layers.entries()) {
        if (index === manifest.layers.length - 1) branch = childPrefix + tree.last;
        this.print(`${branch}${describe(layer)}`);
      }
    } else if (isIndexType(descriptor.mediaType)) {
      const index = parseImageIndex(bytes, descriptor);
      for (const [position, child] of index.manifests.entries()) {
        if (position === index.manifests.length - 1) {
          branch = childPrefix + tree.last;
          under = childPrefix + tree.spacer;
        }
        await this.#printNode(child, branch, under);
      }
    }
  }

  /** With --content: the blob's content labels and, for JSON blobs, the JSON itself. */
  async #showContent(descriptor: Descriptor, prefix: string, bytes?: Uint8Array): Promise<void> {
    if (!this.verbose) return;
    try {
      const info = await this.content.info(descriptor.digest);
      const labels = Object.entries(info.labels).sort();
      if (labels.length > 0) {
        this.print(`${prefix}┌────────Labels─────────`);
        for (const [key, value] of labels) {
          this.print(`${prefix}│${JSON.stringify(key)}: ${JSON.stringify(value)}`);
        }
        this.print(`${prefix}└───────────────────────`);
      }
      if (descriptor.mediaType.endsWith("json")) {
        const json = bytes ?? await readSmallBlob(this.content, descriptor);
        const text = JSON.stringify(JSON.parse(new TextDecoder().decode(json)), null, 3);
        this.print(`${prefix}┌────────Content────────`);
        for (const line of text.split("\n")) this.print(`${prefix}│${line}`);
        this.print(`${prefix}└───────────────────────`);
      }
    } catch (error) {
      if (!isErrorCode(error, "not_found")) throw error;
    }
  }
}

function describe(descriptor: Descriptor): string {
  return `${descriptor.mediaType} @${descriptor.digest} (${descriptor.size} bytes)`;
}

export const inspectSubcommand: CtrSubcommand = {
  name: "inspect",
  aliases: ["i"],
  summary: "inspect an image: inspect [--content] [--json [--platform P]] REF",
  async run(args, { client }) {
    const { values, positionals } = parseArgs({
      args,
      options: {
        content: { type: "boolean" },
        json: { type: "boolean" },
        platform: { type: "string" },
      },
      allowPositionals: true,
    });
    const [ref] = positionals;
    if (!ref) throw new UsageError("please provide an image reference to inspect");
    const image = await client.images.get(ref);
    if (!values.json) {
      await new ImageTreePrinter(client.content, values.content === true).printImage(image);
      return 0;
    }
    const platform = values.platform
      ? onlyPlatform(parsePlatform(values.platform))
      : defaultPlatformMatcher();
    const resolved = await resolveImage(client.content, image.target, platform);
    console.log(JSON.stringify(
      {
        image,
        indexes: resolved.indexes.map(({ descriptor, index }) => ({ descriptor, index })),
        manifestDescriptor: resolved.manifestDescriptor,
        manifest: resolved.manifest,
        config: resolved.config,
      },
      null,
      2,
    ));
    return 0;
  },
};
