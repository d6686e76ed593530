// What this teaches: published ports: parsing `-p`, choosing host ports, and one
// userland proxy process per port. Mirrors libnetwork's portmapper and portallocator
// packages and moby's cmd/docker-proxy.
export * from "./port_spec.ts";
export * from "./host_ports.ts";
export * from "./proxy_process.ts";
export * from "./port_mapper.ts";
export * from "./proxy_server.ts";
export { parseProxyArguments } from "./proxy_command.ts";
