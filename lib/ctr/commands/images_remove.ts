// What this teaches: removing an image removes a record, not blobs. The blobs go at
// the next garbage collection, and `--sync` makes the daemon run that collection
// before it answers. Mirrors `removeCommand` of containerd's
// `cmd/ctr/commands/images/images.go` (a missing image is only a warning there too).

import { parseArgs } from "node:util";
import { isErrorCode } from "../../api/errors.ts";
import type { CtrSubcommand } from "../types.ts";
import { UsageError } from "../types.ts";

export const removeSubcommand: CtrSubcommand = {
  name: "delete",
  aliases: ["del", "remove", "rm"],
  summary: "remove one or more images by reference: rm [--sync] REF...",
  async run(args, { client }) {
    const { values, positionals: refs } = parseArgs({
      args,
      options: { sync: { type: "boolean" } },
      allowPositionals: true,
    });
    if (refs.length === 0) throw new UsageError("please provide at least one image reference");
    let exitCode = 0;
    for (const [index, ref] of refs.entries()) {
      // As ctr: only the last delete waits for garbage collection; one pass covers all.
      const sync = values.sync === true && index === refs.length - 1;
      try {
        await client.images.delete(ref, { sync });
        console.log(ref);
      } catch (error) {
        if (isErrorCode(error, "not_found")) {
          // ctr only warns; mini adds the daemon's hint when the normalized name exists.
          const hint = /\(did you mean .*\)$/.exec((error as Error).message)?.[0];
          console.error(`ctr: ${ref}: image not found${hint ? ` ${hint}` : ""}`);
          continue;
        }
        console.error(
          `ctr: unable to delete ${ref}: ${error instanceof Error ? error.message : error}`,
        );
        exitCode = 1;
      }
    }
    return exitCode;
  },
};
