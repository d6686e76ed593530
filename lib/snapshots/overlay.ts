// What this teaches: how containerd's overlayfs snapshotter lays snapshots out on disk
// and turns a parent chain into an overlay mount.
//
//   <root>/snapshots/<id>/fs     the snapshot's own files: the upperdir while Active,
//                                a lowerdir for its children once Committed
//   <root>/snapshots/<id>/work   overlayfs's scratch space (Active snapshots only)
//
// A new snapshot is built under a temporary name (`snapshots/new-XXXX`) and renamed to its
// id inside the metadata transaction, so a crash leaves either a complete snapshot or a
// stray `new-*` directory that start-up cleanup removes, never a half-made `<id>`.
// Removal renames to `rm-<id>` in the transaction and deletes the files afterwards.
// Mounts follow containerd's rules: no parent → a bind of `fs` (rw, or ro for a view);
// a view of a single parent → a read-only bind of that parent's `fs`; otherwise an overlay
// with `lowerdir` nearest parent first, plus `upperdir`/`workdir` when Active.
// Mirrors containerd's plugins/snapshots/overlay/overlay.go (createSnapshot, mounts,
// Commit, Remove, Cleanup, getCleanupDirectories).

import { join, resolve } from "node:path";
import type { MetadataDb } from "../metadata/db.ts";
import type { Mount } from "../mount/types.ts";
import { SnapshotStorage, type StorageRecord, type StoredSnapshot } from "./storage.ts";
import { OVERLAYFS, type SnapshotKind, type SnapshotUsage } from "./types.ts";
import { diskUsage } from "./usage.ts";

/** The overlay snapshotter's on-disk half: directories, mounts, and their storage records. */
export class OverlaySnapshotter {
  readonly root: string;
  readonly storage: SnapshotStorage;
  /** Options every overlay mount gets (containerd adds `index=off` where the kernel knows it). */
  readonly overlayOptions: string[];

  constructor(private readonly db: MetadataDb, root: string) {
    // Absolute, so no mount option ever depends on a working directory.
    this.root = resolve(root);
    Deno.mkdirSync(this.snapshotsDirectory, { recursive: true, mode: 0o700 });
    this.storage = new SnapshotStorage(db, OVERLAYFS);
    this.overlayOptions = indexOptionSupported() ? ["index=off"] : [];
  }

  get snapshotsDirectory(): string {
    return join(this.root, "snapshots");
  }

  /** `snapshots/<id>/fs`: the snapshot's own files. */
  upperPath(id: number): string {
    return join(this.snapshotsDirectory, String(id), "fs");
  }

  /** `snapshots/<id>/work`: overlayfs's work directory. */
  workPath(id: number): string {
    return join(this.snapshotsDirectory, String(id), "work");
  }

  /**
   * Creates an Active or View snapshot and returns its mounts. Synchronous on purpose:
   * called inside a metadata transaction, which must not be interleaved with other calls.
   */
  create(kind: SnapshotKind, key: string, parent: string): Mount[] {
    return this.db.transaction(() => this.#create(kind, key, parent));
  }

  #create(kind: SnapshotKind, key: string, parent: string): Mount[] {
    const temporary = Deno.makeTempDirSync({ dir: this.snapshotsDirectory, prefix: "new-" });
    try {
      Deno.mkdirSync(join(temporary, "fs"), { mode: 0o755 });
      if (kind === "Active") Deno.mkdirSync(join(temporary, "work"), { mode: 0o711 });
      const stored = this.storage.create(kind, key, parent);
      if (stored.parentIds.length > 0) {
        // The new upper layer's root directory takes the owner of the layer below, so a
        // container's "/" keeps the owner the image gave it.
        const below = Deno.lstatSync(this.upperPath(stored.parentIds[0]));
        Deno.chownSync(join(temporary, "fs"), below.uid, below.gid);
      }
      // Last step of the transaction: from here on the snapshot exists under its id.
      Deno.renameSync(temporary, join(this.snapshotsDirectory, String(stored.id)));
      return this.mountsOf(stored);
    } catch (error) {
      Deno.removeSync(temporary, { recursive: true });
      throw error;
    }
  }

  /** The mounts of an existing snapshot. */
  mounts(key: string): Mount[] {
    return this.mountsOf(this.storage.get(key));
  }

  mountsOf(snapshot: StoredSnapshot): Mount[] {
    const { id, kind, parentIds } = snapshot;
    if (parentIds.length === 0) {
      return [{
        type: "bind",
        source: this.upperPath(id),
        options: [kind === "View" ? "ro" : "rw", "rbind"],
      }];
    }
    if (kind === "View" && parentIds.length === 1) {
      // Overlay needs an upper layer or at least two lower ones; a bind is also cheaper.
      return [{ type: "bind", source: this.upperPath(parentIds[0]), options: ["ro", "rbind"] }];
    }
    const options = [...this.overlayOptions];
    if (kind === "Active") {
      options.push(`workdir=${this.workPath(id)}`, `upperdir=${this.upperPath(id)}`);
    }
    options.push(`lowerdir=${parentIds.map((parentId) => this.upperPath(parentId)).join(":")}`);
    return [{ type: "overlay", source: "overlay", options }];
  }

  /** Measures an Active snapshot's upper directory (do it before commit's transaction). */
  async measure(key: string): Promise<SnapshotUsage> {
    return await diskUsage(this.upperPath(this.storage.get(key).id));
  }

  /** Commits with a usage measured by measure(); synchronous, for a metadata transaction. */
  commit(name: string, key: string, usage: SnapshotUsage): void {
    this.storage.commit(key, name, usage);
  }

  /**
   * Removes the record and renames the directory to `rm-<id>` (inside the caller's
   * transaction). Returns that path; delete it with removeDirectory() after the commit.
   */
  remove(key: string): string {
    return this.db.transaction(() => this.#remove(key));
  }

  #remove(key: string): string {
    const { id } = this.storage.remove(key);
    const renamed = join(this.snapshotsDirectory, `rm-${id}`);
    try {
      Deno.renameSync(join(this.snapshotsDirectory, String(id)), renamed);
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
    return renamed;
  }

  /** Deletes a directory renamed by remove(). */
  async removeDirectory(path: string): Promise<void> {
    await Deno.remove(path, { recursive: true }).catch((error) => {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    });
  }

  /** Usage of a snapshot: measured now when Active, recorded at commit otherwise. */
  async usage(key: string): Promise<SnapshotUsage> {
    const record = this.storage.info(key);
    if (record.kind === "Active") return await diskUsage(this.upperPath(record.id));
    return { size: record.size, inodes: record.inodes };
  }

  stat(key: string): StorageRecord {
    return this.storage.info(key);
  }

  /**
   * Removes directories under `snapshots/` that belong to no snapshot: `new-*` left by a
   * crash during Prepare, `rm-*` left by a crash during Remove, and ids whose record was
   * rolled back. Run at start-up, before serving. Returns the removed names.
   */
  cleanup(): string[] {
    const ids = this.storage.ids();
    const removed: string[] = [];
    for (const entry of Deno.readDirSync(this.snapshotsDirectory)) {
      const isId = /^\d+$/.test(entry.name);
      if (isId && ids.has(Number(entry.name))) continue;
      Deno.removeSync(join(this.snapshotsDirectory, entry.name), { recursive: true });
      removed.push(entry.name);
    }
    return removed;
  }
}

function indexOptionSupported(): boolean {
  try {
    Deno.statSync("/sys/module/overlay/parameters/index");
    return true;
  } catch {
    return false;
  }
}
