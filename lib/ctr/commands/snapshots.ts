// What this teaches: `ctr snapshots`, the hands-on way to see the snapshot model: prepare
// an Active snapshot, mount it, write, commit it as a layer, build on it, diff it into a
// blob. Output formats follow ctr so that tutorials written for ctr work here.
// Mirrors containerd's cmd/ctr/commands/snapshots/snapshots.go.

import { parseArgs } from "node:util";
import { createDiff, diffSnapshots } from "../../diff/create.ts";
import { mountCommandLine } from "../../mount/describe.ts";
import type { Mount } from "../../mount/types.ts";
import type { SnapshotInfo } from "../../snapshots/types.ts";
import { OVERLAYFS } from "../../snapshots/types.ts";
import { commandGroup } from "../group.ts";
import { formatBytes, formatTable, parseLabelArguments } from "../table.ts";
import type { CtrCommand, CtrContext, CtrSubcommand } from "../types.ts";
import { UsageError } from "../types.ts";

/** Reads `--snapshotter NAME` (or CONTAINERD_SNAPSHOTTER); mini has only overlayfs. */
function takeSnapshotterFlag(args: string[]): { snapshotter: string; rest: string[] } {
  let snapshotter = Deno.env.get("CONTAINERD_SNAPSHOTTER") || OVERLAYFS;
  const rest: string[] = [];
  for (let index = 0; index < args.length; index++) {
    const arg = args[index];
    if (arg === "--snapshotter") {
      if (index + 1 >= args.length) throw new UsageError("flag --snapshotter needs a value");
      snapshotter = args[++index];
    } else if (arg.startsWith("--snapshotter=")) {
      snapshotter = arg.slice("--snapshotter=".length);
    } else rest.push(arg);
  }
  return { snapshotter, rest };
}

const state = { snapshotter: OVERLAYFS };
const snapshotsOf = (context: CtrContext) => context.client.snapshots(state.snapshotter);

/** Prints mounts as ctr does: one `mount -t ...` line each. */
function printMounts(target: string, mounts: Mount[]): void {
  for (const mount of mounts) console.log(mountCommandLine(mount, target));
}

/** Prints a snapshot forest: roots first, children indented with `\_`, like `ctr snapshots tree`. */
export function formatTree(infos: SnapshotInfo[]): string {
  const byName = new Map(infos.map((info) => [info.name, info]));
  const children = new Map<string, string[]>();
  const roots: string[] = [];
  for (const info of infos) {
    if (info.parent !== "" && byName.has(info.parent)) {
      children.set(info.parent, [...(children.get(info.parent) ?? []), info.name]);
    } else roots.push(info.name);
  }
  const lines: string[] = [];
  const visit = (name: string, level: number) => {
    const prefix = "  ".repeat(level) + (level > 0 ? "\\_" : "");
    lines.push(`${prefix} ${name}`);
    for (const child of children.get(name) ?? []) visit(child, level + 1);
  };
  for (const root of roots) visit(root, 0);
  return lines.join("\n");
}

function createSubcommand(kind: "prepare" | "view"): CtrSubcommand {
  return {
    name: kind,
    aliases: [],
    summary: kind === "prepare"
      ? "prepare an active snapshot: prepare KEY [PARENT] [--target DIR] [--mounts]"
      : "create a read-only view of a snapshot: view KEY [PARENT] [--target DIR] [--mounts]",
    async run(args, context) {
      const { values, positionals } = parseArgs({
        args,
        allowPositionals: true,
        options: {
          target: { type: "string", short: "t" },
          mounts: { type: "boolean" },
          label: { type: "string", multiple: true },
        },
      });
      const [key, parent = ""] = positionals;
      if (!key) throw new UsageError(`${kind}: please provide a snapshot key`);
      const labels = parseLabelArguments(values.label ?? []);
      const snapshots = snapshotsOf(context);
      const mounts = kind === "prepare"
        ? await snapshots.prepare(key, parent, { labels })
        : await snapshots.view(key, parent, { labels });
      if (values.target) printMounts(values.target, mounts);
      if (values.mounts) console.log(JSON.stringify(mounts, null, 2));
      return 0;
    },
  };
}

const subcommands: CtrSubcommand[] = [
  {
    name: "list",
    aliases: ["ls"],
    summary: "list snapshots: ls [FILTER...] (columns KEY PARENT KIND)",
    async run(args, context) {
      const infos = await snapshotsOf(context).walk(args);
      console.log(formatTable(
        ["KEY", "PARENT", "KIND"],
        infos.map((info) => [info.name, info.parent, info.kind]),
      ));
      return 0;
    },
  },
  createSubcommand("prepare"),
  createSubcommand("view"),
  {
    name: "mounts",
    aliases: ["m", "mount"],
    summary: "print the mount commands for a snapshot: mounts TARGET KEY",
    async run(args, context) {
      const [target, key] = args;
      if (!target || !key) throw new UsageError("mounts: please provide a target path and a key");
      printMounts(target, await snapshotsOf(context).mounts(key));
      return 0;
    },
  },
  {
    name: "commit",
    aliases: [],
    summary: "commit an active snapshot as a committed one: commit NAME KEY",
    async run(args, context) {
      const { values, positionals } = parseArgs({
        args,
        allowPositionals: true,
        options: { label: { type: "string", multiple: true } },
      });
      const [name, key] = positionals;
      if (!name || !key) throw new UsageError("commit: please provide a name and an active key");
      await snapshotsOf(context).commit(name, key, {
        labels: parseLabelArguments(values.label ?? []),
      });
      return 0;
    },
  },
  {
    name: "delete",
    aliases: ["del", "remove", "rm"],
    summary: "remove snapshots: rm KEY...",
    async run(args, context) {
      if (args.length === 0) throw new UsageError("rm: please provide at least one key");
      let exitCode = 0;
      for (const key of args) {
        try {
          await snapshotsOf(context).remove(key);
        } catch (error) {
          console.error(
            `ctr: failed to remove "${key}": ${error instanceof Error ? error.message : error}`,
          );
          exitCode = 1;
        }
      }
      return exitCode;
    },
  },
  {
    name: "tree",
    aliases: [],
    summary: "show the parent/child tree of the snapshots",
    async run(_args, context) {
      const tree = formatTree(await snapshotsOf(context).walk());
      if (tree !== "") console.log(tree);
      return 0;
    },
  },
  {
    name: "usage",
    aliases: [],
    summary: "disk usage: usage [-b] [KEY...] (columns KEY SIZE INODES)",
    async run(args, context) {
      const { values, positionals } = parseArgs({
        args,
        allowPositionals: true,
        options: { b: { type: "boolean" } },
      });
      const snapshots = snapshotsOf(context);
      const keys = positionals.length > 0
        ? positionals
        : (await snapshots.walk()).map((info) => info.name);
      const rows: string[][] = [];
      for (const key of keys) {
        const usage = await snapshots.usage(key);
        const size = values.b ? String(usage.size) : formatBytes(usage.size);
        rows.push([key, size, String(usage.inodes)]);
      }
      console.log(formatTable(["KEY", "SIZE", "INODES"], rows));
      return 0;
    },
  },
  {
    name: "diff",
    aliases: [],
    summary: "write the diff of a snapshot (against its parent, or IDA → IDB) as a layer blob: " +
      "diff [--media-type T] [--ref R] [--label k=v] IDA [IDB]",
    async run(args, context) {
      const { values, positionals } = parseArgs({
        args,
        allowPositionals: true,
        options: {
          "media-type": { type: "string" },
          ref: { type: "string" },
          label: { type: "string", multiple: true },
          "source-date-epoch": { type: "string" },
        },
      });
      const [first, second] = positionals;
      if (!first) throw new UsageError("diff: please provide a snapshot key");
      const options = {
        mediaType: values["media-type"],
        ref: values.ref,
        labels: parseLabelArguments(values.label ?? []),
        sourceDateEpoch: values["source-date-epoch"] === undefined
          ? undefined
          : Number(values["source-date-epoch"]),
      };
      const snapshots = snapshotsOf(context);
      const differ = context.client.diff();
      const descriptor = second === undefined
        ? await createDiff(snapshots, differ, first, options)
        : await diffSnapshots(snapshots, differ, first, second, options);
      console.log(descriptor.digest);
      return 0;
    },
  },
  {
    name: "info",
    aliases: [],
    summary: "print a snapshot's information as JSON: info KEY",
    async run(args, context) {
      const [key] = args;
      if (!key) throw new UsageError("info: please provide a snapshot key");
      console.log(JSON.stringify(await snapshotsOf(context).stat(key), null, 2));
      return 0;
    },
  },
  {
    name: "label",
    aliases: [],
    summary: "set and clear labels: label KEY k=v [k2=] (an empty value clears)",
    async run(args, context) {
      const [key, ...labelArgs] = args;
      if (!key) throw new UsageError("label: please provide a snapshot key");
      const labels = parseLabelArguments(labelArgs);
      const paths = Object.keys(labels).map((label) => `labels.${label}`);
      const info = await snapshotsOf(context).update(key, labels, paths);
      console.log(Object.entries(info.labels).map(([k, v]) => `${k}=${v}`).join(","));
      return 0;
    },
  },
];

const group = commandGroup(
  "snapshots",
  ["snapshot"],
  "manage snapshots (flag: --snapshotter NAME, only overlayfs)",
  subcommands,
);

/** `mini-ctr snapshots`: the group, with its --snapshotter flag read wherever it appears. */
export const snapshotsCommand: CtrCommand = {
  ...group,
  async run(args, context) {
    const { snapshotter, rest } = takeSnapshotterFlag(args);
    state.snapshotter = snapshotter;
    return await group.run(rest, context);
  },
};
