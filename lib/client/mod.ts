// The typed client for mini-containerd, shared by mini-ctr, mini-dockerd and tests.
export * from "./client.ts";
export * from "./namespaces.ts";
