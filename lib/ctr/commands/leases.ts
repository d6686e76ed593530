// What this teaches: `ctr leases` — create a lease to protect work in progress from
// garbage collection, list leases, and delete them (optionally waiting for the GC
// that follows). Mirrors containerd's `cmd/ctr/commands/leases/leases.go`.

import { parseArgs } from "node:util";
import { commandGroup } from "../group.ts";
import { formatLabels, formatTable, parseLabelArguments } from "../table.ts";
import { UsageError } from "../types.ts";

const durationUnits: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/** Parses a Go duration such as "24h", "1h30m" or "90s" into milliseconds ("0" is zero). */
export function parseDuration(text: string): number {
  if (text === "0") return 0;
  const pattern = /(\d+(?:\.\d+)?)(ms|s|m|h)/g;
  let total = 0;
  let consumed = 0;
  for (const match of text.matchAll(pattern)) {
    if (match.index !== consumed) break;
    total += Number(match[1]) * durationUnits[match[2]];
    consumed += match[0].length;
  }
  if (consumed === 0 || consumed !== text.length) {
    throw new UsageError(`invalid duration "${text}": use e.g. 24h, 1h30m, 90s or 0 for none`);
  }
  return total;
}

export const leasesCommand = commandGroup(
  "leases",
  [],
  "manage leases",
  [
    {
      name: "create",
      aliases: [],
      summary: "create lease: create [--id ID] [--expires 24h] [k=v...]",
      async run(args, { client }) {
        const { values, positionals } = parseArgs({
          args,
          options: {
            id: { type: "string" },
            expires: { type: "string", short: "x", default: "24h" },
          },
          allowPositionals: true,
        });
        const expiresInMs = parseDuration(values.expires);
        const lease = await client.leases.create({
          id: values.id,
          labels: parseLabelArguments(positionals),
          expiresInMs: expiresInMs > 0 ? expiresInMs : undefined,
        });
        console.log(lease.id);
        return 0;
      },
    },
    {
      name: "list",
      aliases: ["ls"],
      summary: "list all active leases: ls [-q] [FILTER...]",
      async run(args, { client }) {
        const { values, positionals } = parseArgs({
          args,
          options: { quiet: { type: "boolean", short: "q" } },
          allowPositionals: true,
        });
        const leases = await client.leases.list(positionals);
        if (values.quiet) {
          for (const lease of leases) console.log(lease.id);
          return 0;
        }
        console.log(formatTable(
          ["ID", "CREATED AT", "LABELS"],
          leases.map((lease) => [lease.id, lease.createdAt, formatLabels(lease.labels)]),
        ));
        return 0;
      },
    },
    {
      name: "delete",
      aliases: ["del", "remove", "rm"],
      summary: "delete leases: rm [--sync] ID... (--sync waits for garbage collection)",
      async run(args, { client }) {
        const { values, positionals } = parseArgs({
          args,
          options: { sync: { type: "boolean" } },
          allowPositionals: true,
        });
        if (positionals.length === 0) {
          throw new UsageError("at least one lease ID must be provided");
        }
        let exitCode = 0;
        for (const id of positionals) {
          try {
            await client.leases.delete(id, { sync: values.sync });
            console.log(id);
          } catch (error) {
            console.error(
              `ctr: unable to delete lease ${id}: ${
                error instanceof Error ? error.message : error
              }`,
            );
            exitCode = 1;
          }
        }
        return exitCode;
      },
    },
  ],
);
