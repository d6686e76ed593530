// What this teaches: the contract every snapshotter keeps. A snapshot is a directory tree
// in one of three kinds: *Active* (writable, being changed: a container's rootfs or a
// layer being unpacked), *Committed* (read-only, immutable: an unpacked image layer,
// usable as a parent), and *View* (a read-only look at a committed snapshot). Prepare
// makes an Active snapshot on top of a committed parent, Commit freezes it under a new
// name (and the Active key disappears), View looks at a committed snapshot without
// changing it. The rules (only committed snapshots can be parents; a committed snapshot
// with children cannot be removed) are what make layer sharing between images safe.
// Mirrors containerd's core/snapshots/snapshotter.go.

import type { Labels } from "../metadata/db.ts";
import type { Mount } from "../mount/types.ts";

/** The kinds of snapshot, spelled as containerd prints them (`ctr snapshots ls`). */
export type SnapshotKind = "View" | "Active" | "Committed";

/** What Stat and Walk report about a snapshot. */
export interface SnapshotInfo {
  kind: SnapshotKind;
  /** The key (Active, View) or name (Committed) of the snapshot in its namespace. */
  name: string;
  /** The committed snapshot it sits on; "" when it has none. */
  parent: string;
  labels: Labels;
  createdAt: string;
  updatedAt: string;
}

/** Disk usage of a snapshot's own layer (not of its parents). */
export interface SnapshotUsage {
  /** Bytes of disk space (allocated blocks, hard links counted once). */
  size: number;
  /** Number of inodes (files, directories, links...). */
  inodes: number;
}

/** Options of Prepare, View and Commit. */
export interface SnapshotOptions {
  labels?: Labels;
}

/** The name of the only snapshotter mini has, as containerd's plugin is named. */
export const OVERLAYFS = "overlayfs";

/**
 * A snapshotter as one namespace sees it, through the API. The daemon's Snapshots service
 * serves it; the client's SnapshotsClient implements it over the socket.
 */
export interface SnapshotsApi {
  /** Information about one snapshot (not_found when it does not exist). */
  stat(key: string): Promise<SnapshotInfo>;
  /**
   * Changes labels. With `fieldPaths` (`labels`, `labels.<key>`) only those are changed
   * (a missing value deletes the key); without, the whole label set is replaced.
   */
  update(key: string, labels: Labels, fieldPaths?: string[]): Promise<SnapshotInfo>;
  /** Disk usage of the snapshot's own layer. */
  usage(key: string): Promise<SnapshotUsage>;
  /** The mounts that assemble an Active or View snapshot. */
  mounts(key: string): Promise<Mount[]>;
  /** Creates an Active snapshot on top of the committed `parent` ("" for none). */
  prepare(key: string, parent?: string, options?: SnapshotOptions): Promise<Mount[]>;
  /** Creates a read-only View of the committed `parent` ("" for an empty one). */
  view(key: string, parent?: string, options?: SnapshotOptions): Promise<Mount[]>;
  /** Freezes the Active snapshot `key` as the Committed snapshot `name`; `key` is gone after. */
  commit(name: string, key: string, options?: SnapshotOptions): Promise<void>;
  /** Removes a snapshot; a committed snapshot with children cannot be removed. */
  remove(key: string): Promise<void>;
  /**
   * Every snapshot matching one of `filters` (all when none): containerd's Walk. A filter is
   * a comma-separated list of conditions that must all hold: `kind==committed`,
   * `name==KEY`, `parent==KEY`, `labels."containerd.io/gc.root"`, `labels.k!=v`, `name~=re`.
   */
  walk(filters?: string[]): Promise<SnapshotInfo[]>;
}
