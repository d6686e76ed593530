// What this teaches: a benchmark figure means little alone, so every mini figure
// is measured side by side with the real peer (runc, containerd, sha256sum, tar)
// on the same machine and reported with the ratio.

/** One measured figure, optionally next to the real peer's figure for the same work. */
export interface BenchResult {
  name: string;
  value: number;
  unit: string;
  baseline?: { name: string; value: number };
  /** value / baseline.value (for times: below 1 means mini is faster). */
  ratio?: number;
}

/** The median of a list of samples. */
export function median(samples: number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** Runs `work` `count` times and returns the wall-clock milliseconds of each run. */
export async function timeRuns(count: number, work: () => Promise<unknown>): Promise<number[]> {
  const samples: number[] = [];
  for (let run = 0; run < count; run++) {
    const started = performance.now();
    await work();
    samples.push(performance.now() - started);
  }
  return samples;
}

/** Prints results one per line (`name: value unit | peer: value unit | ratio r`), for a bench run alone. */
export function printResults(results: BenchResult[], digits = 1): void {
  for (const result of results) {
    const peer = result.baseline
      ? ` | ${result.baseline.name}: ${result.baseline.value.toFixed(digits)} ${result.unit}` +
        ` | ratio ${result.ratio?.toFixed(2)}`
      : "";
    console.log(`${result.name}: ${result.value.toFixed(digits)} ${result.unit}${peer}`);
  }
}
