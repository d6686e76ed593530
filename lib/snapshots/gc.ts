// What this teaches: how snapshots take part in garbage collection. Each snapshot is a
// node `snapshots/overlayfs` keyed by its name; it keeps its parent alive (a layer is
// needed by every layer above it), and an image keeps its top snapshot alive through the
// label `containerd.io/gc.ref.snapshot.overlayfs=<chainID>` on its config blob. Roots are
// snapshots labelled `containerd.io/gc.root`, and every Active or View snapshot: those are
// in use by someone (a container, an unpack in progress, `ctr snapshots prepare`), and
// mini has no leases yet to say by whom. Committed snapshots that nothing reaches are
// removed, children first, and their directories deleted after the transaction.
// Mirrors the snapshot parts of containerd's core/metadata/gc.go (scanRoots, references,
// scanAll, remove) and core/metadata/snapshot.go (garbageCollect).

import { GC_ROOT_LABEL, labelReferences, snapshotNodeType } from "../gc/labels.ts";
import type { GcNode, GcResourceSource } from "../gc/types.ts";
import type { SnapshotStore } from "./namespaced.ts";

/** The snapshot store as a source of nodes and edges for the garbage collector. */
export function snapshotGcSource(store: SnapshotStore): GcResourceSource {
  const type = snapshotNodeType(store.snapshotter);
  const pending: string[] = [];
  const node = (namespace: string, key: string): GcNode => ({ type, namespace, key });
  return {
    name: type,
    types: [type],
    roots() {
      return store.all()
        .filter((snapshot) => snapshot.kind !== "Committed" || GC_ROOT_LABEL in snapshot.labels)
        .map((snapshot) => node(snapshot.namespace, snapshot.name));
    },
    references(from) {
      if (from.type !== type) return [];
      let info;
      try {
        info = store.stat(from.namespace, from.key);
      } catch {
        return []; // a label may point at a snapshot that does not exist (yet)
      }
      const edges = labelReferences(from.namespace, info.labels);
      if (info.parent !== "") edges.push(node(from.namespace, info.parent));
      return edges;
    },
    candidates() {
      return store.all()
        .filter((snapshot) => snapshot.kind === "Committed")
        .map((snapshot) => node(snapshot.namespace, snapshot.name));
    },
    remove(unreachable) {
      pending.push(...store.removeTree(unreachable.namespace, unreachable.key));
    },
    async cleanup() {
      const cleaned: string[] = [];
      for (const path of pending.splice(0)) {
        await store.backend.removeDirectory(path);
        cleaned.push(`${type} ${path}`);
      }
      return cleaned;
    },
  };
}
