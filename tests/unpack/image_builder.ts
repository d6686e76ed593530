// Builds small images for the unpack tests straight into a daemon's content store: the
// busybox base (lib/base_image) plus layers made of a few files, with correct (or, on
// purpose, wrong) diffIDs in the config.

import { buildBaseImage } from "../../lib/base_image/build.ts";
import { buildLayer } from "../../lib/base_image/layer.ts";
import type { RootfsEntry } from "../../lib/base_image/types.ts";
import type { ContainerdClient } from "../../lib/client/client.ts";
import { sha256Digest } from "../../lib/content/digest.ts";
import { MediaTypes } from "../../lib/images/media_types.ts";
import { childGcLabels } from "../../lib/images/walk.ts";
import type { Descriptor, ImageConfig, ImageManifest } from "../../lib/images/types.ts";

/** A layer ready to push: blob, digest and diffID. */
export interface TestLayer {
  blob: Uint8Array;
  digest: string;
  diffId: string;
}

/** An image pushed into the content store and named. */
export interface TestImage {
  name: string;
  manifest: Descriptor;
  config: Descriptor;
  layers: Descriptor[];
  diffIds: string[];
}

const mtime = new Date("2024-01-01T00:00:00Z");
const encoder = new TextEncoder();

/** A layer from files (path → text), directories made as needed; `.wh.NAME` entries are whiteouts. */
export async function layerOf(files: Record<string, string>): Promise<TestLayer> {
  const entries: RootfsEntry[] = [];
  const directories = new Set<string>();
  for (const path of Object.keys(files).sort()) {
    const parts = path.split("/");
    for (let depth = 1; depth < parts.length; depth++) {
      const directory = parts.slice(0, depth).join("/");
      if (directories.has(directory)) continue;
      directories.add(directory);
      entries.push({ path: directory, type: "directory", mode: 0o755, uid: 0, gid: 0 });
    }
    entries.push({
      path,
      type: "file",
      mode: 0o644,
      uid: 0,
      gid: 0,
      content: encoder.encode(files[path]),
    });
  }
  const built = await buildLayer(entries, mtime);
  return { blob: built.blob, digest: built.digest, diffId: built.diffId };
}

/** The busybox base layer as a TestLayer. */
export async function busyboxLayer(): Promise<TestLayer> {
  const base = await buildBaseImage();
  return {
    blob: base.blobs.get(base.layer.digest)!,
    digest: base.layer.digest,
    diffId: base.diffId,
  };
}

async function writeBlob(
  client: ContainerdClient,
  lease: string,
  bytes: Uint8Array,
  labels: Record<string, string> = {},
): Promise<string> {
  const digest = sha256Digest(bytes);
  await client.content.withLease(lease).write(new Uint8Array(bytes), {
    ref: `test-${digest}`,
    expected: digest,
    total: bytes.byteLength,
    labels,
  });
  return digest;
}

/**
 * Pushes `layers` and a config/manifest for them, and names the image. `diffIds`
 * overrides the config's rootfs.diff_ids (to build a lying image).
 */
export async function pushImage(
  client: ContainerdClient,
  name: string,
  layers: TestLayer[],
  options: { diffIds?: string[]; os?: string; architecture?: string } = {},
): Promise<TestImage> {
  // Like an import: blobs are written under a lease (nothing references them yet), the
  // manifest carries gc.ref labels to its config and layers, and the image record then
  // keeps the whole tree once the lease is gone.
  const lease = (await client.leases.create({ expiresInMs: 10 * 60 * 1000 })).id;
  const layerDescriptors: Descriptor[] = [];
  for (const layer of layers) {
    await writeBlob(client, lease, layer.blob);
    layerDescriptors.push({
      mediaType: MediaTypes.ociLayerGzip,
      digest: layer.digest,
      size: layer.blob.byteLength,
    });
  }
  const diffIds = options.diffIds ?? layers.map((layer) => layer.diffId);
  const config: ImageConfig = {
    architecture: options.architecture ?? "amd64",
    os: options.os ?? "linux",
    config: { Cmd: ["sh"] },
    rootfs: { type: "layers", diff_ids: diffIds },
  };
  const configBytes = encoder.encode(JSON.stringify(config));
  const configDescriptor: Descriptor = {
    mediaType: MediaTypes.ociConfig,
    digest: await writeBlob(client, lease, configBytes),
    size: configBytes.byteLength,
  };
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: MediaTypes.ociManifest,
    config: configDescriptor,
    layers: layerDescriptors,
  };
  const manifestBytes = encoder.encode(JSON.stringify(manifest));
  const manifestDescriptor: Descriptor = {
    mediaType: MediaTypes.ociManifest,
    digest: await writeBlob(
      client,
      lease,
      manifestBytes,
      childGcLabels([configDescriptor, ...layerDescriptors]),
    ),
    size: manifestBytes.byteLength,
  };
  await client.images.put({ name, target: manifestDescriptor });
  await client.leases.delete(lease);
  return {
    name,
    manifest: manifestDescriptor,
    config: configDescriptor,
    layers: layerDescriptors,
    diffIds,
  };
}
