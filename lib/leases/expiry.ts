// What this teaches: lease expiry is just a label holding a time,
// `containerd.io/gc.expire=2030-01-02T15:04:05Z`; the collector stops treating the
// lease as a root once that time has passed. Mirrors containerd's
// `leases.WithExpiration` and the expiry check in `core/metadata/gc.go`.

import { GC_EXPIRE_LABEL } from "../gc/labels.ts";
import type { Labels } from "../metadata/db.ts";
import type { Lease } from "./types.ts";

/** True when the lease's `containerd.io/gc.expire` time has passed. */
export function isExpired(lease: Lease, at = new Date()): boolean {
  const expire = lease.labels[GC_EXPIRE_LABEL];
  if (expire === undefined) return false;
  const time = Date.parse(expire);
  return !Number.isNaN(time) && time <= at.getTime();
}

/** The labels that make a lease expire `milliseconds` from now. */
export function expiryLabels(milliseconds: number): Labels {
  return { [GC_EXPIRE_LABEL]: new Date(Date.now() + milliseconds).toISOString() };
}
