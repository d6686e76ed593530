// What this teaches: containerd namespaces are not kernel namespaces. They are a
// name that scopes every record in the metadata database, so Docker (namespace
// `moby`) and Kubernetes (`k8s.io`) can share one containerd without seeing each
// other's images or containers. Mirrors containerd's `core/metadata/namespaces.go`.

import { alreadyExists, failedPrecondition, notFound } from "../api/errors.ts";
import { validateIdentifier } from "../api/identifiers.ts";
import { type Labels, type MetadataDb, now, parseLabels, validateLabels } from "./db.ts";

/** One namespace record. */
export interface Namespace {
  name: string;
  labels: Labels;
}

interface NamespaceRow {
  name: string;
  labels: string;
}

/** Namespaces in the metadata database. */
export class NamespaceStore {
  constructor(private readonly db: MetadataDb) {}

  /** Creates a namespace; fails with already_exists when it exists. */
  create(name: string, labels: Labels = {}): Namespace {
    validateIdentifier("namespace", name);
    validateLabels(labels);
    return this.db.transaction(() => {
      if (this.exists(name)) throw alreadyExists(`namespace ${name} already exists`);
      const timestamp = now();
      this.db.run(
        "INSERT INTO namespaces (name, labels, created_at, updated_at) VALUES (?, ?, ?, ?)",
        name,
        JSON.stringify(labels),
        timestamp,
        timestamp,
      );
      return { name, labels };
    });
  }

  /**
   * Makes sure a namespace exists. containerd creates a namespace implicitly the
   * first time something is written into it, which is why `ctr -n moby ...` just works.
   */
  ensure(name: string): void {
    validateIdentifier("namespace", name);
    if (this.exists(name)) return;
    const timestamp = now();
    this.db.run(
      "INSERT OR IGNORE INTO namespaces (name, labels, created_at, updated_at) VALUES (?, '{}', ?, ?)",
      name,
      timestamp,
      timestamp,
    );
  }

  exists(name: string): boolean {
    return this.db.get("SELECT 1 AS found FROM namespaces WHERE name = ?", name) !== undefined;
  }

  /** Returns one namespace or throws not_found. */
  get(name: string): Namespace {
    const row = this.db.get<NamespaceRow>(
      "SELECT name, labels FROM namespaces WHERE name = ?",
      name,
    );
    if (!row) throw notFound(`namespace ${name} not found`);
    return { name: row.name, labels: parseLabels(row.labels) };
  }

  list(): Namespace[] {
    return this.db.all<NamespaceRow>("SELECT name, labels FROM namespaces ORDER BY name")
      .map((row) => ({ name: row.name, labels: parseLabels(row.labels) }));
  }

  /** Sets (or, with an empty value, removes) one label, as `ctr namespaces label NS k=v` does. */
  setLabel(name: string, key: string, value: string): Namespace {
    return this.db.transaction(() => {
      const namespace = this.get(name);
      if (value === "") delete namespace.labels[key];
      else namespace.labels[key] = value;
      validateLabels(namespace.labels);
      this.db.run(
        "UPDATE namespaces SET labels = ?, updated_at = ? WHERE name = ?",
        JSON.stringify(namespace.labels),
        now(),
        name,
      );
      return namespace;
    });
  }

  /** Deletes an empty namespace; refuses when any namespaced table still has rows in it. */
  delete(name: string): void {
    this.db.transaction(() => {
      this.get(name);
      const nonEmpty = this.db.namespacedTables().filter((table) =>
        this.db.get(`SELECT 1 AS found FROM "${table}" WHERE namespace = ? LIMIT 1`, name)
      );
      if (nonEmpty.length > 0) {
        throw failedPrecondition(
          `namespace ${name} must be empty, but it still has ${nonEmpty.join(", ")}: ` +
            `remove them first`,
        );
      }
      this.db.run("DELETE FROM namespaces WHERE name = ?", name);
    });
  }
}
