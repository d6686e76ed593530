// The overlay snapshotter: containerd's snapshot model (core/snapshots), its overlayfs
// implementation (plugins/snapshots/overlay) and the namespaced metadata layer on top
// (core/metadata/snapshot.go).
export * from "./types.ts";
export * from "./storage.ts";
export * from "./overlay.ts";
export * from "./namespaced.ts";
export * from "./filters.ts";
export * from "./usage.ts";
export * from "./open.ts";
export * from "./gc.ts";
