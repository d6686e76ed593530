// What this teaches: what unpacking and packing layers costs, next to GNU tar on the same
// files. Apply of a ~100 MB gzip layer of 5,000 files is timed against `tar -xzf` of the
// very same blob (median of 3, runs interleaved so disk write-back hits both alike), in
// wall-clock time and in CPU time: `tar -xzf` is two processes (gzip | tar) and mini one
// thread, so on a busy machine tar gets more CPU share and the CPU figure is the fairer
// one. The diff of a 5,000-file upperdir is given in files per second, against `tar -czf`.
// Mirrors the role of containerd's pkg/archive benchmarks (BenchmarkApply*) with tar as
// the yardstick.

import { randomFillSync } from "node:crypto";
import process from "node:process";
import { applyLayer, writeDiffToFile } from "../lib/archive/mod.ts";
import { type BenchResult, median } from "./types.ts";

const fileCount = 5_000;
const directoryCount = 50;
const runs = 3;

/** Writes 5,000 files of random (incompressible) bytes, 1-39 KiB each, ~100 MB in all. */
async function makeTree(root: string): Promise<number> {
  let seed = 42;
  const nextSize = () => {
    seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
    return 1_000 + (seed % 38_000);
  };
  let bytes = 0;
  for (let index = 0; index < fileCount; index++) {
    const directory = `${root}/dir${index % directoryCount}/sub${index % 5}`;
    if (index < directoryCount * 5) await Deno.mkdir(directory, { recursive: true });
    const data = randomFillSync(new Uint8Array(nextSize()));
    await Deno.writeFile(`${directory}/file${index}.bin`, data);
    bytes += data.length;
  }
  return bytes;
}

async function tar(args: string[]): Promise<void> {
  const { success, stderr } = await new Deno.Command("tar", { args, stderr: "piped" }).output();
  if (!success) throw new Error(`tar ${args.join(" ")}: ${new TextDecoder().decode(stderr)}`);
}

/** Flushes dirty pages so one run's write-back does not land in the next run's time. */
async function settle(): Promise<void> {
  await new Deno.Command("sync").output();
}

async function timed(work: () => Promise<unknown>): Promise<number> {
  await settle();
  const started = performance.now();
  await work();
  return performance.now() - started;
}

interface Sample {
  wall: number;
  cpu: number;
}

/** Wall and CPU milliseconds of an in-process apply. */
async function timedApply(layer: string, target: string): Promise<Sample> {
  await settle();
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  const file = await Deno.open(layer);
  await applyLayer(target, file.readable, { whiteoutFormat: "oci", allowDevices: false });
  const wall = performance.now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  return { wall, cpu: (cpu.user + cpu.system) / 1000 };
}

/** Wall and CPU milliseconds of `tar -xzf` (tar and its gzip child, from bash's `times`). */
async function timedTarExtract(layer: string, target: string): Promise<Sample> {
  await settle();
  const started = performance.now();
  const { success, stdout, stderr } = await new Deno.Command("bash", {
    args: ["-c", 'tar -xzf "$1" -C "$2" && times', "bash", layer, target],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const wall = performance.now() - started;
  if (!success) throw new Error(`tar -xzf: ${new TextDecoder().decode(stderr)}`);
  // The second line of `times` is the children's user and system time: "0m0.640s 0m0.220s".
  const childTimes = new TextDecoder().decode(stdout).trim().split("\n")[1];
  const [user, system] = [...childTimes.matchAll(/(\d+)m([\d.]+)s/g)]
    .map(([, minutes, seconds]) => Number(minutes) * 60 + Number(seconds));
  return { wall, cpu: (user + system) * 1000 };
}

/** Apply vs `tar -xzf`, and diff vs `tar -czf`, on a fresh 5,000-file tree. */
export async function benchArchive(): Promise<BenchResult[]> {
  const base = await Deno.makeTempDir({ prefix: "mini-archive-bench-" });
  try {
    const tree = `${base}/tree`;
    const bytes = await makeTree(tree);
    const layer = `${base}/layer.tar.gz`;
    await tar(["-czf", layer, "-C", tree, "."]);
    const layerMegabytes = (await Deno.stat(layer)).size / 1e6;

    const miniApply: Sample[] = [];
    const tarExtract: Sample[] = [];
    for (let run = 0; run < runs; run++) {
      const miniTarget = `${base}/mini-${run}`;
      const tarTarget = `${base}/tar-${run}`;
      await Deno.mkdir(miniTarget);
      await Deno.mkdir(tarTarget);
      miniApply.push(await timedApply(layer, miniTarget));
      tarExtract.push(await timedTarExtract(layer, tarTarget));
      await Deno.remove(miniTarget, { recursive: true });
      await Deno.remove(tarTarget, { recursive: true });
    }

    const miniDiff: number[] = [];
    const miniDiffPlain: number[] = [];
    const tarCreate: number[] = [];
    for (let run = 0; run < runs; run++) {
      miniDiff.push(
        await timed(() => writeDiffToFile(tree, `${base}/diff.tar.gz`, { compression: "gzip" })),
      );
      miniDiffPlain.push(
        await timed(() => writeDiffToFile(tree, `${base}/diff.tar`, { compression: "none" })),
      );
      tarCreate.push(await timed(() => tar(["-czf", `${base}/tar.tar.gz`, "-C", tree, "."])));
    }

    const applyMs = median(miniApply.map((sample) => sample.wall));
    const extractMs = median(tarExtract.map((sample) => sample.wall));
    const applyCpuMs = median(miniApply.map((sample) => sample.cpu));
    const extractCpuMs = median(tarExtract.map((sample) => sample.cpu));
    const filesPerSecond = (ms: number) => Math.round(fileCount / (ms / 1000));
    const diffRate = filesPerSecond(median(miniDiff));
    const tarRate = filesPerSecond(median(tarCreate));
    const name = `${fileCount} files, ${Math.round(bytes / 1e6)} MB`;
    return [
      {
        name: `apply ${layerMegabytes.toFixed(0)} MB gzip layer (${name})`,
        value: Math.round(applyMs),
        unit: "ms",
        baseline: { name: "tar -xzf", value: Math.round(extractMs) },
        ratio: Number((applyMs / extractMs).toFixed(2)),
      },
      {
        name: `apply ${layerMegabytes.toFixed(0)} MB gzip layer, CPU time (${name})`,
        value: Math.round(applyCpuMs),
        unit: "ms",
        baseline: { name: "tar -xzf (tar + gzip)", value: Math.round(extractCpuMs) },
        ratio: Number((applyCpuMs / extractCpuMs).toFixed(2)),
      },
      {
        name: `diff upperdir to gzip layer (${name})`,
        value: diffRate,
        unit: "files/s",
        baseline: { name: "tar -czf", value: tarRate },
        ratio: Number((diffRate / tarRate).toFixed(2)),
      },
      {
        name: `diff upperdir to uncompressed layer (${name})`,
        value: filesPerSecond(median(miniDiffPlain)),
        unit: "files/s",
      },
    ];
  } finally {
    await Deno.remove(base, { recursive: true });
  }
}

if (import.meta.main) console.table(await benchArchive());
