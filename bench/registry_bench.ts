// What this teaches: what a pull and a push cost, next to the real tools on the same
// machine and the same registry. A 5-layer image of ~115 MB of incompressible bytes
// (seeded, so every run moves the same blobs) is put into a local docker-registry
// with skopeo; then:
//   - cold pull (fresh roots every run, unpack included): `mini-ctr images pull`
//     against `ctr image pull --plain-http` on a real containerd 1.6;
//   - push to an empty registry: `mini-ctr images push` against `skopeo copy` of the
//     same image from an OCI layout.
// Medians of 3 runs, the two tools interleaved; daemons and registries are started
// outside the timed part. Mirrors the role of containerd's integration pull benchmarks.

import { join } from "node:path";
import { TestContainerd } from "../tests/helpers/containerd.ts";
import { writeOciLayout } from "../tests/registry/support/oci_image.ts";
import { RealContainerd } from "../tests/registry/support/real_containerd.ts";
import { skopeo, skopeoPushLayout, TestRegistry } from "../tests/registry/support/registry.ts";
import { type BenchResult, median, printResults } from "./types.ts";

const runs = 3;
const layerCount = 5;
const layerBytes = 23 * 1000 * 1000;

async function timed(work: () => Promise<unknown>): Promise<number> {
  await new Deno.Command("sync").output();
  const started = performance.now();
  await work();
  return performance.now() - started;
}

function check(result: { code: number; stdout: string; stderr: string }, what: string): void {
  if (result.code !== 0) throw new Error(`${what} failed:\n${result.stdout}\n${result.stderr}`);
}

/** Cold pull and push of a 5-layer ~115 MB image, mini against ctr and skopeo. */
export async function benchRegistry(): Promise<BenchResult[]> {
  const layoutDir = await Deno.makeTempDir({ prefix: "mini-registry-bench-" });
  const registry = await TestRegistry.start();
  try {
    const image = await writeOciLayout(layoutDir, [{
      platform: { os: "linux", architecture: "amd64" },
      seed: 2024,
      layers: Array.from({ length: layerCount }, () => ({ randomBytes: layerBytes })),
    }], { tag: "bench", keepBlobs: false });
    const totalBytes = image.manifests[0].layers.reduce((sum, layer) => sum + layer.size, 0);
    const reference = `${registry.host}/bench/big:v1`;
    await skopeoPushLayout(layoutDir, image.tag, reference);

    // Cold pulls: a fresh mini-containerd and a fresh containerd for every run.
    const miniPulls: number[] = [];
    const ctrPulls: number[] = [];
    let lastMini: TestContainerd | undefined;
    for (let run = 0; run < runs; run++) {
      const daemon = await TestContainerd.start();
      miniPulls.push(
        await timed(async () => {
          check(await daemon.ctr(["images", "pull", reference]), "mini-ctr images pull");
        }),
      );
      if (run === runs - 1) lastMini = daemon;
      else await daemon.cleanup();
      const containerd = await RealContainerd.start();
      try {
        ctrPulls.push(
          await timed(async () => {
            check(await containerd.ctr(["image", "pull", "--plain-http", reference]), "ctr pull");
          }),
        );
      } finally {
        await containerd.stop();
      }
    }

    // Pushes to an empty registry each time, from mini's store and from the OCI layout.
    const miniPushes: number[] = [];
    const skopeoPushes: number[] = [];
    try {
      for (let run = 0; run < runs; run++) {
        const target = await TestRegistry.start();
        try {
          miniPushes.push(
            await timed(async () => {
              check(
                await lastMini!.ctr(["images", "push", `${target.host}/pushed/big:v1`, reference]),
                "mini-ctr images push",
              );
            }),
          );
        } finally {
          await target.stop();
        }
        const skopeoTarget = await TestRegistry.start();
        try {
          skopeoPushes.push(
            await timed(async () => {
              await skopeo([
                "copy",
                "--quiet",
                "--dest-tls-verify=false",
                `oci:${layoutDir}:${image.tag}`,
                `docker://${skopeoTarget.host}/pushed/big:v1`,
              ]);
            }),
          );
        } finally {
          await skopeoTarget.stop();
        }
      }
    } finally {
      await lastMini?.cleanup();
    }

    const megabytes = Math.round(totalBytes / 1e6);
    const pull = median(miniPulls);
    const ctrPull = median(ctrPulls);
    const push = median(miniPushes);
    const skopeoPush = median(skopeoPushes);
    return [
      {
        name: `registry: cold pull + unpack of ${layerCount} layers, ${megabytes} MB (mini-ctr)`,
        value: Math.round(pull),
        unit: "ms",
        baseline: {
          name: "ctr image pull --plain-http (containerd 1.6)",
          value: Math.round(ctrPull),
        },
        ratio: Number((pull / ctrPull).toFixed(2)),
      },
      {
        name:
          `registry: push of ${layerCount} layers, ${megabytes} MB to an empty registry (mini-ctr)`,
        value: Math.round(push),
        unit: "ms",
        baseline: { name: "skopeo copy oci: → docker://", value: Math.round(skopeoPush) },
        ratio: Number((push / skopeoPush).toFixed(2)),
      },
    ];
  } finally {
    await registry.stop();
    await Deno.remove(join(layoutDir), { recursive: true }).catch(() => {});
  }
}

if (import.meta.main) {
  printResults(await benchRegistry());
}
