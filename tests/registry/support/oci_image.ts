// What this teaches: a test image does not need a build tool. An OCI image layout is
// a directory with `oci-layout`, `index.json` and `blobs/sha256/<hex>`; each layer is
// a gzipped tar, the config lists the layers' uncompressed digests (diffIDs), the
// manifest lists the config and layers, and an index lists manifests per platform.
// skopeo reads such a layout (`oci:DIR:TAG`) and pushes it to a registry, so the tests
// and the benchmark get images of any size and shape, byte-for-byte reproducible
// from a seed (a xorshift generator fills the files).

import { createHash } from "node:crypto";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import type { Descriptor, ImageIndex, ImageManifest, Platform } from "../../../lib/images/types.ts";
import { MediaTypes } from "../../../lib/images/media_types.ts";

/** One layer to generate: a file of seeded random bytes (plus optional small text files). */
export interface LayerSpec {
  /** Size of the random file in the layer. */
  randomBytes: number;
  /** Extra small files, path → text. */
  files?: Record<string, string>;
}

/** One platform's image inside the layout. */
export interface ImageSpec {
  platform: Platform;
  layers: LayerSpec[];
  /** Seed of the random contents; different seeds give different blobs. */
  seed: number;
}

/** What was written, for the tests to compare against. */
export interface GeneratedImage {
  layoutDir: string;
  tag: string;
  /** The descriptor index.json points at: a manifest, or an index for several platforms. */
  root: Descriptor;
  manifests: {
    descriptor: Descriptor;
    platform: Platform;
    config: Descriptor;
    layers: (Descriptor & { diffId: string })[];
  }[];
  /** Every blob's bytes by digest (the test images are small; the bench one is not kept). */
  blobs: Map<string, Uint8Array>;
}

const encoder = new TextEncoder();

function sha256(bytes: Uint8Array): string {
  return `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
}

/** Fills `size` bytes from a xorshift128 generator seeded with `seed`. */
export function seededBytes(size: number, seed: number): Uint8Array<ArrayBuffer> {
  const words = new Uint32Array(Math.ceil(size / 4));
  let x = (seed * 2654435761) >>> 0 || 1;
  let y = 362436069;
  let z = 521288629;
  let w = 88675123 ^ seed;
  for (let index = 0; index < words.length; index++) {
    const t = x ^ (x << 11);
    x = y;
    y = z;
    z = w;
    w = (w ^ (w >>> 19) ^ (t ^ (t >>> 8))) >>> 0;
    words[index] = w;
  }
  return new Uint8Array(words.buffer, 0, size);
}

/** A 512-byte ustar header for a regular file or directory. */
function tarHeader(name: string, size: number, type: "file" | "directory"): Uint8Array {
  const header = new Uint8Array(512);
  const put = (text: string, offset: number, length: number) => {
    header.set(encoder.encode(text).subarray(0, length), offset);
  };
  const octal = (value: number, length: number) => value.toString(8).padStart(length - 1, "0");
  put(name, 0, 100);
  put(octal(type === "directory" ? 0o755 : 0o644, 8), 100, 8);
  put(octal(0, 8), 108, 8);
  put(octal(0, 8), 116, 8);
  put(octal(size, 12), 124, 12);
  put(octal(1_700_000_000, 12), 136, 12);
  put("        ", 148, 8);
  put(type === "directory" ? "5" : "0", 156, 1);
  put("ustar\u000000", 257, 8);
  put("root", 265, 32);
  put("root", 297, 32);
  let checksum = 0;
  for (const byte of header) checksum += byte;
  put(`${octal(checksum, 7)}\u0000 `, 148, 8);
  return header;
}

/** An uncompressed tar of the given entries. */
export function tarOf(entries: { name: string; bytes?: Uint8Array }[]): Uint8Array<ArrayBuffer> {
  const parts: Uint8Array[] = [];
  for (const entry of entries) {
    if (entry.bytes === undefined) {
      parts.push(
        tarHeader(entry.name.endsWith("/") ? entry.name : `${entry.name}/`, 0, "directory"),
      );
      continue;
    }
    parts.push(tarHeader(entry.name, entry.bytes.byteLength, "file"), entry.bytes);
    const padding = (512 - (entry.bytes.byteLength % 512)) % 512;
    if (padding > 0) parts.push(new Uint8Array(padding));
  }
  parts.push(new Uint8Array(1024));
  const total = parts.reduce((sum, part) => sum + part.byteLength, 0);
  const tar = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    tar.set(part, offset);
    offset += part.byteLength;
  }
  return tar;
}

async function writeBlob(layoutDir: string, bytes: Uint8Array, keep?: Map<string, Uint8Array>) {
  const digest = sha256(bytes);
  await Deno.writeFile(join(layoutDir, "blobs", "sha256", digest.slice(7)), bytes);
  keep?.set(digest, bytes);
  return { digest, size: bytes.byteLength };
}

/**
 * Writes an OCI layout with one image per spec (an index when there are several, or
 * when `forceIndex`), tagged `tag`. `keepBlobs` keeps every blob's bytes in memory.
 */
export async function writeOciLayout(
  layoutDir: string,
  specs: ImageSpec[],
  options: { tag?: string; forceIndex?: boolean; keepBlobs?: boolean; gzipLevel?: number } = {},
): Promise<GeneratedImage> {
  const tag = options.tag ?? "latest";
  await Deno.mkdir(join(layoutDir, "blobs", "sha256"), { recursive: true });
  await Deno.writeTextFile(join(layoutDir, "oci-layout"), '{"imageLayoutVersion":"1.0.0"}');
  const blobs = new Map<string, Uint8Array>();
  const keep = options.keepBlobs === false ? undefined : blobs;
  const manifests: GeneratedImage["manifests"] = [];
  for (const spec of specs) {
    const layers: (Descriptor & { diffId: string })[] = [];
    for (const [index, layer] of spec.layers.entries()) {
      const entries: { name: string; bytes?: Uint8Array }[] = [{ name: "data/" }];
      entries.push({
        name: `data/random-${spec.seed}-${index}.bin`,
        bytes: seededBytes(layer.randomBytes, spec.seed * 1000 + index + 1),
      });
      for (const [path, text] of Object.entries(layer.files ?? {})) {
        entries.push({ name: path, bytes: encoder.encode(text) });
      }
      const tar = tarOf(entries);
      const compressed = gzipSync(tar, { level: options.gzipLevel ?? 6 });
      const written = await writeBlob(layoutDir, compressed, keep);
      layers.push({ mediaType: MediaTypes.ociLayerGzip, ...written, diffId: sha256(tar) });
    }
    const config = {
      created: "2024-01-01T00:00:00Z",
      architecture: spec.platform.architecture,
      os: spec.platform.os,
      ...(spec.platform.variant ? { variant: spec.platform.variant } : {}),
      config: { Cmd: ["/bin/sh"], Env: ["PATH=/usr/bin:/bin"] },
      rootfs: { type: "layers", diff_ids: layers.map((layer) => layer.diffId) },
      history: layers.map((_, index) => ({ created_by: `mini test layer ${index}` })),
    };
    const configDescriptor: Descriptor = {
      mediaType: MediaTypes.ociConfig,
      ...await writeBlob(layoutDir, encoder.encode(JSON.stringify(config)), keep),
    };
    const manifest: ImageManifest = {
      schemaVersion: 2,
      mediaType: MediaTypes.ociManifest,
      config: configDescriptor,
      layers: layers.map(({ mediaType, digest, size }) => ({ mediaType, digest, size })),
    };
    const manifestDescriptor: Descriptor = {
      mediaType: MediaTypes.ociManifest,
      ...await writeBlob(layoutDir, encoder.encode(JSON.stringify(manifest)), blobs),
    };
    manifests.push({
      descriptor: manifestDescriptor,
      platform: spec.platform,
      config: configDescriptor,
      layers,
    });
  }
  let root: Descriptor;
  if (manifests.length === 1 && !options.forceIndex) {
    root = manifests[0].descriptor;
  } else {
    const index: ImageIndex = {
      schemaVersion: 2,
      mediaType: MediaTypes.ociIndex,
      manifests: manifests.map(({ descriptor, platform }) => ({ ...descriptor, platform })),
    };
    root = {
      mediaType: MediaTypes.ociIndex,
      ...await writeBlob(layoutDir, encoder.encode(JSON.stringify(index)), blobs),
    };
  }
  const layoutIndex = {
    schemaVersion: 2,
    manifests: [{ ...root, annotations: { "org.opencontainers.image.ref.name": tag } }],
  };
  await Deno.writeTextFile(join(layoutDir, "index.json"), JSON.stringify(layoutIndex));
  return { layoutDir, tag, root, manifests, blobs };
}
