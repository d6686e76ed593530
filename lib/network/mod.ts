// What this teaches: container networking as a library, in the shape of Docker's
// libnetwork: a controller (networks, sandboxes, endpoints, published ports) built on a
// bridge driver, an IPAM, a port mapper with userland proxies, generated /etc files and
// a netlink client that speaks to the kernel without spawning `ip`.
// Mirrors github.com/docker/libnetwork (now moby/libnetwork).
export * from "./types.ts";
export * from "./ipv4.ts";
export * from "./controller.ts";
export * from "./sandbox/enter.ts";
export * from "./sandbox/namespace.ts";
export * from "./drivers/bridge/mod.ts";
export * from "./ipam/mod.ts";
export * from "./etchosts/mod.ts";
export * from "./portmapper/mod.ts";
export { NetworkStore } from "./store.ts";
