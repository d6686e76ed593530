// `deno task bench`: every benchmark of mini, each measured side by side with the
// real peer on this machine (sha256sum, tar, mount(8), runc, containerd, ctr,
// skopeo, dockerd), printed as one table with ratios. Pass names to run a subset:
// `deno task bench runtime ctr-run`.
//
// Benchmarks are not tests: nothing here passes or fails on a number. Run them on
// an otherwise idle machine; a loaded 2-core VM inflates every figure.

import { benchArchive } from "./archive_bench.ts";
import { benchBuild } from "./build_bench.ts";
import { benchContent } from "./content_bench.ts";
import { benchCtrRun } from "./ctr_run_bench.ts";
import { benchDockerMemory } from "./docker_memory_bench.ts";
import { benchDockerRun } from "./docker_run_bench.ts";
import { benchImport } from "./import_bench.ts";
import { benchNetwork } from "./network_bench.ts";
import { benchRegistry } from "./registry_bench.ts";
import { benchRuntime } from "./runtime_bench.ts";
import { benchSnapshots } from "./snapshot_bench.ts";
import type { BenchResult } from "./types.ts";

/** Every benchmark by the name used on the command line, in the order of the stack. */
const benchmarks: Record<string, () => Promise<BenchResult[]>> = {
  content: benchContent,
  import: benchImport,
  archive: benchArchive,
  snapshots: benchSnapshots,
  registry: benchRegistry,
  runtime: benchRuntime,
  "ctr-run": benchCtrRun,
  "docker-run": () => benchDockerRun(),
  "docker-memory": () => benchDockerMemory(),
  network: benchNetwork,
  build: () => benchBuild(),
};

function formatNumber(value: number): string {
  return Math.abs(value) >= 100 ? value.toFixed(0) : value.toFixed(2);
}

async function main(names: string[]): Promise<number> {
  const unknown = names.filter((name) => !(name in benchmarks));
  if (unknown.length > 0) {
    console.error(
      `unknown benchmark ${unknown.join(", ")}; choose from ${Object.keys(benchmarks).join(", ")}`,
    );
    return 2;
  }
  const selected = names.length > 0 ? names : Object.keys(benchmarks);
  const rows: Record<string, string>[] = [];
  for (const name of selected) {
    console.error(`running ${name} ...`);
    try {
      for (const result of await benchmarks[name]()) {
        rows.push({
          benchmark: name,
          figure: result.name,
          mini: `${formatNumber(result.value)} ${result.unit}`,
          peer: result.baseline
            ? `${formatNumber(result.baseline.value)} ${result.unit} (${result.baseline.name})`
            : "-",
          ratio: result.ratio === undefined ? "-" : result.ratio.toFixed(2),
        });
      }
    } catch (error) {
      rows.push({
        benchmark: name,
        figure: `failed: ${error instanceof Error ? error.message : error}`,
        mini: "-",
        peer: "-",
        ratio: "-",
      });
    }
  }
  console.table(rows);
  return rows.some((row) => row.figure.startsWith("failed:")) ? 1 : 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
