// What this teaches: the Leases service, and how a call acts "under" a lease: the
// client sends the lease ID in the `containerd-lease` header (containerd's gRPC
// metadata key), and every store that writes something adds it to that lease.
// Mirrors containerd's `api/services/leases/v1/leases.proto` and
// `core/leases/context.go`.

import { invalidArgument } from "../../api/errors.ts";
import type { RequestContext, Router } from "../../api/server.ts";
import type { GcScheduler } from "../../gc/types.ts";
import type { LeaseStore } from "../../leases/store.ts";
import { LEASE_HEADER, LEASE_QUERY_PARAMETER, type LeaseResource } from "../../leases/types.ts";
import type { Labels } from "../../metadata/db.ts";
import type { NamespaceStore } from "../../metadata/namespaces.ts";
import { LEASES_SERVICE } from "../../api/services.ts";

/** The lease a request acts under: the `containerd-lease` header, or `?lease=` on streaming calls. */
export function leaseFromRequest(context: RequestContext): string | undefined {
  const lease = context.request.headers.get(LEASE_HEADER) ??
    context.query.get(LEASE_QUERY_PARAMETER);
  return lease === null || lease === "" ? undefined : lease;
}

/** Registers Create, List, Delete, AddResource, DeleteResource and ListResources. */
export function registerLeasesService(
  router: Router,
  leases: LeaseStore,
  namespaces: NamespaceStore,
  gc: GcScheduler,
): void {
  /** Read-only calls in a namespace nobody created are refused, as for content. */
  const existingNamespace = (context: RequestContext) => {
    const namespace = context.requireNamespace();
    namespaces.get(namespace);
    return namespace;
  };

  router.add(LEASES_SERVICE, "Create", async (context) => {
    const { id, labels } = await context.json<{ id?: string; labels?: Labels }>();
    const namespace = context.requireNamespace();
    namespaces.ensure(namespace);
    return { lease: leases.create(namespace, id, labels ?? {}) };
  });

  router.add(LEASES_SERVICE, "List", async (context) => {
    const { filters } = await context.json<{ filters?: string[] }>();
    return { leases: leases.list(existingNamespace(context), filters ?? []) };
  });

  router.add(LEASES_SERVICE, "Delete", async (context) => {
    const { id, sync } = await context.json<{ id: string; sync?: boolean }>();
    leases.delete(existingNamespace(context), requireId(id));
    if (sync) await gc.collect();
    else gc.schedule();
    return {};
  });

  router.add(LEASES_SERVICE, "AddResource", async (context) => {
    const { id, resource } = await context.json<{ id: string; resource: LeaseResource }>();
    leases.addResource(existingNamespace(context), requireId(id), resource);
    return {};
  });

  router.add(LEASES_SERVICE, "DeleteResource", async (context) => {
    const { id, resource } = await context.json<{ id: string; resource: LeaseResource }>();
    leases.deleteResource(existingNamespace(context), requireId(id), resource);
    gc.schedule();
    return {};
  });

  router.add(LEASES_SERVICE, "ListResources", async (context) => {
    const { id } = await context.json<{ id: string }>();
    return { resources: leases.listResources(existingNamespace(context), requireId(id)) };
  });
}

function requireId(id: unknown): string {
  if (typeof id !== "string" || id === "") throw invalidArgument("lease id is required");
  return id;
}
