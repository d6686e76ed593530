// What this teaches: the OCI image layout, the on-disk (and in-tar) form of images
// that every tool agrees on: an `oci-layout` file with the layout version, an
// `index.json` listing the images (with their names as annotations), and every blob
// at `blobs/<algorithm>/<hex>`. A `docker save`-compatible `manifest.json` can sit
// beside them, so the same tar loads into Docker too.
// Mirrors the OCI image spec's image-layout.md and the record list that containerd's
// core/images/archive/exporter.go writes (sorted by name, deduplicated).

import type { Digest } from "../content/types.ts";
import type { Descriptor, ImageIndex } from "../images/types.ts";
import { MediaTypes } from "../images/media_types.ts";
import { blobPath } from "./entry_names.ts";
import type { RecordBody, TarRecord } from "./tar_stream.ts";
import type { DockerManifestEntry } from "./types.ts";

/** The name of the layout marker file. */
export const OCI_LAYOUT_FILE = "oci-layout";
/** The name of the layout's entry point. */
export const OCI_INDEX_FILE = "index.json";
/** The `docker save` manifest file. */
export const DOCKER_MANIFEST_FILE = "manifest.json";
/** The only layout version the spec defines. */
export const IMAGE_LAYOUT_VERSION = "1.0.0";

/** containerd's annotation holding an image's full name (`docker.io/library/busybox:latest`). */
export const ANNOTATION_IMAGE_NAME = "io.containerd.image.name";
/** The OCI annotation holding a reference name, by convention only the tag (`latest`). */
export const ANNOTATION_REF_NAME = "org.opencontainers.image.ref.name";

/** A blob to put into a layout, with the way to get its bytes when its turn comes. */
export interface LayoutBlob {
  digest: Digest;
  size: number;
  body: () => RecordBody | Promise<RecordBody>;
}

const encoder = new TextEncoder();

function jsonRecord(name: string, value: unknown, mode: number): TarRecord {
  const bytes = encoder.encode(JSON.stringify(value));
  return { name, type: "file", mode, size: bytes.byteLength, body: () => bytes };
}

/** The index.json of a layout listing `manifests` (each an image, named by annotations). */
export function layoutIndex(manifests: Descriptor[]): ImageIndex {
  return { schemaVersion: 2, mediaType: MediaTypes.ociIndex, manifests };
}

/**
 * The tar records of an OCI layout, sorted by name with duplicates dropped, so the same
 * images always give the same archive bytes.
 */
export function ociLayoutRecords(
  index: ImageIndex,
  blobs: LayoutBlob[],
  dockerManifest?: DockerManifestEntry[],
): TarRecord[] {
  const records: TarRecord[] = [
    jsonRecord(OCI_LAYOUT_FILE, { imageLayoutVersion: IMAGE_LAYOUT_VERSION }, 0o444),
    jsonRecord(OCI_INDEX_FILE, index, 0o644),
  ];
  if (dockerManifest) records.push(jsonRecord(DOCKER_MANIFEST_FILE, dockerManifest, 0o644));
  if (blobs.length > 0) {
    records.push({ name: "blobs", type: "directory", mode: 0o755 });
    const algorithms = new Set(blobs.map((blob) => blob.digest.split(":")[0]));
    for (const algorithm of algorithms) {
      records.push({ name: `blobs/${algorithm}`, type: "directory", mode: 0o755 });
    }
  }
  for (const blob of blobs) {
    records.push({
      name: blobPath(blob.digest),
      type: "file",
      mode: 0o444,
      size: blob.size,
      body: blob.body,
    });
  }
  const sortKey = (record: TarRecord) =>
    record.type === "directory" ? `${record.name}/` : record.name;
  records.sort((a, b) => sortKey(a) < sortKey(b) ? -1 : sortKey(a) > sortKey(b) ? 1 : 0);
  return records.filter((record, position) =>
    position === 0 || record.name !== records[position - 1].name
  );
}
