// What this teaches: how a runtime uses CNI plugins (the ones Kubernetes runtimes use)
// to give a container its network. Mirrors containerd's go-cni over libcni.
export * from "./types.ts";
export * from "./config.ts";
export * from "./exec.ts";
export * from "./cni.ts";
export * from "./task.ts";
