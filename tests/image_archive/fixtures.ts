// Builders of image archives for the import/export tests and the import benchmark:
// synthetic images with deterministic pseudo-random layers, OCI layouts and
// `docker save` tars written with tar-stream, and a check of a content store's
// blobs/ directory.

import { createCipheriv, createHash } from "node:crypto";
import { gunzipSync, gzipSync } from "node:zlib";
import { join } from "node:path";
import { rootPaths } from "../../lib/containerd/daemon.ts";
import { sha256Digest } from "../../lib/image_archive/digest.ts";
import {
  type LayoutBlob,
  layoutIndex,
  ociLayoutRecords,
} from "../../lib/image_archive/oci_layout.ts";
import { type TarRecord, writeTar } from "../../lib/image_archive/tar_stream.ts";
import { MediaTypes } from "../../lib/images/media_types.ts";
import type { Descriptor, ImageConfig, ImageManifest, Platform } from "../../lib/images/types.ts";
import type { DockerManifestEntry } from "../../lib/image_archive/types.ts";

const encoder = new TextEncoder();

/** Deterministic incompressible bytes: the AES-256-CTR keystream of a seed. */
export function pseudoRandomBytes(seed: string, size: number): Uint8Array {
  const key = createHash("sha256").update(seed).digest();
  const cipher = createCipheriv("aes-256-ctr", key, Buffer.alloc(16));
  const bytes = new Uint8Array(size);
  const block = 4 * 1024 * 1024;
  for (let offset = 0; offset < size; offset += block) {
    const length = Math.min(block, size - offset);
    bytes.set(cipher.update(new Uint8Array(length)), offset);
  }
  return bytes;
}

/** An image held in memory: its manifest descriptor (for index.json) and every blob. */
export interface SyntheticImage {
  manifest: Descriptor;
  config: Descriptor;
  layers: Descriptor[];
  diffIds: string[];
  blobs: Map<string, Uint8Array>;
}

/** Options of syntheticImage(). */
export interface SyntheticImageOptions {
  /** Different seeds give different layers. */
  seed: string;
  layers?: number;
  /** Bytes of random file data per layer. */
  layerSize?: number;
  platform?: Platform;
  /** gzip level of the layers (1 is fast; the data is random anyway); 0 stores plain tars. */
  gzipLevel?: number;
  /** Annotations of the manifest's descriptor (e.g. the image name). */
  annotations?: Record<string, string>;
}

function jsonDescriptor(value: unknown, mediaType: string, blobs: Map<string, Uint8Array>) {
  const bytes = encoder.encode(JSON.stringify(value));
  const digest = sha256Digest(bytes);
  blobs.set(digest, bytes);
  return { mediaType, digest, size: bytes.byteLength };
}

/** The uncompressed tar of one layer: a single file of random data. */
async function layerTar(seed: string, index: number, size: number): Promise<Uint8Array> {
  const data = pseudoRandomBytes(`${seed}/layer-${index}`, size);
  const records: TarRecord[] = [
    { name: "data", type: "directory", mode: 0o755 },
    { name: `data/layer-${index}.bin`, type: "file", mode: 0o644, size, body: () => data },
  ];
  return new Uint8Array(await new Response(writeTar(records)).arrayBuffer());
}

/** Builds an OCI image whose layers are gzip tars of deterministic random data. */
export async function syntheticImage(options: SyntheticImageOptions): Promise<SyntheticImage> {
  const platform = options.platform ?? { os: "linux", architecture: "amd64" };
  const blobs = new Map<string, Uint8Array>();
  const layers: Descriptor[] = [];
  const diffIds: string[] = [];
  for (let index = 0; index < (options.layers ?? 1); index++) {
    const tar = await layerTar(options.seed, index, options.layerSize ?? 1024);
    diffIds.push(sha256Digest(tar));
    const level = options.gzipLevel ?? 1;
    const blob = level === 0 ? tar : new Uint8Array(gzipSync(tar, { level }));
    const digest = sha256Digest(blob);
    blobs.set(digest, blob);
    const mediaType = level === 0 ? MediaTypes.ociLayer : MediaTypes.ociLayerGzip;
    layers.push({ mediaType, digest, size: blob.byteLength });
  }
  const imageConfig: ImageConfig = {
    created: "2024-01-01T00:00:00Z",
    architecture: platform.architecture,
    ...(platform.variant ? { variant: platform.variant } : {}),
    os: platform.os,
    config: { Env: ["PATH=/bin"], Cmd: ["sh"] },
    rootfs: { type: "layers", diff_ids: diffIds },
  };
  const config = jsonDescriptor(imageConfig, MediaTypes.ociConfig, blobs);
  const manifestDocument: ImageManifest = {
    schemaVersion: 2,
    mediaType: MediaTypes.ociManifest,
    config,
    layers,
  };
  const manifest: Descriptor = {
    ...jsonDescriptor(manifestDocument, MediaTypes.ociManifest, blobs),
    platform,
    ...(options.annotations ? { annotations: options.annotations } : {}),
  };
  return { manifest, config, layers, diffIds, blobs };
}

/** An OCI index over several images, stored as a blob of `blobs`. */
export function indexOver(
  manifests: Descriptor[],
  blobs: Map<string, Uint8Array>,
  annotations?: Record<string, string>,
): Descriptor {
  const descriptor = jsonDescriptor(
    { schemaVersion: 2, mediaType: MediaTypes.ociIndex, manifests },
    MediaTypes.ociIndex,
    blobs,
  );
  return annotations ? { ...descriptor, annotations } : descriptor;
}

/** An OCI image-layout tar (sorted records, as mini's exporter writes them). */
export function ociArchive(
  indexEntries: Descriptor[],
  blobs: Map<string, Uint8Array>,
): ReadableStream<Uint8Array> {
  const layoutBlobs: LayoutBlob[] = [...blobs].map(([digest, bytes]) => ({
    digest,
    size: bytes.byteLength,
    body: () => bytes,
  }));
  return writeTar(ociLayoutRecords(layoutIndex(indexEntries), layoutBlobs));
}

/** A tar of arbitrary records, in the given order, as bytes. */
export async function tarBytes(records: TarRecord[]): Promise<Uint8Array<ArrayBuffer>> {
  return new Uint8Array(await new Response(writeTar(records)).arrayBuffer());
}

/** A file record holding `bytes` (or JSON). */
export function fileRecord(name: string, content: Uint8Array | unknown): TarRecord {
  const bytes = content instanceof Uint8Array ? content : encoder.encode(JSON.stringify(content));
  return { name, type: "file", mode: 0o644, size: bytes.byteLength, body: () => bytes };
}

/** The records of an OCI layout holding these blobs and this index.json, unsorted. */
export function ociLayoutFiles(
  indexEntries: Descriptor[],
  blobs: Map<string, Uint8Array>,
): TarRecord[] {
  return [
    fileRecord("oci-layout", { imageLayoutVersion: "1.0.0" }),
    fileRecord("index.json", layoutIndex(indexEntries)),
    ...[...blobs].map(([digest, bytes]) => fileRecord(`blobs/sha256/${digest.slice(7)}`, bytes)),
  ];
}

/**
 * A `docker save` (v1.2) archive of images, as Docker 20.10 writes it: per layer a
 * directory `<id>/` with an uncompressed `layer.tar` (plus the legacy `VERSION` and
 * `json`), the config as `<config hex>.json`, `repositories`, and manifest.json.
 * Entries come in an order different from the OCI one on purpose (manifest.json first).
 */
export function dockerSaveRecords(
  images: Array<{ image: SyntheticImage; repoTags: string[] }>,
  options: { gzipLayers?: boolean } = {},
): TarRecord[] {
  const manifest: DockerManifestEntry[] = [];
  const files: TarRecord[] = [];
  const seen = new Set<string>();
  for (const { image, repoTags } of images) {
    const layerPaths: string[] = [];
    for (const layer of image.layers) {
      const gzipped = image.blobs.get(layer.digest)!;
      const bytes = options.gzipLayers ? gzipped : new Uint8Array(gunzipSync(gzipped));
      const id = createHash("sha256").update(layer.digest).digest("hex");
      layerPaths.push(`${id}/layer.tar`);
      if (seen.has(id)) continue;
      seen.add(id);
      files.push(
        { name: id, type: "directory", mode: 0o755 },
        fileRecord(`${id}/VERSION`, encoder.encode("1.0")),
        fileRecord(`${id}/json`, { id }),
        fileRecord(`${id}/layer.tar`, bytes),
      );
    }
    const configName = `${image.config.digest.slice(7)}.json`;
    if (!seen.has(configName)) {
      seen.add(configName);
      files.push(fileRecord(configName, image.blobs.get(image.config.digest)!));
    }
    manifest.push({ Config: configName, RepoTags: repoTags, Layers: layerPaths });
  }
  return [fileRecord("manifest.json", manifest), ...files, fileRecord("repositories", {})];
}

/** Writes a stream to a file. */
export async function writeFile(path: string, stream: ReadableStream<Uint8Array>): Promise<void> {
  const file = await Deno.open(path, { write: true, create: true, truncate: true });
  await stream.pipeTo(file.writable);
}

/** The content store's blobs directory of a daemon root. */
export function blobsDirectory(root: string): string {
  return join(rootPaths(root).content, "blobs", "sha256");
}

/**
 * Lists the committed blobs of a daemon root, checking each file hashes to its name:
 * a half-written or unverified blob in blobs/ fails the test that calls this.
 */
export async function verifiedBlobs(root: string): Promise<string[]> {
  const directory = blobsDirectory(root);
  const digests: string[] = [];
  try {
    for await (const entry of Deno.readDir(directory)) {
      const path = join(directory, entry.name);
      const hash = createHash("sha256");
      for await (const chunk of (await Deno.open(path)).readable) hash.update(chunk);
      const actual = hash.digest("hex");
      if (actual !== entry.name) {
        throw new Error(`blobs/sha256/${entry.name} holds bytes hashing to ${actual}`);
      }
      digests.push(`sha256:${entry.name}`);
    }
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  return digests.sort();
}
