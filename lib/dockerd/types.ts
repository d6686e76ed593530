// What this teaches: how dockerd is put together. The Engine API is a set of routers
// (system, images, containers, exec, networks, volumes...), each registered by one
// component on start-up; the components share one daemon object that owns the
// configuration, the paths, the image and layer stores and the connection to
// containerd. Cross-component questions go through small interfaces instead of
// imports, so that "can this image be deleted?" (images) can ask "which containers
// use it?" (containers) without the two knowing each other's internals.
// Mirrors moby's api/server/router (one Router per area, each with Routes()) and
// daemon/daemon.go (the Daemon that every router's backend is).

import type { EngineRouter } from "./server/router.ts";
import type { Daemon } from "./daemon.ts";

/**
 * One area of the Engine API (moby's router packages): registers its routes, and may
 * restore state at start and stop things at shutdown. Add a module to ENGINE_MODULES
 * in routes/mod.ts.
 */
export interface EngineModule {
  /** Short name for logs ("images", "containers"). */
  readonly name: string;
  /** Adds this module's routes. Called once, before the socket opens. */
  register(router: EngineRouter, daemon: Daemon): void;
  /**
   * Restores state after the stores are open and containerd is reachable, before the
   * API socket opens (containers: reconnect to running tasks, honor restart policies).
   */
  start?(daemon: Daemon): Promise<void>;
  /**
   * Called on shutdown before containerd is stopped. `liveRestore` true means leave
   * containers running (their shims keep them); false means stop them gracefully.
   * `limitSeconds` is the daemon's one shutdown bound (moby's Daemon.ShutdownTimeout,
   * computed once by the daemon; -1: none): a module should be done by then.
   */
  shutdown?(daemon: Daemon, options: { liveRestore: boolean; limitSeconds: number }): Promise<void>;
}

/** A container as other components need to see it (image deletion, `info`, `system df`). */
export interface ContainerSummary {
  id: string;
  name: string;
  imageId: string;
  state: "created" | "running" | "paused" | "restarting" | "removing" | "exited" | "dead";
  /** Bytes in the container's writable layer (UpperDir), for `system df`. */
  sizeRw?: number;
}

/**
 * What the container component tells the rest of the daemon. Installed by the
 * containers module (`daemon.containers = ...`); absent, the daemon behaves as if
 * there were no containers.
 */
export interface ContainerDirectory {
  /** Every container the daemon knows, in any state. */
  list(): ContainerSummary[] | Promise<ContainerSummary[]>;
  /** The `Containers` rows of `GET /system/df` (each like a `GET /containers/json` row with SizeRw). */
  diskUsage?(): Promise<unknown[]>;
  /** Every container's stop timeout in seconds (-1: wait forever), for the shutdown bound. */
  stopTimeouts?(): number[];
}

/** Counts for `docker info`. */
export interface ContainerCounts {
  total: number;
  running: number;
  paused: number;
  stopped: number;
}
