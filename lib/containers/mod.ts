// Container records (containerd's core/containers and core/metadata/containers.go).
export * from "./types.ts";
export * from "./store.ts";
export * from "./gc.ts";
