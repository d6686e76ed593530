// What this teaches: what the snapshotter's moving parts cost. Mounting an overlay through
// mount(2) over FFI is timed against mount(8)/umount(8) doing the same (two small lower
// layers; then 128 layers, where mount(8) must be run from the snapshots directory with
// relative lowerdirs, as lib/mount does internally); a Prepare + Commit cycle of the
// overlay snapshotter (metadata transaction, mkdir, rename, usage walk) is given per layer.
// Medians of several runs; needs root.
// Mirrors the role of containerd's snapshotter benchmarks (core/snapshots/benchsuite).

import { join } from "node:path";
import { MetadataDb } from "../lib/metadata/db.ts";
import { mountAll, unmountAll } from "../lib/mount/mount.ts";
import type { Mount } from "../lib/mount/types.ts";
import { openSnapshotStore } from "../lib/snapshots/open.ts";
import { type BenchResult, median, timeRuns } from "./types.ts";

const runs = 20;

async function run(command: string, args: string[], cwd?: string): Promise<void> {
  const { success, stderr } = await new Deno.Command(command, { args, cwd, stderr: "piped" })
    .output();
  if (!success) {
    throw new Error(`${command} ${args.join(" ")}: ${new TextDecoder().decode(stderr)}`);
  }
}

function compare(name: string, mini: number[], peerName: string, peer: number[]): BenchResult {
  const value = median(mini);
  const baseline = median(peer);
  return {
    name,
    value: Math.round(value * 100) / 100,
    unit: "ms",
    baseline: { name: peerName, value: Math.round(baseline * 100) / 100 },
    ratio: Math.round((value / baseline) * 100) / 100,
  };
}

/** Builds `count` lower layers under `<base>/snapshots/<n>/fs`, nearest (highest n) first. */
async function makeLayers(base: string, count: number): Promise<string[]> {
  const lowers: string[] = [];
  for (let index = count; index >= 1; index--) {
    const directory = join(base, "snapshots", String(index), "fs");
    await Deno.mkdir(directory, { recursive: true });
    await Deno.writeTextFile(join(directory, `file-${index}`), String(index));
    lowers.push(directory);
  }
  return lowers;
}

/** Times mini's mountAll+unmountAll against mount(8)+umount(8) for one overlay. */
async function benchOverlay(base: string, layers: number): Promise<BenchResult> {
  const lowers = await makeLayers(join(base, `l${layers}`), layers);
  const upper = join(base, `upper${layers}`);
  const work = join(base, `work${layers}`);
  const target = join(base, `merged${layers}`);
  for (const directory of [upper, work, target]) await Deno.mkdir(directory);
  const options = [`workdir=${work}`, `upperdir=${upper}`, `lowerdir=${lowers.join(":")}`];
  const overlay: Mount = { type: "overlay", source: "overlay", options };
  const mini = await timeRuns(runs, async () => {
    mountAll([overlay], target);
    await unmountAll(target);
  });
  // mount(8) cannot take 128 absolute lowerdirs either: it gets relative ones and a cwd.
  const snapshots = join(base, `l${layers}`, "snapshots");
  const relative = lowers.map((lower) => lower.slice(snapshots.length + 1)).join(":");
  const peerOptions = `workdir=${work},upperdir=${upper},lowerdir=${relative}`;
  const peer = await timeRuns(runs, async () => {
    await run("mount", ["-t", "overlay", "overlay", "-o", peerOptions, target], snapshots);
    await run("umount", [target]);
  });
  return compare(
    `overlay mount+umount, ${layers} layers (FFI mount(2))`,
    mini,
    "mount(8)+umount(8)",
    peer,
  );
}

/** Time of one Prepare + write + Commit cycle of the in-process snapshotter. */
async function benchPrepareCommit(base: string): Promise<BenchResult> {
  const db = new MetadataDb(join(base, "meta.db"));
  try {
    const store = openSnapshotStore(db, join(base, "overlayfs"));
    let parent = "";
    let index = 0;
    const samples = await timeRuns(runs, async () => {
      const key = `layer-${index++}`;
      const mounts = store.prepare("bench", `${key}-active`, parent);
      const upper = mounts[0].type === "bind"
        ? mounts[0].source
        : mounts[0].options.find((option) => option.startsWith("upperdir="))!.slice(9);
      await Deno.writeTextFile(join(upper, key), key);
      await store.commit("bench", key, `${key}-active`);
      parent = key;
    });
    return {
      name: "snapshot Prepare + Commit (in-process, per layer)",
      value: Math.round(median(samples) * 100) / 100,
      unit: "ms",
    };
  } finally {
    db.close();
  }
}

/** Runs the snapshot benchmarks (root only). */
export async function benchSnapshots(): Promise<BenchResult[]> {
  if (Deno.uid() !== 0) throw new Error("the snapshot benchmark mounts filesystems: run as root");
  const base = await Deno.makeTempDir({ prefix: "mini-snapshot-bench-" });
  try {
    return [
      await benchOverlay(base, 2),
      await benchOverlay(base, 128),
      await benchPrepareCommit(base),
    ];
  } finally {
    await Deno.remove(base, { recursive: true }).catch(() => {});
  }
}

if (import.meta.main) console.table(await benchSnapshots());
