// What this teaches: `ctr namespaces` — create, list, label and remove the
// containerd namespaces that scope images, content and containers.
// Mirrors containerd's `cmd/ctr/commands/namespaces/namespaces.go`.

import { parseArgs } from "node:util";
import { commandGroup } from "../group.ts";
import { formatLabels, formatTable, parseLabelArguments } from "../table.ts";
import { UsageError } from "../types.ts";

export const namespacesCommand = commandGroup(
  "namespaces",
  ["namespace", "ns"],
  "manage namespaces",
  [
    {
      name: "create",
      aliases: ["c"],
      summary: "create a new namespace: create NAME [k=v...]",
      async run(args, { client }) {
        const [name, ...labelArgs] = args;
        if (!name) throw new UsageError("namespace name must be provided");
        await client.namespaces.create(name, parseLabelArguments(labelArgs));
        return 0;
      },
    },
    {
      name: "list",
      aliases: ["ls"],
      summary: "list namespaces (-q: names only)",
      async run(args, { client }) {
        const { values } = parseArgs({
          args,
          options: { quiet: { type: "boolean", short: "q" } },
        });
        const namespaces = await client.namespaces.list();
        if (values.quiet) {
          for (const namespace of namespaces) console.log(namespace.name);
          return 0;
        }
        console.log(formatTable(
          ["NAME", "LABELS"],
          namespaces.map((namespace) => [namespace.name, formatLabels(namespace.labels)]),
        ));
        return 0;
      },
    },
    {
      name: "label",
      aliases: [],
      summary: "set and clear labels: label NAME k=v [k2=] (an empty value clears)",
      async run(args, { client }) {
        const [name, ...labelArgs] = args;
        if (!name) throw new UsageError("namespace name must be provided");
        for (const [key, value] of Object.entries(parseLabelArguments(labelArgs))) {
          await client.namespaces.setLabel(name, key, value);
        }
        return 0;
      },
    },
    {
      name: "remove",
      aliases: ["rm"],
      summary: "remove one or more empty namespaces",
      async run(args, { client }) {
        if (args.length === 0) throw new UsageError("at least one namespace name must be provided");
        let exitCode = 0;
        for (const name of args) {
          try {
            await client.namespaces.delete(name);
            console.log(name);
          } catch (error) {
            console.error(
              `ctr: unable to delete ${name}: ${error instanceof Error ? error.message : error}`,
            );
            exitCode = 1;
          }
        }
        return exitCode;
      },
    },
  ],
);
