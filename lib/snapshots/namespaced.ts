// What this teaches: containerd namespaces over a snapshotter that knows nothing of them.
// Clients name snapshots by keys that are unique per namespace ("sha256:abc…" can exist
// in `default` and in `moby`), while the snapshotter below keeps one global set of
// snapshots. The metadata layer maps each (namespace, key) to a backend key
// `<namespace>/<id>/<key>` and keeps what the backend does not: labels and timestamps.
// Every change runs in one metadata transaction together with the backend's own records
// and its rename on disk, so the two can never disagree.
// Mirrors containerd's core/metadata/snapshot.go (snapshotter: Stat, Update, Usage,
// Mounts, Prepare, View, Commit, Remove, Walk).

import { alreadyExists, failedPrecondition, invalidArgument, notFound } from "../api/errors.ts";
import { type Labels, type MetadataDb, now, parseLabels, validateLabels } from "../metadata/db.ts";
import type { Mount } from "../mount/types.ts";
import { snapshotFilter } from "./filters.ts";
import type { OverlaySnapshotter } from "./overlay.ts";
import type {
  SnapshotInfo,
  SnapshotKind,
  SnapshotOptions,
  SnapshotsApi,
  SnapshotUsage,
} from "./types.ts";

interface SnapshotRow {
  namespace: string;
  key: string;
  backend_key: string;
  parent: string;
  labels: string;
  created_at: string;
  updated_at: string;
}

/** A snapshot record with the namespace it lives in and its backend key (for GC). */
export interface NamespacedSnapshot extends SnapshotInfo {
  namespace: string;
  backendKey: string;
}

/** The snapshots of every namespace, over one backend snapshotter. */
export class SnapshotStore {
  constructor(
    private readonly db: MetadataDb,
    readonly backend: OverlaySnapshotter,
    readonly snapshotter: string,
  ) {
    db.ensureSchema(`
      CREATE TABLE IF NOT EXISTS snapshots (
        namespace TEXT NOT NULL,
        snapshotter TEXT NOT NULL,
        key TEXT NOT NULL,
        backend_key TEXT NOT NULL UNIQUE,
        parent TEXT NOT NULL DEFAULT '',
        labels TEXT NOT NULL DEFAULT '{}',
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (namespace, snapshotter, key)
      );
    `);
  }

  /** The store as one namespace sees it, with the same interface as the API client. */
  forNamespace(namespace: string): SnapshotsApi {
    return new NamespaceSnapshots(this, namespace);
  }

  stat(namespace: string, key: string): SnapshotInfo {
    return this.#info(this.#require(namespace, key));
  }

  /** Replaces the labels, or with fieldPaths (`labels`, `labels.<key>`) only those. */
  update(namespace: string, key: string, labels: Labels, fieldPaths: string[] = []): SnapshotInfo {
    validateLabels(labels);
    return this.db.transaction(() => {
      const row = this.#require(namespace, key);
      let next: Labels = { ...labels };
      if (fieldPaths.length > 0) {
        next = parseLabels(row.labels);
        for (const path of fieldPaths) {
          if (path === "labels") {
            next = { ...labels };
          } else if (path.startsWith("labels.")) {
            const label = path.slice("labels.".length);
            if (labels[label] === undefined || labels[label] === "") delete next[label];
            else next[label] = labels[label];
          } else {
            throw invalidArgument(
              `cannot update field "${path}" of snapshot ${key}: only labels can change`,
            );
          }
        }
      }
      validateLabels(next);
      this.db.run(
        `UPDATE snapshots SET labels = ?, updated_at = ?
         WHERE namespace = ? AND snapshotter = ? AND key = ?`,
        JSON.stringify(next),
        now(),
        namespace,
        this.snapshotter,
        key,
      );
      return this.stat(namespace, key);
    });
  }

  async usage(namespace: string, key: string): Promise<SnapshotUsage> {
    return await this.backend.usage(this.#require(namespace, key).backend_key);
  }

  mounts(namespace: string, key: string): Mount[] {
    return this.backend.mounts(this.#require(namespace, key).backend_key);
  }

  prepare(namespace: string, key: string, parent = "", labels: Labels = {}): Mount[] {
    return this.#create("Active", namespace, key, parent, labels);
  }

  view(namespace: string, key: string, parent = "", labels: Labels = {}): Mount[] {
    return this.#create("View", namespace, key, parent, labels);
  }

  #create(
    kind: SnapshotKind,
    namespace: string,
    key: string,
    parent: string,
    labels: Labels,
  ): Mount[] {
    if (key === "") throw invalidArgument("snapshot key must not be empty");
    validateLabels(labels);
    return this.db.transaction(() => {
      if (this.#row(namespace, key)) {
        throw alreadyExists(`snapshot ${key} already exists in namespace ${namespace}`);
      }
      let backendParent = "";
      if (parent !== "") {
        const parentRow = this.#row(namespace, parent);
        if (!parentRow) throw notFound(`parent snapshot ${parent} does not exist`);
        const parentKind = this.backend.stat(parentRow.backend_key).kind;
        if (parentKind !== "Committed") {
          throw failedPrecondition(
            `parent snapshot ${parent} is ${parentKind}, not Committed: only committed ` +
              `snapshots can be parents (commit it first)`,
          );
        }
        backendParent = parentRow.backend_key;
      }
      const backendKey = `${namespace}/${this.#nextId()}/${key}`;
      this.#insertRow(namespace, key, backendKey, parent, labels);
      // The backend goes last: its rename on disk is the final step before COMMIT.
      return this.backend.create(kind, backendKey, backendParent);
    });
  }

  /**
   * The id the backend's next snapshot will get (SQLite AUTOINCREMENT never reuses one),
   * so that backend key `default/12/foo` lives in `snapshots/12`.
   */
  #nextId(): number {
    const row = this.db.get<{ seq: number }>(
      "SELECT seq FROM sqlite_sequence WHERE name = 'snapshot_storage'",
    );
    return (row?.seq ?? 0) + 1;
  }

  async commit(namespace: string, name: string, key: string, labels: Labels = {}): Promise<void> {
    if (name === "") throw invalidArgument("the committed snapshot's name must not be empty");
    validateLabels(labels);
    const active = this.#require(namespace, key);
    if (this.backend.stat(active.backend_key).kind !== "Active") {
      throw failedPrecondition(`snapshot ${key} is not Active: only Active snapshots commit`);
    }
    // Measuring walks the whole upper tree: do it before the transaction, not inside.
    const usage = await this.backend.measure(active.backend_key);
    this.db.transaction(() => {
      const row = this.#require(namespace, key);
      if (row.backend_key !== active.backend_key) {
        throw failedPrecondition(`snapshot ${key} changed while it was being committed`);
      }
      if (this.#row(namespace, name)) {
        throw alreadyExists(`snapshot ${name} already exists in namespace ${namespace}`);
      }
      const backendKey = `${namespace}/${this.backend.stat(row.backend_key).id}/${name}`;
      this.db.run(
        "DELETE FROM snapshots WHERE namespace = ? AND snapshotter = ? AND key = ?",
        namespace,
        this.snapshotter,
        key,
      );
      this.#insertRow(namespace, name, backendKey, row.parent, labels);
      this.backend.commit(backendKey, row.backend_key, usage);
    });
  }

  /** Removes a snapshot; a snapshot with children is refused (remove them first). */
  async remove(namespace: string, key: string): Promise<void> {
    const renamed = this.db.transaction(() => {
      const row = this.#require(namespace, key);
      const child = this.#firstChild(namespace, key);
      if (child !== undefined) {
        throw failedPrecondition(
          `cannot remove snapshot ${key}: snapshot ${child} is built on it; remove that first`,
        );
      }
      return this.#removeRow(row);
    });
    await this.backend.removeDirectory(renamed);
  }

  /**
   * Removes a snapshot and every snapshot built on it, children first, for the garbage
   * collector: when a snapshot is unreachable, so is everything above it. Synchronous, to
   * run inside the collector's transaction; returns the directories to delete afterwards
   * with backend.removeDirectory(). A key that is already gone removes nothing.
   */
  removeTree(namespace: string, key: string): string[] {
    return this.db.transaction(() => {
      const row = this.#row(namespace, key);
      if (!row) return [];
      const renamed: string[] = [];
      for (const child of this.#children(namespace, key)) {
        renamed.push(...this.removeTree(namespace, child));
      }
      renamed.push(this.#removeRow(row));
      return renamed;
    });
  }

  #removeRow(row: SnapshotRow): string {
    this.db.run(
      "DELETE FROM snapshots WHERE namespace = ? AND snapshotter = ? AND key = ?",
      row.namespace,
      this.snapshotter,
      row.key,
    );
    return this.backend.remove(row.backend_key);
  }

  #children(namespace: string, key: string): string[] {
    return this.db.all<{ key: string }>(
      "SELECT key FROM snapshots WHERE namespace = ? AND snapshotter = ? AND parent = ?",
      namespace,
      this.snapshotter,
      key,
    ).map((row) => row.key);
  }

  #firstChild(namespace: string, key: string): string | undefined {
    return this.#children(namespace, key)[0];
  }

  /** The snapshots of a namespace matching any of `filters` (containerd's Walk). */
  walk(namespace: string, filters: readonly string[] = []): SnapshotInfo[] {
    const keep = snapshotFilter(filters);
    return this.db.all<SnapshotRow>(
      "SELECT * FROM snapshots WHERE namespace = ? AND snapshotter = ? ORDER BY key",
      namespace,
      this.snapshotter,
    ).map((row) => this.#info(row)).filter(keep);
  }

  /** Every snapshot of every namespace, for the garbage collector. */
  all(): NamespacedSnapshot[] {
    return this.db.all<SnapshotRow>(
      "SELECT * FROM snapshots WHERE snapshotter = ? ORDER BY namespace, key",
      this.snapshotter,
    ).map((row) => ({ ...this.#info(row), namespace: row.namespace, backendKey: row.backend_key }));
  }

  /** Records a snapshot's name in a namespace; created and updated start equal. */
  #insertRow(
    namespace: string,
    key: string,
    backendKey: string,
    parent: string,
    labels: Labels,
  ): void {
    const timestamp = now();
    this.db.run(
      `INSERT INTO snapshots
       (namespace, snapshotter, key, backend_key, parent, labels, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      namespace,
      this.snapshotter,
      key,
      backendKey,
      parent,
      JSON.stringify(labels),
      timestamp,
      timestamp,
    );
  }

  #row(namespace: string, key: string): SnapshotRow | undefined {
    return this.db.get<SnapshotRow>(
      "SELECT * FROM snapshots WHERE namespace = ? AND snapshotter = ? AND key = ?",
      namespace,
      this.snapshotter,
      key,
    );
  }

  #require(namespace: string, key: string): SnapshotRow {
    if (key === "") throw invalidArgument("snapshot key must not be empty");
    const row = this.#row(namespace, key);
    if (!row) throw notFound(`snapshot ${key} does not exist in namespace ${namespace}`);
    return row;
  }

  #info(row: SnapshotRow): SnapshotInfo {
    return {
      kind: this.backend.stat(row.backend_key).kind,
      name: row.key,
      parent: row.parent,
      labels: parseLabels(row.labels),
      createdAt: row.created_at,
      updatedAt: row.updated_at,
    };
  }
}

/** A SnapshotStore bound to one namespace (in-process users and tests). */
class NamespaceSnapshots implements SnapshotsApi {
  constructor(private readonly store: SnapshotStore, private readonly namespace: string) {}

  stat(key: string): Promise<SnapshotInfo> {
    return Promise.resolve().then(() => this.store.stat(this.namespace, key));
  }
  update(key: string, labels: Labels, fieldPaths?: string[]): Promise<SnapshotInfo> {
    return Promise.resolve().then(() => this.store.update(this.namespace, key, labels, fieldPaths));
  }
  usage(key: string): Promise<SnapshotUsage> {
    return this.store.usage(this.namespace, key);
  }
  mounts(key: string): Promise<Mount[]> {
    return Promise.resolve().then(() => this.store.mounts(this.namespace, key));
  }
  prepare(key: string, parent = "", options: SnapshotOptions = {}): Promise<Mount[]> {
    return Promise.resolve().then(() =>
      this.store.prepare(this.namespace, key, parent, options.labels)
    );
  }
  view(key: string, parent = "", options: SnapshotOptions = {}): Promise<Mount[]> {
    return Promise.resolve().then(() =>
      this.store.view(this.namespace, key, parent, options.labels)
    );
  }
  commit(name: string, key: string, options: SnapshotOptions = {}): Promise<void> {
    return this.store.commit(this.namespace, name, key, options.labels);
  }
  remove(key: string): Promise<void> {
    return this.store.remove(this.namespace, key);
  }
  walk(filters?: string[]): Promise<SnapshotInfo[]> {
    return Promise.resolve().then(() => this.store.walk(this.namespace, filters));
  }
}
