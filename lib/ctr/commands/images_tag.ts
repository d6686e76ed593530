// What this teaches: a tag is just another image record pointing at the same target,
// so tagging copies no bytes. Mirrors `tagCommand` (its `--local` path) of
// containerd's `cmd/ctr/commands/images/tag.go`.

import { parseArgs } from "node:util";
import { isErrorCode } from "../../api/errors.ts";
import { parseNormalizedNamed } from "../../reference/normalize.ts";
import type { CtrSubcommand } from "../types.ts";
import { UsageError } from "../types.ts";

export const tagSubcommand: CtrSubcommand = {
  name: "tag",
  aliases: [],
  summary: "tag an image: tag [--force] SOURCE TARGET [TARGET...]",
  async run(args, { client }) {
    const { values, positionals } = parseArgs({
      args,
      options: { force: { type: "boolean" } },
      allowPositionals: true,
    });
    const [source, ...targets] = positionals;
    if (!source) throw new UsageError("please provide an image reference to tag from");
    if (targets.length === 0) throw new UsageError("please provide an image reference to tag to");
    const image = await client.images.get(source);
    for (const target of targets) {
      try {
        parseNormalizedNamed(target);
      } catch (error) {
        throw new UsageError(
          `error parsing reference: "${target}" is not a valid repository/tag: ${
            error instanceof Error ? error.message : error
          }`,
        );
      }
      const record = { name: target, target: image.target, labels: image.labels };
      try {
        await client.images.create(record);
      } catch (error) {
        if (!values.force || !isErrorCode(error, "already_exists")) throw error;
        // --force: replace whatever the target name pointed at.
        await client.images.delete(target);
        await client.images.create(record);
      }
      console.log(target);
    }
    return 0;
  },
};
