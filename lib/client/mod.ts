// The typed client for mini-containerd, shared by mini-ctr, mini-dockerd and tests.
export * from "./client.ts";
export * from "./namespaces.ts";
export * from "./images.ts";
export * from "./content.ts";
export * from "./leases.ts";
export * from "./containers.ts";
export * from "./tasks.ts";
export * from "./events.ts";
export * from "./cio.ts";
