// What this teaches: the public face of mini's rtnetlink client: a socket per network
// namespace, and one function per `ip` operation a container network needs (create a
// bridge or a veth pair, plug into a bridge, move into a namespace, add an address or
// a route, bring up, delete). Mirrors github.com/vishvananda/netlink's package API.
export * from "./constants.ts";
export * from "./socket.ts";
export * from "./links.ts";
export * from "./addresses.ts";
export * from "./routes.ts";
export { MessageWriter, parseAttributes, parseMessages } from "./message.ts";
export type { NetlinkMessage } from "./message.ts";
