// What this teaches: the container store is a table in the metadata database, scoped
// by namespace like every other store. It validates once at the edge (the ID, the
// labels, the spec's shape, the runtime name), refuses duplicates, and treats the
// runtime and the snapshotter as fixed once created, since a running task depends on
// them. Mirrors containerd's `core/metadata/containers.go` (containerStore,
// validateContainer, Update with field paths).

import { alreadyExists, invalidArgument, notFound } from "../api/errors.ts";
import { validateIdentifier } from "../api/identifiers.ts";
import { type Labels, type MetadataDb, now, parseLabels, validateLabels } from "../metadata/db.ts";
import { parseFilters, recordLookup } from "../metadata/filters.ts";
import type { NamespaceStore } from "../metadata/namespaces.ts";
import { validateSpec } from "../oci_spec/validate.ts";
import type { Container, ContainerInput, RuntimeInfo } from "./types.ts";

interface ContainerRow {
  namespace: string;
  id: string;
  image: string;
  runtime: string;
  spec: string;
  snapshotter: string;
  snapshot_key: string;
  labels: string;
  created_at: string;
  updated_at: string;
}

const columns =
  "namespace, id, image, runtime, spec, snapshotter, snapshot_key, labels, created_at, updated_at";

function fromRow(row: ContainerRow): Container {
  return {
    id: row.id,
    image: row.image,
    labels: parseLabels(row.labels),
    runtime: JSON.parse(row.runtime) as RuntimeInfo,
    spec: JSON.parse(row.spec),
    snapshotter: row.snapshotter,
    snapshotKey: row.snapshot_key,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function validateRuntime(runtime: unknown): RuntimeInfo {
  if (
    typeof runtime !== "object" || runtime === null ||
    typeof (runtime as RuntimeInfo).name !== "string" ||
    (runtime as RuntimeInfo).name === ""
  ) {
    throw invalidArgument("container runtime.name must be set (e.g. io.containerd.runc.v2)");
  }
  const { name, options } = runtime as RuntimeInfo;
  if (options !== undefined && (typeof options !== "object" || options === null)) {
    throw invalidArgument("container runtime.options must be an object");
  }
  if (options?.binaryName !== undefined && typeof options.binaryName !== "string") {
    throw invalidArgument("container runtime.options.binaryName must be a string");
  }
  return options === undefined ? { name } : { name, options: { ...options } };
}

/** Containers in the metadata database. */
export class ContainerStore {
  constructor(private readonly db: MetadataDb, private readonly namespaces: NamespaceStore) {
    db.ensureSchema(`
      CREATE TABLE IF NOT EXISTS containers (
        namespace TEXT NOT NULL,
        id TEXT NOT NULL,
        image TEXT NOT NULL DEFAULT '',
        runtime TEXT NOT NULL,
        spec TEXT NOT NULL,
        snapshotter TEXT NOT NULL DEFAULT '',
        snapshot_key TEXT NOT NULL DEFAULT '',
        labels TEXT NOT NULL DEFAULT '{}',
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (namespace, id)
      );
    `);
  }

  /** Returns one container or throws not_found. */
  get(namespace: string, id: string): Container {
    const row = this.db.get<ContainerRow>(
      `SELECT ${columns} FROM containers WHERE namespace = ? AND id = ?`,
      namespace,
      id,
    );
    if (!row) throw notFound(`container "${id}" not found in namespace ${namespace}`);
    return fromRow(row);
  }

  /** Lists a namespace's containers, optionally filtered (`image==busybox`, `labels.k==v`). */
  list(namespace: string, filters: readonly string[] = []): Container[] {
    const filter = parseFilters(filters);
    return this.db.all<ContainerRow>(
      `SELECT ${columns} FROM containers WHERE namespace = ? ORDER BY id`,
      namespace,
    ).map(fromRow).filter((container) =>
      filter.matches((fieldPath) =>
        fieldPath.join(".") === "runtime.name" ? container.runtime.name : recordLookup({
          id: container.id,
          image: container.image,
          snapshotter: container.snapshotter,
          snapshotkey: container.snapshotKey,
        }, container.labels)(fieldPath)
      )
    );
  }

  /** Every container of every namespace (for the garbage collector's roots). */
  all(): { namespace: string; container: Container }[] {
    return this.db.all<ContainerRow>(`SELECT ${columns} FROM containers ORDER BY namespace, id`)
      .map((row) => ({ namespace: row.namespace, container: fromRow(row) }));
  }

  /** Creates a container; fails with already_exists when the ID is taken in the namespace. */
  create(namespace: string, input: ContainerInput): Container {
    validateIdentifier("container id", input?.id ?? "");
    const labels = validateLabels(input.labels);
    const runtime = validateRuntime(input.runtime);
    const spec = validateSpec(input.spec);
    const snapshotter = input.snapshotter ?? "";
    const snapshotKey = input.snapshotKey ?? "";
    if (snapshotKey !== "" && snapshotter === "") {
      throw invalidArgument(
        `container "${input.id}" names snapshot key ${snapshotKey} but no snapshotter`,
      );
    }
    return this.db.transaction(() => {
      this.namespaces.ensure(namespace);
      if (this.#exists(namespace, input.id)) {
        throw alreadyExists(`container "${input.id}" already exists in namespace ${namespace}`);
      }
      const timestamp = now();
      this.db.run(
        `INSERT INTO containers (${columns}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        namespace,
        input.id,
        input.image ?? "",
        JSON.stringify(runtime),
        JSON.stringify(spec),
        snapshotter,
        snapshotKey,
        JSON.stringify(labels),
        timestamp,
        timestamp,
      );
      return this.get(namespace, input.id);
    });
  }

  /**
   * Updates a container. With field paths only those change (`labels.<key>` with no
   * value in the input deletes that label); without, labels, image, spec and snapshot
   * key are all replaced. Changing the runtime or the snapshotter is refused.
   */
  update(
    namespace: string,
    input: Partial<ContainerInput> & { id: string },
    fieldPaths: readonly string[] = [],
  ): Container {
    return this.db.transaction(() => {
      const current = this.get(namespace, input.id);
      const paths = fieldPaths.length > 0 ? fieldPaths : ["labels", "image", "spec", "snapshotkey"];
      const updated = { ...current, labels: { ...current.labels } };
      for (const path of paths) {
        if (path === "labels") {
          updated.labels = validateLabels(input.labels);
        } else if (path.startsWith("labels.")) {
          const key = path.slice("labels.".length);
          const value = input.labels?.[key];
          if (value === undefined || value === "") delete updated.labels[key];
          else updated.labels[key] = value;
        } else if (path === "image") {
          updated.image = input.image ?? "";
        } else if (path === "spec") {
          updated.spec = validateSpec(input.spec);
        } else if (path === "snapshotkey") {
          updated.snapshotKey = input.snapshotKey ?? "";
        } else if (path === "runtime" || path === "snapshotter") {
          throw invalidArgument(`container ${path} cannot be changed after creation`);
        } else {
          throw invalidArgument(
            `cannot update field "${path}" of a container (use labels, labels.<key>, image, spec, snapshotkey)`,
          );
        }
      }
      validateLabels(updated.labels);
      this.db.run(
        `UPDATE containers SET image = ?, spec = ?, snapshot_key = ?, labels = ?, updated_at = ?
         WHERE namespace = ? AND id = ?`,
        updated.image,
        JSON.stringify(updated.spec),
        updated.snapshotKey,
        JSON.stringify(updated.labels as Labels),
        now(),
        namespace,
        input.id,
      );
      return this.get(namespace, input.id);
    });
  }

  /** Deletes the record (the snapshot is the client's to remove, as with ctr). */
  delete(namespace: string, id: string): void {
    const changed = this.db.run(
      "DELETE FROM containers WHERE namespace = ? AND id = ?",
      namespace,
      id,
    );
    if (changed === 0) throw notFound(`container "${id}" not found in namespace ${namespace}`);
  }

  #exists(namespace: string, id: string): boolean {
    return this.db.get(
      "SELECT 1 AS found FROM containers WHERE namespace = ? AND id = ?",
      namespace,
      id,
    ) !==
      undefined;
  }
}
