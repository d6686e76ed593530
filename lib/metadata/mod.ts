// The metadata database and the stores built on it (containerd's `core/metadata`).
export * from "./db.ts";
export * from "./namespaces.ts";
export * from "./filters.ts";
