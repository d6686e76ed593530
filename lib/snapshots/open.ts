// What this teaches: what the daemon does with its snapshotter at start-up: build the
// on-disk snapshotter in its plugin directory, put the namespaced metadata layer on top,
// and sweep away directories a crash may have left half made. Mirrors the overlayfs
// plugin registration (plugins/snapshots/overlay/plugin) and the metadata plugin wrapping
// every snapshotter (core/metadata/db.go NewDB).

import type { MetadataDb } from "../metadata/db.ts";
import { SnapshotStore } from "./namespaced.ts";
import { OverlaySnapshotter } from "./overlay.ts";
import { OVERLAYFS } from "./types.ts";

export type { SnapshotStore };

/** Opens the overlayfs snapshotter rooted at `root` (`<root>/io.containerd.snapshotter.v1.overlayfs`). */
export function openSnapshotStore(db: MetadataDb, root: string): SnapshotStore {
  const backend = new OverlaySnapshotter(db, root);
  backend.cleanup();
  return new SnapshotStore(db, backend, OVERLAYFS);
}
