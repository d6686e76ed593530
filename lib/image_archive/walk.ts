// What this teaches: an image is a tree of blobs (index → manifests → config and
// layers) and the garbage collector only knows it as labels. Walking the tree once
// after an import does three jobs: it checks that every blob the tree needs is
// really there, it skips the platforms nobody asked for, and it writes the edges
// (`containerd.io/gc.ref.content.m.0`, `…config`, `…l.0`) on each parent so that
// an image record pointing at the root keeps the whole tree alive.
// Mirrors the handler chain of containerd's client/import.go: images.Walk with
// FilterPlatforms and SetChildrenLabels (core/images/handlers.go); the children and
// the label names come from lib/images/walk.ts.

import { invalidArgument, isErrorCode } from "../api/errors.ts";
import type { ContentApi } from "../content/types.ts";
import type { Descriptor } from "../images/types.ts";
import { isConfigType, isIndexType, isLayerType, isManifestType } from "../images/media_types.ts";
import { childGcLabels, imageChildren } from "../images/walk.ts";
import type { PlatformMatcher } from "../platforms/types.ts";

/** Turns "not found" from the store into what it means here: the tree has a hole. */
export function explainMissing(error: unknown, descriptor: Descriptor, what: string): unknown {
  if (!isErrorCode(error, "not_found")) return error;
  return invalidArgument(
    `${what} ${descriptor.digest} is referenced but is neither in the archive nor in the ` +
      "content store",
  );
}

/** Confirms a leaf blob (config or layer) is stored with the size its parent says. */
export async function requireBlob(
  content: ContentApi,
  descriptor: Descriptor,
  what: string,
): Promise<void> {
  try {
    const info = await content.info(descriptor.digest);
    if (info.size !== descriptor.size) {
      throw invalidArgument(
        `${what} ${descriptor.digest} is stored with ${info.size} bytes but referenced with ` +
          `size ${descriptor.size}`,
      );
    }
  } catch (error) {
    throw explainMissing(error, descriptor, what);
  }
}

/** Options of labelImageTree(). */
export interface LabelTreeOptions {
  /** Which children of indexes are followed (descriptors without a platform always are). */
  platforms: PlatformMatcher;
  /**
   * Overrides the children of one descriptor (the importer reads the top index itself
   * to collect image names); return undefined to use imageChildren().
   */
  childrenFor?: (descriptor: Descriptor) => Promise<Descriptor[] | undefined>;
}

/**
 * Walks the tree under `root`, depth first, checking every blob and setting GC labels
 * on every parent for the children that were followed. Returns how many descriptors
 * the root had left after platform filtering (0 means nothing matched).
 */
export async function labelImageTree(
  content: ContentApi,
  root: Descriptor,
  options: LabelTreeOptions,
): Promise<number> {
  const visited = new Set<string>();
  let rootChildren = 0;
  const visit = async (descriptor: Descriptor, what: string, isRoot: boolean) => {
    if (visited.has(descriptor.digest)) return;
    visited.add(descriptor.digest);
    let all: Descriptor[];
    try {
      all = await options.childrenFor?.(descriptor) ?? await imageChildren(content, descriptor);
    } catch (error) {
      throw explainMissing(error, descriptor, what);
    }
    const children = all.filter((child) =>
      child.platform === undefined || options.platforms.match(child.platform)
    );
    if (isRoot) rootChildren = children.length;
    if (!isIndexType(descriptor.mediaType) && !isManifestType(descriptor.mediaType)) {
      await requireBlob(content, descriptor, what);
      return;
    }
    if (children.length > 0) {
      await content.updateLabels(descriptor.digest, childGcLabels(children), { merge: true });
    }
    for (const [position, child] of children.entries()) {
      const kind = isConfigType(child.mediaType)
        ? "image config"
        : isLayerType(child.mediaType)
        ? `layer ${position - 1} of manifest ${descriptor.digest}`
        : isIndexType(child.mediaType)
        ? "index"
        : isManifestType(child.mediaType)
        ? "manifest"
        : "blob";
      await visit(child, kind, false);
    }
  };
  await visit(root, "index", true);
  return rootChildren;
}
