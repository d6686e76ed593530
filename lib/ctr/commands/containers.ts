// What this teaches: `ctr containers` manages container *records*: create one from an
// image (nothing runs yet), list them with their image and runtime, show one as JSON
// with its full OCI spec, label, and remove (the record and its snapshot).
// Mirrors containerd's `cmd/ctr/commands/containers/containers.go`.

import { parseArgs } from "node:util";
import { deleteContainerAndSnapshot } from "../../client/containers.ts";
import { commandGroup } from "../group.ts";
import { formatTable, parseLabelArguments } from "../table.ts";
import { UsageError } from "../types.ts";
import { containerFlags, createContainerFromFlags, parseLeadingFlags } from "./run.ts";

export const containersCommand = commandGroup(
  "containers",
  ["c", "container"],
  "manage containers",
  [
    {
      name: "create",
      leadingFlags: containerFlags,
      aliases: [],
      summary: "create a container: create [--env K=V] [--cwd DIR] IMAGE ID [CMD...]",
      async run(args, { client }) {
        await createContainerFromFlags(client, parseLeadingFlags(args, containerFlags));
        return 0;
      },
    },
    {
      name: "list",
      aliases: ["ls"],
      summary: "list containers: ls [-q] [FILTER...]",
      async run(args, { client }) {
        const { values, positionals: filters } = parseArgs({
          args,
          options: { quiet: { type: "boolean", short: "q" } },
          allowPositionals: true,
        });
        const containers = await client.containers.list(filters);
        if (values.quiet) {
          for (const container of containers) console.log(container.id);
          return 0;
        }
        console.log(formatTable(
          ["CONTAINER", "IMAGE", "RUNTIME"],
          containers.map((container) => [
            container.id,
            container.image || "-",
            container.runtime.name,
          ]),
        ));
        return 0;
      },
    },
    {
      name: "delete",
      aliases: ["del", "remove", "rm"],
      summary: "delete one or more containers and their snapshots: rm ID...",
      async run(args, { client }) {
        if (args.length === 0) throw new UsageError("at least one container ID must be provided");
        let exitCode = 0;
        for (const id of args) {
          try {
            await deleteContainerAndSnapshot(client, id);
          } catch (error) {
            console.error(
              `ctr: failed to delete container "${id}": ${
                error instanceof Error ? error.message : error
              }`,
            );
            exitCode = 1;
          }
        }
        return exitCode;
      },
    },
    {
      name: "info",
      aliases: [],
      summary: "show a container's record, spec included, as JSON: info ID",
      async run(args, { client }) {
        const [id] = args;
        if (!id) throw new UsageError("container ID must be provided");
        console.log(JSON.stringify(await client.containers.get(id), null, 4));
        return 0;
      },
    },
    {
      name: "label",
      aliases: [],
      summary: "set and clear labels: label ID k=v [k2=] (an empty value clears)",
      async run(args, { client }) {
        const [id, ...labelArgs] = args;
        if (!id) throw new UsageError("container ID must be provided");
        const labels = parseLabelArguments(labelArgs);
        const updated = await client.containers.update(
          { id, labels },
          Object.keys(labels).map((key) => `labels.${key}`),
        );
        console.log(
          Object.entries(updated.labels).map(([key, value]) => `${key}=${value}`).join(","),
        );
        return 0;
      },
    },
  ],
);
