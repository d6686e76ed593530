// Leases: records that protect resources from garbage collection while a client
// works with them (containerd's `core/leases`).
export * from "./types.ts";
export * from "./expiry.ts";
export * from "./store.ts";
export * from "./gc_source.ts";
