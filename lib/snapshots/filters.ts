// What this teaches: Walk filters use the filter language every containerd list shares
// (lib/metadata/filters.ts); a store only says which fields a record has. A snapshot has
// `name`, `parent`, `kind` (lowercase: active, view, committed) and `labels.<key>`, so
// `ctr snapshots ls` can be narrowed with `kind==committed,labels."containerd.io/gc.root"`.
// Mirrors the snapshot adaptor of containerd's core/metadata/adaptors.go (adaptSnapshot).

import { parseFilters, recordLookup } from "../metadata/filters.ts";
import type { SnapshotInfo } from "./types.ts";

/** A predicate from filter strings: true when any filter has all of its selectors hold. */
export function snapshotFilter(filters: readonly string[] = []): (info: SnapshotInfo) => boolean {
  const filter = parseFilters(filters);
  return (info) =>
    filter.matches(recordLookup({
      name: info.name,
      parent: info.parent === "" ? undefined : info.parent,
      kind: info.kind.toLowerCase(),
    }, info.labels));
}
