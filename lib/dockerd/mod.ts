// mini-dockerd: the Docker Engine API daemon, its overlay2 layer store and image
// store, daemon.json, and the supervised mini-containerd (moby's dockerd).
export * from "./types.ts";
export * from "./config.ts";
export * from "./paths.ts";
export * from "./daemon.ts";
export * from "./containerd_supervisor.ts";
export * from "./server/mod.ts";
export * from "./layer/mod.ts";
export * from "./image/mod.ts";
export { ENGINE_MODULES } from "./routes/mod.ts";
