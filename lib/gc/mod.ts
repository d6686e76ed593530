// Garbage collection: the mark-and-sweep collector, its plug-in contract for stores,
// and the labels that drive it (containerd's `pkg/gc` and `core/metadata/gc.go`).
export * from "./types.ts";
export * from "./labels.ts";
export * from "./collector.ts";
