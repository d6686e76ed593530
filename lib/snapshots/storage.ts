// What this teaches: the bookkeeping under a snapshotter. Each snapshot gets a numeric id
// (which names its directory on disk, `snapshots/<id>`), a kind, and a link to its parent;
// the rules of the snapshot model are enforced here, in one transaction with the change,
// so no sequence of calls can commit a view, parent a snapshot on an active one, or remove
// a layer that others are built on. These records are global: the namespaces live one
// level up (namespaced.ts), exactly as containerd keeps snapshotter storage apart from its
// namespaced metadata.
// Mirrors containerd's core/snapshots/storage (bolt.go, metastore.go): CreateSnapshot,
// GetSnapshot, CommitActive, Remove, GetInfo, WalkInfo.

import { alreadyExists, failedPrecondition, invalidArgument, notFound } from "../api/errors.ts";
import { type MetadataDb, now } from "../metadata/db.ts";
import type { SnapshotKind, SnapshotUsage } from "./types.ts";

/** A snapshot as the snapshotter needs it to build mounts: its id and its parents' ids. */
export interface StoredSnapshot {
  id: number;
  kind: SnapshotKind;
  /** Ids of the parent chain, nearest first (the lowerdir order). */
  parentIds: number[];
}

/** One storage record. */
export interface StorageRecord {
  id: number;
  key: string;
  kind: SnapshotKind;
  /** Backend key of the parent, "" for none. */
  parent: string;
  size: number;
  inodes: number;
  createdAt: string;
  updatedAt: string;
}

interface StorageRow {
  id: number;
  key: string;
  parent_id: number | null;
  kind: SnapshotKind;
  size: number;
  inodes: number;
  created_at: string;
  updated_at: string;
}

/** Snapshot records of one snapshotter, in the daemon's metadata database. */
export class SnapshotStorage {
  constructor(private readonly db: MetadataDb, readonly snapshotter: string) {
    db.ensureSchema(`
      CREATE TABLE IF NOT EXISTS snapshot_storage (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        snapshotter TEXT NOT NULL,
        key TEXT NOT NULL,
        parent_id INTEGER REFERENCES snapshot_storage(id),
        kind TEXT NOT NULL,
        size INTEGER NOT NULL DEFAULT 0,
        inodes INTEGER NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        UNIQUE (snapshotter, key)
      );
      CREATE INDEX IF NOT EXISTS snapshot_storage_parent ON snapshot_storage (parent_id);
    `);
  }

  /**
   * Records a new Active or View snapshot. The parent must exist and be Committed: an
   * Active snapshot is still changing, so nothing may be built on it. Call inside a
   * transaction together with the on-disk work.
   */
  create(kind: SnapshotKind, key: string, parent: string): StoredSnapshot {
    if (kind === "Committed") {
      throw invalidArgument("snapshots are created Active or View; Commit makes them Committed");
    }
    if (key === "") throw invalidArgument("snapshot key must not be empty");
    return this.db.transaction(() => {
      if (this.#row(key)) throw alreadyExists(`snapshot ${key} already exists`);
      let parentRow: StorageRow | undefined;
      if (parent !== "") {
        parentRow = this.#row(parent);
        if (!parentRow) throw notFound(`parent snapshot ${parent} does not exist`);
        if (parentRow.kind !== "Committed") {
          throw failedPrecondition(
            `parent ${parent} is ${parentRow.kind}, not Committed: commit it before building on it`,
          );
        }
      }
      const timestamp = now();
      this.db.run(
        `INSERT INTO snapshot_storage (snapshotter, key, parent_id, kind, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?)`,
        this.snapshotter,
        key,
        parentRow?.id ?? null,
        kind,
        timestamp,
        timestamp,
      );
      return this.get(key);
    });
  }

  /** The id, kind and parent chain of a snapshot. */
  get(key: string): StoredSnapshot {
    const row = this.#row(key);
    if (!row) throw notFound(`snapshot ${key} does not exist`);
    const parentIds: number[] = [];
    let parentId = row.parent_id;
    while (parentId !== null) {
      parentIds.push(parentId);
      const parent = this.db.get<{ parent_id: number | null }>(
        "SELECT parent_id FROM snapshot_storage WHERE id = ?",
        parentId,
      );
      parentId = parent?.parent_id ?? null;
    }
    return { id: row.id, kind: row.kind, parentIds };
  }

  /** The full record of a snapshot. */
  info(key: string): StorageRecord {
    const row = this.#row(key);
    if (!row) throw notFound(`snapshot ${key} does not exist`);
    return this.#record(row);
  }

  /**
   * Turns the Active snapshot `key` into the Committed snapshot `name`, with the usage
   * measured before. The id (and so the directory) stays; the key `key` is gone afterwards.
   */
  commit(key: string, name: string, usage: SnapshotUsage): number {
    if (name === "") throw invalidArgument("the committed snapshot's name must not be empty");
    return this.db.transaction(() => {
      const row = this.#row(key);
      if (!row) throw notFound(`snapshot ${key} does not exist`);
      if (row.kind !== "Active") {
        throw failedPrecondition(`snapshot ${key} is ${row.kind}: only Active snapshots commit`);
      }
      if (this.#row(name)) throw alreadyExists(`snapshot ${name} already exists`);
      this.db.run(
        `UPDATE snapshot_storage SET key = ?, kind = 'Committed', size = ?, inodes = ?,
         updated_at = ? WHERE id = ?`,
        name,
        usage.size,
        usage.inodes,
        now(),
        row.id,
      );
      return row.id;
    });
  }

  /** Removes a record; refuses while other snapshots have it as their parent. */
  remove(key: string): { id: number; kind: SnapshotKind } {
    return this.db.transaction(() => {
      const row = this.#row(key);
      if (!row) throw notFound(`snapshot ${key} does not exist`);
      const child = this.db.get<{ key: string }>(
        "SELECT key FROM snapshot_storage WHERE parent_id = ? LIMIT 1",
        row.id,
      );
      if (child) {
        throw failedPrecondition(
          `cannot remove snapshot ${key}: snapshot ${child.key} is built on it; remove that first`,
        );
      }
      this.db.run("DELETE FROM snapshot_storage WHERE id = ?", row.id);
      return { id: row.id, kind: row.kind };
    });
  }

  /** Every record of this snapshotter. */
  list(): StorageRecord[] {
    return this.db.all<StorageRow>(
      "SELECT * FROM snapshot_storage WHERE snapshotter = ? ORDER BY id",
      this.snapshotter,
    ).map((row) => this.#record(row));
  }

  /** Every id in use (to find directories on disk that belong to no snapshot). */
  ids(): Set<number> {
    return new Set(
      this.db.all<{ id: number }>(
        "SELECT id FROM snapshot_storage WHERE snapshotter = ?",
        this.snapshotter,
      ).map((row) => row.id),
    );
  }

  #row(key: string): StorageRow | undefined {
    return this.db.get<StorageRow>(
      "SELECT * FROM snapshot_storage WHERE snapshotter = ? AND key = ?",
      this.snapshotter,
      key,
    );
  }

  #record(row: StorageRow): StorageRecord {
    let parent = "";
    if (row.parent_id !== null) {
      parent = this.db.get<{ key: string }>(
        "SELECT key FROM snapshot_storage WHERE id = ?",
        row.parent_id,
      )?.key ?? "";
    }
    return {
      id: row.id,
      key: row.key,
      kind: row.kind,
      parent,
      size: row.size,
      inodes: row.inodes,
      createdAt: row.created_at,
      updatedAt: row.updated_at,
    };
  }
}
