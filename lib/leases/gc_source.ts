// What this teaches: how leases join garbage collection. An unexpired lease is a
// root and points at every resource it holds; an expired lease is simply not a root
// any more, so the sweep removes it and its resources become collectable.
// Mirrors the lease handling in containerd's `core/metadata/gc.go` (scanRoots,
// remove of ResourceLease).

import { LEASE_NODE } from "../gc/labels.ts";
import type { GcNode, GcResourceSource } from "../gc/types.ts";
import type { LeaseStore } from "./store.ts";

/** The leases' part of the GC graph. */
export class LeasesGcSource implements GcResourceSource {
  readonly name = "leases";
  readonly types = [LEASE_NODE];

  constructor(private readonly leases: LeaseStore) {}

  roots(): GcNode[] {
    return this.leases.allLeases()
      .filter(({ expired }) => !expired)
      .map(({ namespace, lease }) => ({ type: LEASE_NODE, namespace, key: lease.id }));
  }

  references(node: GcNode): GcNode[] {
    return this.leases.resourcesOf(node.namespace, node.key)
      .map((resource) => ({ type: resource.type, namespace: node.namespace, key: resource.id }));
  }

  candidates(): GcNode[] {
    return this.leases.allLeases()
      .map(({ namespace, lease }) => ({ type: LEASE_NODE, namespace, key: lease.id }));
  }

  remove(node: GcNode): void {
    this.leases.delete(node.namespace, node.key);
  }
}
