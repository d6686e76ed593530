// What this teaches: `ctr content`, the lowest-level view of an image store: raw
// blobs by digest, the ingests in flight, labels, and garbage collection. Table
// columns and size/age formats are ctr's (`units.HumanSize`, `units.HumanDuration`).
// Mirrors containerd's `cmd/ctr/commands/content/content.go`.

import { parseArgs } from "node:util";
import { readableFromSource } from "../../content/file_stream.ts";
import type { ContentInfo } from "../../content/types.ts";
import { commandGroup } from "../group.ts";
import { formatTable, parseLabelArguments } from "../table.ts";
import { UsageError } from "../types.ts";
import { humanDuration, humanSize } from "../../units/mod.ts";

/** Labels as `ctr content ls` prints them: sorted `k=v` joined by commas, or "-". */
function sortedLabels(labels: Record<string, string>): string {
  const pairs = Object.entries(labels).map(([key, value]) => `${key}=${value}`).sort();
  return pairs.length === 0 ? "-" : pairs.join(",");
}

function age(timestamp: string): string {
  return humanDuration(Date.now() - Date.parse(timestamp));
}

function requireDigest(args: string[], usage: string): string {
  const [digest] = args;
  if (!digest) throw new UsageError(`a digest must be provided: ${usage}`);
  return digest;
}

export const contentCommand = commandGroup(
  "content",
  [],
  "manage content",
  [
    {
      name: "list",
      aliases: ["ls"],
      summary: "list all blobs in the store: ls [-q] [FILTER...]",
      async run(args, { client }) {
        const { values, positionals } = parseArgs({
          args,
          options: { quiet: { type: "boolean", short: "q" } },
          allowPositionals: true,
        });
        const blobs: ContentInfo[] = await client.content.list(positionals);
        if (values.quiet) {
          for (const blob of blobs) console.log(blob.digest);
          return 0;
        }
        console.log(formatTable(
          ["DIGEST", "SIZE", "AGE", "LABELS"],
          blobs.map((blob) => [
            blob.digest,
            humanSize(blob.size),
            age(blob.createdAt),
            sortedLabels(blob.labels),
          ]),
        ));
        return 0;
      },
    },
    {
      name: "get",
      aliases: [],
      summary: "get the data for an object: get DIGEST (bytes to stdout)",
      async run(args, { client }) {
        const digest = requireDigest(args, "content get DIGEST");
        const stream = await client.content.read(digest);
        await stream.pipeTo(Deno.stdout.writable, { preventClose: true });
        return 0;
      },
    },
    {
      name: "ingest",
      aliases: [],
      summary: "accept content into the store from stdin: " +
        "ingest [--expected-size N] [--expected-digest D] REF",
      async run(args, { client }) {
        const { values, positionals } = parseArgs({
          args,
          options: {
            "expected-size": { type: "string" },
            "expected-digest": { type: "string" },
          },
          allowPositionals: true,
        });
        const [ref] = positionals;
        if (!ref) throw new UsageError("must specify a transaction reference: content ingest REF");
        const sizeText = values["expected-size"];
        const total = sizeText === undefined ? undefined : Number(sizeText);
        if (total !== undefined && (!Number.isSafeInteger(total) || total < 0)) {
          throw new UsageError(`--expected-size "${sizeText}" is not a byte count`);
        }
        await client.content.write(readableFromSource(Deno.stdin, { closeSource: false }), {
          ref,
          total,
          expected: values["expected-digest"],
        });
        return 0;
      },
    },
    {
      name: "active",
      aliases: [],
      summary: "display active transfers: active [FILTER...]",
      async run(args, { client }) {
        const statuses = await client.content.listStatuses(args);
        console.log(formatTable(
          ["REF", "SIZE", "AGE"],
          statuses.map((status) => [status.ref, humanSize(status.offset), age(status.startedAt)]),
        ));
        return 0;
      },
    },
    {
      name: "delete",
      aliases: ["del", "remove", "rm"],
      summary: "permanently delete one or more blobs: delete DIGEST...",
      async run(args, { client }) {
        if (args.length === 0) throw new UsageError("at least one digest must be provided");
        let exitCode = 0;
        for (const digest of args) {
          try {
            await client.content.delete(digest);
          } catch (error) {
            console.error(
              `ctr: unable to delete ${digest}: ${error instanceof Error ? error.message : error}`,
            );
            exitCode = 1;
          }
        }
        return exitCode;
      },
    },
    {
      name: "label",
      aliases: [],
      summary: "add labels to content: label DIGEST k=v [k2=] (an empty value clears)",
      async run(args, { client }) {
        const digest = requireDigest(args, "content label DIGEST k=v...");
        const labels = parseLabelArguments(args.slice(1));
        if (Object.keys(labels).length === 0) {
          throw new UsageError("at least one label k=v must be provided");
        }
        await client.content.updateLabels(digest, labels, { merge: true });
        return 0;
      },
    },
    {
      name: "prune",
      aliases: [],
      summary: "garbage-collect now: remove content no image, lease or gc.root label keeps",
      async run(_args, { client }) {
        const report = await client.content.collectGarbage();
        for (const node of report.removed) {
          console.log(`removed ${node.type} ${node.key} (namespace ${node.namespace})`);
        }
        for (const item of report.cleaned) console.log(`deleted ${item}`);
        if (report.removed.length === 0 && report.cleaned.length === 0) {
          console.log("nothing to remove");
        }
        return 0;
      },
    },
  ],
);
