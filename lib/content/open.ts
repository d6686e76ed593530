// What this teaches: the order in which the content plugin comes up: the directory
// tree first, then the namespaced store over it, then its part of the GC graph.
// Mirrors how containerd's metadata plugin wraps the `content` plugin at start-up.

import type { GarbageCollector } from "../gc/collector.ts";
import type { LeaseStore } from "../leases/store.ts";
import type { MetadataDb } from "../metadata/db.ts";
import type { NamespaceStore } from "../metadata/namespaces.ts";
import { ContentGcSource } from "./gc_source.ts";
import { LocalContentStore } from "./local_store.ts";
import { MetadataContentStore } from "./metadata_store.ts";

/** Builds the content store under `root` (`<daemon root>/io.containerd.content.v1.content`). */
export function openContentStore(
  db: MetadataDb,
  root: string,
  namespaces: NamespaceStore,
  leases: LeaseStore,
  gc: GarbageCollector,
): MetadataContentStore {
  const store = new MetadataContentStore({
    db,
    local: new LocalContentStore(root),
    namespaces,
    leases,
    gc,
  });
  gc.register(new ContentGcSource(store));
  return store;
}
