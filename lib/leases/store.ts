// What this teaches: leases are plain records in the metadata database, one table
// for the leases and one for the resources each lease holds; the garbage collector
// treats every unexpired lease as a root. Mirrors containerd's
// `core/metadata/leases.go` (the `v1/<namespace>/leases/<id>/{labels, content,
// ingests, snapshots}` buckets).

import { randomBytes } from "node:crypto";
import { alreadyExists, invalidArgument, notFound } from "../api/errors.ts";
import { validateIdentifier } from "../api/identifiers.ts";
import { validateDigest } from "../content/digest.ts";
import { GC_EXPIRE_LABEL } from "../gc/labels.ts";
import { type Labels, type MetadataDb, now, parseLabels, validateLabels } from "../metadata/db.ts";
import { parseFilters, recordLookup } from "../metadata/filters.ts";
import { isExpired } from "./expiry.ts";
import type { Lease, LeaseResource } from "./types.ts";

interface LeaseRow {
  namespace: string;
  id: string;
  labels: string;
  created_at: string;
}

/** Leases and their resources, per namespace. */
export class LeaseStore {
  constructor(private readonly db: MetadataDb) {
    db.ensureSchema(`
      CREATE TABLE IF NOT EXISTS leases (
        namespace TEXT NOT NULL,
        id TEXT NOT NULL,
        labels TEXT NOT NULL DEFAULT '{}',
        created_at TEXT NOT NULL,
        PRIMARY KEY (namespace, id)
      );
      CREATE TABLE IF NOT EXISTS lease_resources (
        namespace TEXT NOT NULL,
        lease_id TEXT NOT NULL,
        type TEXT NOT NULL,
        resource_id TEXT NOT NULL,
        PRIMARY KEY (namespace, lease_id, type, resource_id),
        FOREIGN KEY (namespace, lease_id) REFERENCES leases (namespace, id) ON DELETE CASCADE
      );
    `);
  }

  /** Creates a lease; a missing ID is generated the way ctr does (time + random). */
  create(namespace: string, id: string | undefined, labels: Labels = {}): Lease {
    const leaseId = id || generateLeaseId();
    validateIdentifier("lease ID", leaseId);
    validateLabels(labels);
    const expire = labels[GC_EXPIRE_LABEL];
    if (expire !== undefined && Number.isNaN(Date.parse(expire))) {
      throw invalidArgument(
        `label ${GC_EXPIRE_LABEL}="${expire}" is not a time: use RFC 3339, e.g. 2030-01-02T15:04:05Z`,
      );
    }
    return this.db.transaction(() => {
      if (this.#row(namespace, leaseId)) {
        throw alreadyExists(`lease ${leaseId} already exists in namespace ${namespace}`);
      }
      const createdAt = now();
      this.db.run(
        "INSERT INTO leases (namespace, id, labels, created_at) VALUES (?, ?, ?, ?)",
        namespace,
        leaseId,
        JSON.stringify(labels),
        createdAt,
      );
      return { id: leaseId, labels, createdAt };
    });
  }

  /** One lease, or not_found. */
  get(namespace: string, id: string): Lease {
    const row = this.#row(namespace, id);
    if (!row) throw notFound(`lease ${id} not found in namespace ${namespace}`);
    return toLease(row);
  }

  /** Leases of a namespace matching any of `filters` (fields: id, labels.<key>). */
  list(namespace: string, filters: string[] = []): Lease[] {
    const filter = parseFilters(filters);
    return this.db.all<LeaseRow>(
      "SELECT * FROM leases WHERE namespace = ? ORDER BY created_at, id",
      namespace,
    ).map(toLease).filter((lease) =>
      filter.matches(recordLookup({ id: lease.id, created_at: lease.createdAt }, lease.labels))
    );
  }

  /** Deletes a lease and its resource list (the resources themselves are left to GC). */
  delete(namespace: string, id: string): void {
    if (this.db.run("DELETE FROM leases WHERE namespace = ? AND id = ?", namespace, id) === 0) {
      throw notFound(`lease ${id} not found in namespace ${namespace}`);
    }
  }

  /** Adds a resource to a lease (idempotent). */
  addResource(namespace: string, id: string, resource: LeaseResource): void {
    validateResource(resource);
    this.db.transaction(() => {
      this.get(namespace, id);
      this.db.run(
        `INSERT OR IGNORE INTO lease_resources (namespace, lease_id, type, resource_id)
         VALUES (?, ?, ?, ?)`,
        namespace,
        id,
        resource.type,
        resource.id,
      );
    });
  }

  /** Removes a resource from a lease (a missing resource is not an error, as in containerd). */
  deleteResource(namespace: string, id: string, resource: LeaseResource): void {
    validateResource(resource);
    this.db.transaction(() => {
      this.get(namespace, id);
      this.db.run(
        `DELETE FROM lease_resources
         WHERE namespace = ? AND lease_id = ? AND type = ? AND resource_id = ?`,
        namespace,
        id,
        resource.type,
        resource.id,
      );
    });
  }

  /** The resources a lease holds. */
  listResources(namespace: string, id: string): LeaseResource[] {
    this.get(namespace, id);
    return this.#resources(namespace, id);
  }

  /** Removes a resource from every lease of a namespace (after an ingest is committed). */
  forgetResource(namespace: string, resource: LeaseResource): void {
    this.db.run(
      "DELETE FROM lease_resources WHERE namespace = ? AND type = ? AND resource_id = ?",
      namespace,
      resource.type,
      resource.id,
    );
  }

  /** Every lease of every namespace, with whether it has expired at `at` (for GC). */
  allLeases(at = new Date()): { namespace: string; lease: Lease; expired: boolean }[] {
    return this.db.all<LeaseRow>("SELECT * FROM leases").map((row) => {
      const lease = toLease(row);
      return { namespace: row.namespace, lease, expired: isExpired(lease, at) };
    });
  }

  /** The resources of one lease, without checking that it exists (for GC). */
  resourcesOf(namespace: string, id: string): LeaseResource[] {
    return this.#resources(namespace, id);
  }

  #resources(namespace: string, id: string): LeaseResource[] {
    return this.db.all<{ type: string; resource_id: string }>(
      `SELECT type, resource_id FROM lease_resources WHERE namespace = ? AND lease_id = ?
       ORDER BY type, resource_id`,
      namespace,
      id,
    ).map((row) => ({ id: row.resource_id, type: row.type }));
  }

  #row(namespace: string, id: string): LeaseRow | undefined {
    return this.db.get<LeaseRow>(
      "SELECT * FROM leases WHERE namespace = ? AND id = ?",
      namespace,
      id,
    );
  }
}

/** Checks a resource's type and ID: content needs a digest, the others a non-empty key. */
export function validateResource(resource: LeaseResource): void {
  if (typeof resource !== "object" || resource === null) {
    throw invalidArgument("a lease resource must be an object {id, type}");
  }
  const { id, type } = resource;
  if (typeof id !== "string" || id === "") throw invalidArgument("lease resource id is required");
  if (type === "content") {
    validateDigest(id, "content resource id");
  } else if (type !== "ingests" && !/^snapshots\/[A-Za-z0-9._-]+$/.test(String(type))) {
    throw invalidArgument(
      `unsupported lease resource type "${type}": use content, ingests or snapshots/<snapshotter>`,
    );
  }
}

function toLease(row: LeaseRow): Lease {
  return { id: row.id, labels: parseLabels(row.labels), createdAt: row.created_at };
}

function generateLeaseId(): string {
  return `${Date.now()}-${randomBytes(6).toString("hex")}`;
}
