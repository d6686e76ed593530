// What this teaches: what importing an image archive costs, next to the real thing.
// A deterministic 5-layer, ~100 MB OCI archive is imported with
// `mini-ctr images import --no-unpack` into a mini-containerd and with
// `ctr image import --no-unpack` into a real containerd, both started side by side on
// temp paths; each run starts from an empty store (the image is removed and its
// content collected in between), runs alternate between the two, and the median of
// three is reported with the ratio.
// Mirrors the role of containerd's integration benchmarks, with ctr as the yardstick.

import { join } from "node:path";
import { TestContainerd } from "../tests/helpers/containerd.ts";
import { ociArchive, syntheticImage, writeFile } from "../tests/image_archive/fixtures.ts";
import { type BenchResult, median } from "./types.ts";

const runs = 3;
const layerCount = 5;
const layerSize = 20 * 1024 * 1024;
const imageName = "docker.io/library/import-bench:latest";

async function run(command: string, args: string[]): Promise<string> {
  const output = await new Deno.Command(command, { args, stdout: "piped", stderr: "piped" })
    .output();
  if (!output.success) {
    throw new Error(
      `${command} ${args.join(" ")} failed: ${new TextDecoder().decode(output.stderr)}`,
    );
  }
  return new TextDecoder().decode(output.stdout);
}

function commandExists(name: string): boolean {
  return new Deno.Command("sh", { args: ["-c", `command -v ${name}`], stdout: "null" })
    .outputSync().success;
}

/** A real containerd on temp paths, with the CRI plugin off (no Kubernetes here). */
class RealContainerd {
  #process?: Deno.ChildProcess;
  constructor(readonly base: string) {}

  get address(): string {
    return join(this.base, "containerd.sock");
  }

  async start(): Promise<void> {
    const config = join(this.base, "config.toml");
    await Deno.writeTextFile(
      config,
      'version = 2\ndisabled_plugins = ["io.containerd.grpc.v1.cri"]\n',
    );
    this.#process = new Deno.Command("containerd", {
      args: [
        "--root",
        join(this.base, "root"),
        "--state",
        join(this.base, "state"),
        "--address",
        this.address,
        "--config",
        config,
      ],
      stdout: "null",
      stderr: "null",
    }).spawn();
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      const probe = await new Deno.Command("ctr", {
        args: ["--address", this.address, "version"],
        stdout: "null",
        stderr: "null",
      }).output();
      if (probe.success) return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error("containerd did not answer within 20 s");
  }

  ctr(args: string[]): Promise<string> {
    return run("ctr", ["--address", this.address, ...args]);
  }

  async stop(): Promise<void> {
    if (!this.#process) return;
    try {
      this.#process.kill("SIGTERM");
    } catch { /* gone */ }
    await this.#process.status;
  }
}

/** Mini's import, through the CLI, from an empty store; returns milliseconds. */
async function timeMiniImport(daemon: TestContainerd, archive: string): Promise<number> {
  await new Deno.Command("sync").output();
  const started = performance.now();
  const result = await daemon.ctr(["images", "import", "--no-unpack", archive]);
  const elapsed = performance.now() - started;
  if (result.code !== 0) throw new Error(`mini-ctr images import failed: ${result.stderr}`);
  const removed = await daemon.ctr(["images", "rm", "--sync", imageName]);
  if (removed.code !== 0) throw new Error(`mini-ctr images rm failed: ${removed.stderr}`);
  return elapsed;
}

/** containerd's import, through ctr, from an empty store; returns milliseconds. */
async function timeRealImport(containerd: RealContainerd, archive: string): Promise<number> {
  await new Deno.Command("sync").output();
  const started = performance.now();
  await containerd.ctr(["image", "import", "--no-unpack", archive]);
  const elapsed = performance.now() - started;
  await containerd.ctr(["image", "rm", "--sync", imageName]);
  return elapsed;
}

/** Import of a 5-layer ~100 MB archive: mini-ctr vs ctr (when containerd is installed). */
export async function benchImport(): Promise<BenchResult[]> {
  const base = await Deno.makeTempDir({ prefix: "mini-import-bench-" });
  const daemon = await TestContainerd.start({ base: join(base, "mini") });
  const containerd = commandExists("containerd") && commandExists("ctr")
    ? new RealContainerd(join(base, "containerd"))
    : undefined;
  try {
    const image = await syntheticImage({
      seed: "import-bench",
      layers: layerCount,
      layerSize,
      annotations: { "io.containerd.image.name": imageName },
    });
    const archive = join(base, "image.tar");
    await writeFile(archive, ociArchive([image.manifest], image.blobs));
    const megabytes = (await Deno.stat(archive)).size / 1e6;
    if (containerd) {
      await Deno.mkdir(containerd.base, { recursive: true });
      await containerd.start();
    }

    const mini: number[] = [];
    const real: number[] = [];
    for (let index = 0; index < runs; index++) {
      mini.push(await timeMiniImport(daemon, archive));
      if (containerd) real.push(await timeRealImport(containerd, archive));
    }
    const name = `import of a ${layerCount}-layer ${megabytes.toFixed(0)} MB OCI archive ` +
      "(mini-ctr images import --no-unpack, median of 3)";
    const result: BenchResult = { name, value: Math.round(median(mini)), unit: "ms" };
    const throughput: BenchResult = {
      name: "import throughput (mini-ctr images import --no-unpack)",
      value: Number((megabytes / (median(mini) / 1000)).toFixed(1)),
      unit: "MB/s",
    };
    if (containerd) {
      const baseline = median(real);
      result.baseline = {
        name: "ctr image import --no-unpack (Debian's containerd)",
        value: Math.round(baseline),
      };
      result.ratio = Number((median(mini) / baseline).toFixed(2));
      throughput.baseline = {
        name: "ctr image import --no-unpack",
        value: Number((megabytes / (baseline / 1000)).toFixed(1)),
      };
      throughput.ratio = Number((throughput.value / throughput.baseline.value).toFixed(2));
    }
    return [result, throughput];
  } finally {
    await containerd?.stop();
    await daemon.cleanup();
    await Deno.remove(base, { recursive: true }).catch(() => {});
  }
}

if (import.meta.main) {
  for (const result of await benchImport()) console.log(JSON.stringify(result));
}
