// What this teaches: a lease is how a client says "I am still working with these
// resources, do not collect them". A pull writes blobs before any image points at
// them; without a lease the garbage collector could remove them half way. Every
// write made under a lease adds what it wrote to the lease, and deleting (or
// expiring) the lease hands those resources back to garbage collection.
// Mirrors containerd's `core/leases/lease.go` and `api/services/leases/v1`.

import type { Labels } from "../metadata/db.ts";

/** One lease in a namespace. */
export interface Lease {
  id: string;
  labels: Labels;
  createdAt: string;
}

/**
 * A resource held by a lease, typed as containerd types them: `content` (id: a
 * digest), `ingests` (id: an ingest ref), `snapshots/<snapshotter>` (id: a key).
 */
export interface LeaseResource {
  id: string;
  type: string;
}

/** Options for creating a lease. */
export interface CreateLeaseOptions {
  /** The lease ID; generated when missing. */
  id?: string;
  labels?: Labels;
  /** Milliseconds until the lease expires (sets the `containerd.io/gc.expire` label). */
  expiresInMs?: number;
}

/** The header that makes a call act under a lease, like containerd's gRPC metadata key. */
export const LEASE_HEADER = "containerd-lease";

/** The same, as a query parameter, for clients that cannot set headers per call. */
export const LEASE_QUERY_PARAMETER = "lease";

/**
 * The Leases service seen through the API, one namespace at a time. The daemon's
 * LeasesService serves it; the client's LeasesClient implements it over the socket.
 */
export interface LeasesApi {
  create(options?: CreateLeaseOptions): Promise<Lease>;
  /** Lists leases; filters as ctr's (`id==...`, `labels.<key>==...`). */
  list(filters?: string[]): Promise<Lease[]>;
  /** Deletes a lease; with `sync` waits for the garbage collection that follows. */
  delete(id: string, options?: { sync?: boolean }): Promise<void>;
  addResource(id: string, resource: LeaseResource): Promise<void>;
  deleteResource(id: string, resource: LeaseResource): Promise<void>;
  listResources(id: string): Promise<LeaseResource[]>;
}
