// Test fixtures: a small but real image built in memory (a gzip layer holding one file,
// a config whose diff_ids match it, a manifest per platform, an index), and a
// content reader over a Map, so the image helpers can be tested without a daemon.

import { createHash } from "node:crypto";
import { gzipSync } from "node:zlib";
import { notFound } from "../../lib/api/errors.ts";
import { MediaTypes } from "../../lib/images/media_types.ts";
import type {
  Descriptor,
  ImageConfig,
  ImageIndex,
  ImageManifest,
  Platform,
} from "../../lib/images/types.ts";
import type { BlobReader } from "../../lib/images/walk.ts";

export function sha256(bytes: Uint8Array | string): string {
  return `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
}

/** A one-file ustar archive, written out by hand (512-byte header, data, two zero blocks). */
export function singleFileTar(name: string, content: string): Uint8Array {
  const data = new TextEncoder().encode(content);
  const header = new Uint8Array(512);
  const put = (offset: number, text: string) => header.set(new TextEncoder().encode(text), offset);
  const octal = (value: number, width: number) => value.toString(8).padStart(width - 1, "0") + "\0";
  put(0, name);
  put(100, octal(0o644, 8));
  put(108, octal(0, 8));
  put(116, octal(0, 8));
  put(124, octal(data.length, 12));
  put(136, octal(0, 12));
  put(148, "        ");
  put(156, "0");
  put(257, "ustar\u000000");
  const checksum = header.reduce((sum, byte) => sum + byte, 0);
  put(148, checksum.toString(8).padStart(6, "0") + "\0 ");
  const padded = Math.ceil(data.length / 512) * 512;
  const archive = new Uint8Array(512 + padded + 1024);
  archive.set(header, 0);
  archive.set(data, 512);
  return archive;
}

/** One platform's part of a test image. */
export interface TestManifest {
  platform: Platform;
  manifest: Descriptor;
  config: Descriptor;
  layers: Descriptor[];
  diffIds: string[];
}

/** A test image: every blob by digest, the index descriptor and each platform's parts. */
export interface TestImage {
  blobs: Map<string, Uint8Array>;
  index: Descriptor;
  manifests: TestManifest[];
}

function store(blobs: Map<string, Uint8Array>, mediaType: string, bytes: Uint8Array): Descriptor {
  const digest = sha256(bytes);
  blobs.set(digest, bytes);
  return { mediaType, digest, size: bytes.byteLength };
}

function json(value: unknown): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(value));
}

/** Builds an index over one manifest per platform, each with `layerCount` gzip layers. */
export function buildTestImage(
  platforms: Platform[] = [{ os: "linux", architecture: "amd64" }],
  options: { layerCount?: number; tag?: string } = {},
): TestImage {
  const blobs = new Map<string, Uint8Array>();
  const manifests: TestManifest[] = [];
  for (const platform of platforms) {
    const layers: Descriptor[] = [];
    const diffIds: string[] = [];
    for (let index = 0; index < (options.layerCount ?? 1); index++) {
      const tar = singleFileTar(
        `file-${index}.txt`,
        `layer ${index} for ${platform.architecture} ${options.tag ?? ""}\n`,
      );
      diffIds.push(sha256(tar));
      layers.push(store(blobs, MediaTypes.ociLayerGzip, gzipSync(tar)));
    }
    const config: ImageConfig = {
      architecture: platform.architecture,
      os: platform.os,
      ...(platform.variant ? { variant: platform.variant } : {}),
      config: { Env: ["PATH=/bin"], Cmd: ["sh"] },
      rootfs: { type: "layers", diff_ids: diffIds },
      history: [{ created_by: "test fixture" }],
    };
    const configDescriptor = store(blobs, MediaTypes.ociConfig, json(config));
    const manifest: ImageManifest = {
      schemaVersion: 2,
      mediaType: MediaTypes.ociManifest,
      config: configDescriptor,
      layers,
    };
    const manifestDescriptor = store(blobs, MediaTypes.ociManifest, json(manifest));
    manifests.push({
      platform,
      manifest: manifestDescriptor,
      config: configDescriptor,
      layers,
      diffIds,
    });
  }
  const index: ImageIndex = {
    schemaVersion: 2,
    mediaType: MediaTypes.ociIndex,
    manifests: manifests.map(({ manifest, platform }) => ({ ...manifest, platform })),
  };
  return { blobs, index: store(blobs, MediaTypes.ociIndex, json(index)), manifests };
}

/** A BlobReader over a Map, answering not_found like the content store does. */
export function memoryReader(blobs: Map<string, Uint8Array>): BlobReader & { reads: string[] } {
  const reads: string[] = [];
  return {
    reads,
    readAll(digest: string, maxSize?: number): Promise<Uint8Array> {
      reads.push(digest);
      const bytes = blobs.get(digest);
      if (!bytes) return Promise.reject(notFound(`content ${digest} not found`));
      if (maxSize !== undefined && bytes.byteLength > maxSize) {
        return Promise.reject(new Error(`blob ${digest} is larger than ${maxSize}`));
      }
      return Promise.resolve(bytes);
    },
  };
}

/** Sum of descriptor sizes, to check imageSize against. */
export function sizeOf(...descriptors: Descriptor[]): number {
  return descriptors.reduce((sum, descriptor) => sum + descriptor.size, 0);
}
