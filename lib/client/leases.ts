// What this teaches: a typed client for the Leases service. Create a lease, hand
// its ID to the content client (`client.content.withLease(id)`), and everything
// written meanwhile is protected until the lease is deleted or expires.
// Mirrors containerd's `client/lease.go` and `core/leases/proxy`.

import type { UnixTransport } from "../api/client.ts";
import { LEASES_SERVICE } from "../api/services.ts";
import { expiryLabels } from "../leases/expiry.ts";
import type { CreateLeaseOptions, Lease, LeaseResource, LeasesApi } from "../leases/types.ts";

const route = (method: string) => `/${LEASES_SERVICE}/${method}`;

/** How long a lease taken by withLease lives if nobody deletes it: ctr's default, 24 h. */
export const DEFAULT_LEASE_EXPIRY_MS = 24 * 60 * 60 * 1000;

/** Client for the Leases service in one namespace. */
export class LeasesClient implements LeasesApi {
  constructor(private readonly transport: UnixTransport, readonly namespace: string) {}

  async create(options: CreateLeaseOptions = {}): Promise<Lease> {
    const labels = { ...options.labels };
    if (options.expiresInMs !== undefined) Object.assign(labels, expiryLabels(options.expiresInMs));
    return (await this.#call<{ lease: Lease }>("Create", { id: options.id, labels })).lease;
  }

  async list(filters: string[] = []): Promise<Lease[]> {
    return (await this.#call<{ leases: Lease[] }>("List", { filters })).leases;
  }

  async delete(id: string, options: { sync?: boolean } = {}): Promise<void> {
    await this.#call("Delete", { id, sync: options.sync ?? false });
  }

  async addResource(id: string, resource: LeaseResource): Promise<void> {
    await this.#call("AddResource", { id, resource });
  }

  async deleteResource(id: string, resource: LeaseResource): Promise<void> {
    await this.#call("DeleteResource", { id, resource });
  }

  async listResources(id: string): Promise<LeaseResource[]> {
    return (await this.#call<{ resources: LeaseResource[] }>("ListResources", { id })).resources;
  }

  /**
   * Runs `work` under a new lease (expiring after a day unless `options` say otherwise)
   * and deletes the lease afterwards: containerd's `client.WithLease(ctx)`. Write
   * blobs through `client.content.withLease(lease.id)` inside, and create the image
   * that references them before `work` returns.
   */
  async withLease<T>(
    work: (lease: Lease) => Promise<T>,
    options: CreateLeaseOptions = {},
  ): Promise<T> {
    const lease = await this.create({ expiresInMs: DEFAULT_LEASE_EXPIRY_MS, ...options });
    try {
      return await work(lease);
    } finally {
      await this.delete(lease.id).catch(() => {});
    }
  }

  async #call<T>(method: string, body: unknown): Promise<T> {
    return await this.transport.call<T>(route(method), body, { namespace: this.namespace });
  }
}
