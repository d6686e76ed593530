// Events: the envelope and topics, the filter language, and the daemon's exchange
// (containerd's core/events).
export * from "./types.ts";
export * from "./filters.ts";
export * from "./exchange.ts";
