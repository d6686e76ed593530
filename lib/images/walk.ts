// What this teaches: an image is a small tree of blobs reached from one descriptor:
// index → manifests (one per platform) → config and layers. Everything that works on
// an image (size, platforms, export, unpack, garbage collection labels) is a walk of
// that tree, reading only the JSON nodes and never the layers.
// Mirrors containerd's `core/images/handlers.go` (Walk, ChildrenHandler,
// FilterPlatforms, LimitManifests, SetChildrenMappedLabels) and `mediatypes.go`
// (ChildGCLabels).

import { invalidArgument } from "../api/errors.ts";
import type { ContentApi } from "../content/types.ts";
import type { Labels } from "../metadata/db.ts";
import { sortByPreference } from "../platforms/compare.ts";
import type { PlatformMatchComparer } from "../platforms/types.ts";
import { type IndexOrManifest, MAX_MANIFEST_BYTES, parseIndexOrManifest } from "./manifest.ts";
import { isConfigType, isIndexType, isLayerType, isManifestType } from "./media_types.ts";
import type { Descriptor } from "./types.ts";

/** The part of the content store a walk needs: reading small blobs whole. */
export type BlobReader = Pick<ContentApi, "readAll">;

/**
 * Reads a JSON blob of at most MAX_MANIFEST_BYTES and checks that its length is
 * what the descriptor promised (the store already checked the digest).
 */
export async function readSmallBlob(
  reader: BlobReader,
  descriptor: Descriptor,
): Promise<Uint8Array> {
  if (descriptor.size > MAX_MANIFEST_BYTES) {
    throw invalidArgument(
      `${descriptor.mediaType} ${descriptor.digest} is ${descriptor.size} bytes, ` +
        `over the ${MAX_MANIFEST_BYTES}-byte limit for manifests and configs`,
    );
  }
  const bytes = await reader.readAll(descriptor.digest, MAX_MANIFEST_BYTES);
  if (bytes.byteLength !== descriptor.size) {
    throw invalidArgument(
      `blob ${descriptor.digest} is ${bytes.byteLength} bytes but its descriptor says ${descriptor.size}`,
    );
  }
  return bytes;
}

/** Reads and validates the index or manifest a descriptor points at. */
export async function readIndexOrManifest(
  reader: BlobReader,
  descriptor: Descriptor,
): Promise<IndexOrManifest> {
  return parseIndexOrManifest(await readSmallBlob(reader, descriptor), descriptor);
}

/**
 * The immediate children of a node (`images.Children`): an index's manifests, a
 * manifest's config then layers; configs, layers and unknown types have none.
 */
export async function imageChildren(
  reader: BlobReader,
  descriptor: Descriptor,
): Promise<Descriptor[]> {
  if (!isIndexType(descriptor.mediaType) && !isManifestType(descriptor.mediaType)) return [];
  const document = await readIndexOrManifest(reader, descriptor);
  return document.kind === "index"
    ? [...document.index.manifests]
    : [document.manifest.config, ...document.manifest.layers];
}

/** Options of a walk. */
export interface WalkOptions {
  /** Keep only index entries this matcher accepts (or that declare no platform). */
  platform?: PlatformMatchComparer;
  /** Keep at most this many manifests of each index, the best ones (`LimitManifests`). */
  limitManifests?: number;
}

/**
 * Visits `target` and its descendants depth-first, parents before children. `visit`
 * returns false to skip a node's children (containerd's ErrSkipDesc).
 */
export async function walkImage(
  reader: BlobReader,
  target: Descriptor,
  visit: (
    descriptor: Descriptor,
    parent: Descriptor | undefined,
  ) => Promise<boolean | void> | boolean | void,
  options: WalkOptions = {},
): Promise<void> {
  const walk = async (descriptor: Descriptor, parent: Descriptor | undefined) => {
    if ((await visit(descriptor, parent)) === false) return;
    let children = await imageChildren(reader, descriptor);
    if (isIndexType(descriptor.mediaType)) children = filterIndexEntries(children, options);
    for (const child of children) await walk(child, descriptor);
  };
  await walk(target, undefined);
}

/** Applies a walk's platform filter and manifest limit to an index's entries. */
export function filterIndexEntries(entries: Descriptor[], options: WalkOptions): Descriptor[] {
  const { platform, limitManifests } = options;
  if (!platform) return limitManifests === undefined ? entries : entries.slice(0, limitManifests);
  const matching = entries.filter((entry) => !entry.platform || platform.match(entry.platform));
  const ordered = sortByPreference(matching, (entry) => entry.platform, platform);
  return limitManifests === undefined ? ordered : ordered.slice(0, limitManifests);
}

/** The label prefix that links a parent blob to a child of this media type (`ChildGCLabels`). */
export function childGcLabelKey(child: Descriptor): string {
  if (isConfigType(child.mediaType)) return "containerd.io/gc.ref.content.config";
  if (isManifestType(child.mediaType)) return "containerd.io/gc.ref.content.m.";
  if (isLayerType(child.mediaType)) return "containerd.io/gc.ref.content.l.";
  return "containerd.io/gc.ref.content.";
}

/**
 * The labels a parent blob carries so garbage collection keeps its children
 * (`SetChildrenMappedLabels`): `containerd.io/gc.ref.content.m.0` for an index's first
 * manifest, `…content.config` for a manifest's config, `…content.l.0`, `…l.1` for its
 * layers. Each prefix is numbered on its own.
 */
export function childGcLabels(children: readonly Descriptor[]): Labels {
  const labels: Labels = {};
  const counters = new Map<string, number>();
  for (const child of children) {
    const prefix = childGcLabelKey(child);
    const index = counters.get(prefix) ?? 0;
    counters.set(prefix, index + 1);
    const key = index > 0 || prefix.endsWith(".") ? `${prefix}${index}` : prefix;
    labels[key] = child.digest;
  }
  return labels;
}
