// Builds small images for the unpack tests straight into a daemon's content store: the
// busybox base (lib/base_image) plus layers made of a few files, with correct (or, on
// purpose, wrong) diffIDs in the config.

import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { pack } from "tar-stream";
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

/** A layer from raw tar headers (for hostile layers: devices, `..` names...). */
export async function rawLayer(headers: Headers[]): Promise<TestLayer> {
  const packer = pack();
  const chunks: Uint8Array[] = [];
  const collecting = (async () => {
    for await (const chunk of packer) chunks.push(chunk as Uint8Array);
  })();
  for (const header of headers) {
    await new Promise<void>((resolve, reject) =>
      packer.entry(
        header,
        header.type === "file" ? "x" : "",
        (error) => error ? reject(error) : resolve(),
      )
    );
  }
  packer.finalize();
  await collecting;
  const tar = new Uint8Array(await new Blob(chunks as BlobPart[]).arrayBuffer());
  const blob = new Uint8Array(gzipSync(tar));
  return { blob, digest: sha256Digest(blob), diffId: sha256Digest(tar) };
}

type Headers = Parameters<ReturnType<typeof pack>["entry"]>[0];

/** The busybox base layer as a TestLayer. */
export async function busyboxLayer(): Promise<TestLayer> {
  const base = await buildBaseImage();
  return {
    blob: base.blobs.get(base.layer.digest)!,
    digest: base.layer.digest,
    diffId: base.diffId,
  };
}

/** An image as blobs in memory, before it goes anywhere. */
export interface BuiltImage extends TestImage {
  blobs: Map<string, Uint8Array>;
}

/**
 * Builds the config and manifest for `layers`. `diffIds` overrides the config's
 * rootfs.diff_ids (to build a lying image).
 */
export function buildImage(
  name: string,
  layers: TestLayer[],
  options: { diffIds?: string[]; os?: string; architecture?: string } = {},
): BuiltImage {
  const blobs = new Map<string, Uint8Array>();
  const layerDescriptors: Descriptor[] = layers.map((layer) => {
    blobs.set(layer.digest, layer.blob);
    return {
      mediaType: MediaTypes.ociLayerGzip,
      digest: layer.digest,
      size: layer.blob.byteLength,
    };
  });
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
    digest: sha256Digest(configBytes),
    size: configBytes.byteLength,
  };
  blobs.set(configDescriptor.digest, configBytes);
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: MediaTypes.ociManifest,
    config: configDescriptor,
    layers: layerDescriptors,
  };
  const manifestBytes = encoder.encode(JSON.stringify(manifest));
  const manifestDescriptor: Descriptor = {
    mediaType: MediaTypes.ociManifest,
    digest: sha256Digest(manifestBytes),
    size: manifestBytes.byteLength,
  };
  blobs.set(manifestDescriptor.digest, manifestBytes);
  return {
    name,
    manifest: manifestDescriptor,
    config: configDescriptor,
    layers: layerDescriptors,
    diffIds,
    blobs,
  };
}

/**
 * Pushes an image into the daemon like an import does: blobs are written under a lease
 * (nothing references them yet), the manifest carries gc.ref labels to its config and
 * layers, and the image record keeps the whole tree once the lease is gone.
 */
export async function pushImage(
  client: ContainerdClient,
  name: string,
  layers: TestLayer[],
  options: { diffIds?: string[]; os?: string; architecture?: string } = {},
): Promise<TestImage> {
  const image = buildImage(name, layers, options);
  const lease = (await client.leases.create({ expiresInMs: 10 * 60 * 1000 })).id;
  for (const [digest, bytes] of image.blobs) {
    const labels = digest === image.manifest.digest
      ? childGcLabels([image.config, ...image.layers])
      : {};
    await client.content.withLease(lease).write(new Uint8Array(bytes), {
      ref: `test-${digest}`,
      expected: digest,
      total: bytes.byteLength,
      labels,
    });
  }
  await client.images.put({ name, target: image.manifest });
  await client.leases.delete(lease);
  return image;
}

/** Writes the image as an OCI image layout directory, tagged `tag` (what umoci reads). */
export async function writeOciLayout(directory: string, image: BuiltImage, tag: string) {
  await Deno.mkdir(join(directory, "blobs/sha256"), { recursive: true });
  for (const [digest, bytes] of image.blobs) {
    await Deno.writeFile(join(directory, "blobs/sha256", digest.slice("sha256:".length)), bytes);
  }
  await Deno.writeTextFile(
    join(directory, "oci-layout"),
    JSON.stringify({ imageLayoutVersion: "1.0.0" }),
  );
  await Deno.writeTextFile(
    join(directory, "index.json"),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [{
        ...image.manifest,
        annotations: { "org.opencontainers.image.ref.name": tag },
      }],
    }),
  );
}
