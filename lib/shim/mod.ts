// mini-containerd-shim: one per container, between mini-containerd and the OCI runtime
// (containerd's runtime v2 shim and pkg/shim, with the v1 shim's process model).
export * from "./types.ts";
export * from "./bundle.ts";
export * from "./client.ts";
export * from "./spawn.ts";
export * from "./io.ts";
export * from "./reaper.ts";
export * from "./runtime.ts";
export * from "./exit_watcher.ts";
export * from "./runtime_in_process.ts";
export * from "./runtime_choice.ts";
