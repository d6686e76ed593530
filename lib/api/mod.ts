// The API plumbing shared by every mini daemon and client: error kinds, identifier
// rules, a router served on a Unix socket, and the client transport.
export * from "./errors.ts";
export * from "./identifiers.ts";
export * from "./server.ts";
export * from "./client.ts";
