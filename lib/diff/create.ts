// What this teaches: "what did this snapshot change?" as a client asks it. Get read-only
// mounts of the parent and of the snapshot (views, when the snapshot is committed and so
// has no mounts of its own), ask the differ to compare them, and remove the temporary
// views again, whatever happens. This is how `ctr snapshots diff` and `docker commit`
// turn a container's writable layer into an image layer.
// Mirrors containerd's core/rootfs/diff.go (CreateDiff) and the withMounts helper of
// cmd/ctr/commands/snapshots/snapshots.go.

import { randomBytes } from "node:crypto";
import type { Descriptor } from "../images/types.ts";
import type { Mount } from "../mount/types.ts";
import type { SnapshotsApi } from "../snapshots/types.ts";
import type { DiffApi, DiffRequestOptions } from "./types.ts";

/** A short random suffix for temporary snapshot keys, as containerd's uniquePart(). */
export function uniquePart(): string {
  return `${Math.floor(Date.now() / 1000)}-${randomBytes(4).toString("hex")}`;
}

/**
 * Runs `work` with mounts of snapshot `key`: its own when it is Active or a View, a
 * temporary View otherwise (removed afterwards). An empty key means the empty tree.
 */
export async function withSnapshotMounts<T>(
  snapshots: SnapshotsApi,
  key: string,
  work: (mounts: Mount[]) => Promise<T>,
): Promise<T> {
  if (key === "") return await work([]);
  const info = await snapshots.stat(key);
  if (info.kind !== "Committed") return await work(await snapshots.mounts(key));
  const viewKey = `${key}-view-${uniquePart()}`;
  const mounts = await snapshots.view(viewKey, key);
  try {
    return await work(mounts);
  } finally {
    await snapshots.remove(viewKey);
  }
}

/** The layer that snapshot `key` adds on top of its parent, written as a blob. */
export async function createDiff(
  snapshots: SnapshotsApi,
  differ: DiffApi,
  key: string,
  options: DiffRequestOptions = {},
): Promise<Descriptor> {
  const info = await snapshots.stat(key);
  return await withSnapshotMounts(
    snapshots,
    info.parent,
    (lower) => withSnapshotMounts(snapshots, key, (upper) => differ.diff(lower, upper, options)),
  );
}

/** The layer that turns snapshot `lowerKey` into snapshot `upperKey`, written as a blob. */
export async function diffSnapshots(
  snapshots: SnapshotsApi,
  differ: DiffApi,
  lowerKey: string,
  upperKey: string,
  options: DiffRequestOptions = {},
): Promise<Descriptor> {
  return await withSnapshotMounts(
    snapshots,
    lowerKey,
    (lower) =>
      withSnapshotMounts(snapshots, upperKey, (upper) => differ.diff(lower, upper, options)),
  );
}
