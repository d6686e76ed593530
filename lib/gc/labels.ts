// What this teaches: containerd's garbage collector is driven by plain labels, so any
// client can protect or link resources without a special API. Mirrors the label
// constants of containerd's `core/metadata/gc.go` and `core/leases`.

import type { GcNode } from "./types.ts";

/** A resource carrying this label (any value) is a root: never collected. */
export const GC_ROOT_LABEL = "containerd.io/gc.root";

/**
 * Labels starting with this prefix point at another blob in the same namespace:
 * `containerd.io/gc.ref.content.m.<i>` (index → manifest), `...content.config`,
 * `...content.l.<i>` (manifest → layer). The value is the target's digest.
 */
export const GC_REF_CONTENT_PREFIX = "containerd.io/gc.ref.content";

/**
 * Labels starting with this prefix point at a snapshot:
 * `containerd.io/gc.ref.snapshot.<snapshotter>=<snapshot key>`.
 */
export const GC_REF_SNAPSHOT_PREFIX = "containerd.io/gc.ref.snapshot.";

/** A lease (or resource) with this label, an RFC 3339 time, stops protecting anything after it. */
export const GC_EXPIRE_LABEL = "containerd.io/gc.expire";

/** Node types the content and lease stores contribute. */
export const CONTENT_NODE = "content";
export const INGEST_NODE = "ingests";
export const LEASE_NODE = "leases";

/** The node type of a snapshotter's snapshots, e.g. `snapshots/overlayfs`. */
export function snapshotNodeType(snapshotter: string): string {
  return `snapshots/${snapshotter}`;
}

/**
 * The nodes a label set points at: content edges to digests, snapshot edges to
 * snapshot keys. Used by every source whose records carry gc.ref labels.
 */
export function labelReferences(
  namespace: string,
  labels: Record<string, string>,
): GcNode[] {
  const edges: GcNode[] = [];
  for (const [key, value] of Object.entries(labels)) {
    if (value === "") continue;
    if (key === GC_REF_CONTENT_PREFIX || key.startsWith(GC_REF_CONTENT_PREFIX + ".")) {
      edges.push({ type: CONTENT_NODE, namespace, key: value });
    } else if (key.startsWith(GC_REF_SNAPSHOT_PREFIX)) {
      const snapshotter = key.slice(GC_REF_SNAPSHOT_PREFIX.length);
      if (snapshotter !== "") {
        edges.push({ type: snapshotNodeType(snapshotter), namespace, key: value });
      }
    }
  }
  return edges;
}
