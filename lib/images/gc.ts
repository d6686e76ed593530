// What this teaches: why `ctr images rm` frees disk space only through garbage
// collection. Every image record is a root of the collector's graph: its target
// blob stays, and so does everything the target's gc.ref labels reach (manifests,
// config, layers). Once the record is gone, those blobs are reachable from nothing
// and the next collection sweeps them. Mirrors the images part of `scanRoots` in
// containerd's `core/metadata/gc.go`.

import { CONTENT_NODE, labelReferences } from "../gc/labels.ts";
import type { GcNode, GcResourceSource } from "../gc/types.ts";
import type { ImageStore } from "./store.ts";

/** Plugs the image records into the garbage collector as roots. */
export function imagesGcSource(images: ImageStore): GcResourceSource {
  return {
    name: "images",
    // Images are never collected, so this source answers for no node type.
    types: [],
    roots(): GcNode[] {
      return images.allImages().flatMap(({ namespace, image }) => [
        { type: CONTENT_NODE, namespace, key: image.target.digest },
        // containerd also follows gc.ref labels set on the image record itself.
        ...labelReferences(namespace, image.labels),
      ]);
    },
    references: () => [],
    candidates: () => [],
    remove() {},
  };
}
