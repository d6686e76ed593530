// mini-containerd: the daemon, its configuration and its services.
export * from "./config.ts";
export * from "./daemon.ts";
export * from "./log.ts";
