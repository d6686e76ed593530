// What this teaches: the bridge driver: one Linux bridge per network, one veth pair per
// container endpoint. Mirrors libnetwork's drivers/bridge package.
export * from "./bridge.ts";
export * from "./endpoint.ts";
export * from "./ip_commands.ts";
