// The Diff service's logic: apply layer blobs onto mounts, diff mounts into layer blobs
// (containerd's core/diff and plugins/diff/walking).
export * from "./types.ts";
export * from "./walking.ts";
export * from "./create.ts";
