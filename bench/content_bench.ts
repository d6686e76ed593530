// What this teaches: what it costs to put a blob into a content store. Ingesting
// means streaming the bytes over the API socket, hashing them (sha256), writing them
// to disk and fsyncing before the rename; `sha256sum` of the same file only reads and
// hashes, so it is the floor no store can beat. The ratio says how close mini gets.
// Runs a real mini-containerd on temp roots, as the integration tests do.

import { join } from "node:path";
import { openFileStream } from "../lib/content/file_stream.ts";
import { TestContainerd } from "../tests/helpers/containerd.ts";
import { type BenchResult, median, printResults } from "./types.ts";

const BLOB_BYTES = 200 * 1024 * 1024;
const RUNS = 5;

/** Writes `size` random bytes to `path` (random, so nothing compresses or dedups). */
async function writeRandomFile(path: string, size: number): Promise<void> {
  const file = await Deno.open(path, { write: true, create: true, truncate: true });
  try {
    const chunk = new Uint8Array(1024 * 1024);
    for (let written = 0; written < size; written += chunk.length) {
      for (let offset = 0; offset < chunk.length; offset += 65536) {
        crypto.getRandomValues(chunk.subarray(offset, offset + 65536));
      }
      await file.write(chunk.subarray(0, Math.min(chunk.length, size - written)));
    }
  } finally {
    file.close();
  }
}

/** Seconds `sha256sum FILE` takes (the file is already in the page cache). */
async function timeSha256sum(path: string): Promise<number> {
  const started = performance.now();
  const output = await new Deno.Command("sha256sum", { args: [path], stdout: "piped" }).output();
  if (!output.success) throw new Error("sha256sum failed");
  return (performance.now() - started) / 1000;
}

/** Seconds one `client.content.write` of the file takes, from a file stream to a committed blob. */
async function timeIngest(daemon: TestContainerd, path: string, run: number): Promise<number> {
  const client = daemon.client();
  try {
    const started = performance.now();
    const info = await client.content.write(await openFileStream(path), {
      ref: `bench-${run}`,
      total: BLOB_BYTES,
    });
    const seconds = (performance.now() - started) / 1000;
    // Remove it again, so the next run writes the whole blob rather than finding it.
    await client.content.delete(info.digest);
    await client.content.collectGarbage();
    return seconds;
  } finally {
    client.close();
  }
}

/** Ingest throughput of a 200 MB blob through mini-containerd, against `sha256sum` of the file. */
export async function benchContent(): Promise<BenchResult[]> {
  const directory = await Deno.makeTempDir({ prefix: "mini-content-bench-" });
  const daemon = await TestContainerd.start({ base: join(directory, "daemon") });
  try {
    const path = join(directory, "blob");
    await writeRandomFile(path, BLOB_BYTES);
    // Warm up both sides: the page cache for the file, the JIT of client and daemon.
    await timeSha256sum(path);
    await timeIngest(daemon, path, -1);
    const megabytes = BLOB_BYTES / 1e6;
    const baseline: number[] = [];
    const mini: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      baseline.push(megabytes / await timeSha256sum(path));
      mini.push(megabytes / await timeIngest(daemon, path, run));
    }
    const value = median(mini);
    const baselineValue = median(baseline);
    return [{
      name: "content ingest of a 200 MB blob (API write: stream, sha256, fsync, commit)",
      value: Math.round(value),
      unit: "MB/s",
      baseline: { name: "sha256sum of the same file", value: Math.round(baselineValue) },
      ratio: Number((value / baselineValue).toFixed(2)),
    }];
  } finally {
    await daemon.cleanup();
    await Deno.remove(directory, { recursive: true }).catch(() => {});
  }
}

if (import.meta.main) {
  printResults(await benchContent());
}
