// Tasks: the running side of containers, one shim each (containerd's core/runtime/v2
// manager and the tasks service).
export * from "./types.ts";
export * from "./manager.ts";
