// Shared set-up of the registry tests: the tools they need, the small images they
// push, and helpers to read what landed in mini's content store.

import { createHash } from "node:crypto";
import { missingTool, requirements } from "../../helpers/requirements.ts";
import type { ContainerdClient } from "../../../lib/client/client.ts";
import { type GeneratedImage, type ImageSpec, writeOciLayout } from "./oci_image.ts";
import { skopeoPushLayout } from "./registry.ts";

/** `ignore` for a test that needs the registry and skopeo (and maybe more tools). */
export function needsRegistry(testName: string, ...tools: string[]): boolean {
  return requirements(
    testName,
    missingTool("docker-registry"),
    missingTool("skopeo"),
    ...tools.map(missingTool),
  );
}

/** A two-layer linux/amd64 image: a 300 kB random file, and a layer of small files. */
export function smallImage(seed = 1): ImageSpec[] {
  return [{
    platform: { os: "linux", architecture: "amd64" },
    seed,
    layers: [
      { randomBytes: 300_000 },
      { randomBytes: 2_000, files: { "etc/motd": `hello from test image ${seed}\n` } },
    ],
  }];
}

/** Three platforms in one index, each with its own single layer. */
export function multiPlatformImage(): ImageSpec[] {
  return [
    {
      platform: { os: "linux", architecture: "amd64" },
      seed: 11,
      layers: [{ randomBytes: 5_000 }],
    },
    {
      platform: { os: "linux", architecture: "arm64" },
      seed: 12,
      layers: [{ randomBytes: 6_000 }],
    },
    {
      platform: { os: "linux", architecture: "arm", variant: "v7" },
      seed: 13,
      layers: [{ randomBytes: 7_000 }],
    },
  ];
}

/** Writes the image to a temp OCI layout and copies it into the registry with skopeo. */
export async function publishImage(
  specs: ImageSpec[],
  destination: string,
  options: { credentials?: string } = {},
): Promise<GeneratedImage & { cleanup: () => Promise<void> }> {
  const layoutDir = await Deno.makeTempDir({ prefix: "mini-registry-image-" });
  const image = await writeOciLayout(layoutDir, specs);
  await skopeoPushLayout(layoutDir, image.tag, destination, {
    credentials: options.credentials,
    all: specs.length > 1,
  });
  return { ...image, cleanup: () => Deno.remove(layoutDir, { recursive: true }) };
}

/** The sha256 of a blob as read back from mini's content store. */
export async function storedDigest(client: ContainerdClient, digest: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of await client.content.read(digest)) hash.update(chunk);
  return `sha256:${hash.digest("hex")}`;
}

/** True when the content store has the blob. */
export async function hasContent(client: ContainerdClient, digest: string): Promise<boolean> {
  try {
    await client.content.info(digest);
    return true;
  } catch {
    return false;
  }
}

/**
 * Undoes a test's set-up in reverse order, even when the set-up itself failed half
 * way (a registry started, then the daemon did not): every process the test started
 * is stopped by its owner, every temp dir removed.
 */
export class Teardown {
  readonly #steps: (() => unknown)[] = [];

  /** Registers how to undo `value` and returns it. */
  add<T>(value: T, undo: (value: T) => unknown): T {
    this.#steps.push(() => undo(value));
    return value;
  }

  /** Runs every registered step, newest first; failures are reported, not thrown. */
  async run(): Promise<void> {
    for (const step of this.#steps.reverse()) {
      try {
        await step();
      } catch (error) {
        console.error("teardown step failed:", error);
      }
    }
    this.#steps.length = 0;
  }
}
