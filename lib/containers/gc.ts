// What this teaches: a container keeps its root filesystem alive. Every container
// record is a garbage-collection root for its snapshot (and for whatever its gc.ref
// labels point at), so removing the image a container came from never pulls the
// files out from under it. Mirrors the containers part of `scanRoots` in containerd's
// `core/metadata/gc.go`.

import { labelReferences, snapshotNodeType } from "../gc/labels.ts";
import type { GcNode, GcResourceSource } from "../gc/types.ts";
import type { ContainerStore } from "./store.ts";

/** The node type of container records (roots only; never collected). */
export const CONTAINER_NODE = "containers";

/** Plugs the container records into the garbage collector as roots. */
export function containersGcSource(containers: ContainerStore): GcResourceSource {
  return {
    name: "containers",
    types: [],
    roots(): GcNode[] {
      return containers.all().flatMap(({ namespace, container }) => [
        ...(container.snapshotter !== "" && container.snapshotKey !== ""
          ? [{
            type: snapshotNodeType(container.snapshotter),
            namespace,
            key: container.snapshotKey,
          }]
          : []),
        ...labelReferences(namespace, container.labels),
      ]);
    },
    references: () => [],
    candidates: () => [],
    remove() {},
  };
}
