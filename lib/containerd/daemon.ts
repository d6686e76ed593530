// What this teaches: what happens when a container daemon starts. It locks its
// root, opens the metadata database, builds each service's store, registers the
// services' routes, and only then opens its socket. Mirrors containerd's
// `cmd/containerd/server/server.go`, where plugins are loaded in dependency
// order before the gRPC server starts serving. The on-disk names are containerd's
// plugin IDs, so `ls /var/lib/mini-containerd` reads like `ls /var/lib/containerd`.

import { join } from "node:path";
import { Router, serveUnix } from "../api/server.ts";
import { MetadataDb } from "../metadata/db.ts";
import { NamespaceStore } from "../metadata/namespaces.ts";
import type { DaemonConfig } from "./config.ts";
import { lockRoot, type RootLock } from "./lock.ts";
import { Logger } from "./log.ts";
import { registerNamespacesService } from "./services/namespaces.ts";
import { registerVersionService } from "./services/version.ts";

/** Directories under `root`, named after containerd's plugin IDs. */
export function rootPaths(root: string) {
  return {
    metadata: join(root, "io.containerd.metadata.v1.bolt"),
    content: join(root, "io.containerd.content.v1.content"),
    overlayfs: join(root, "io.containerd.snapshotter.v1.overlayfs"),
  };
}

/** A running mini-containerd. */
export class ContainerdDaemon {
  readonly router = new Router();
  readonly log: Logger;
  readonly db: MetadataDb;
  readonly namespaces: NamespaceStore;
  #server?: Deno.HttpServer;

  private constructor(readonly config: DaemonConfig, private readonly lock: RootLock) {
    this.log = new Logger(config.logLevel);
    const paths = rootPaths(config.root);
    Deno.mkdirSync(paths.metadata, { recursive: true, mode: 0o711 });
    this.db = new MetadataDb(join(paths.metadata, "meta.db"));
    this.namespaces = new NamespaceStore(this.db);
    registerVersionService(this.router);
    registerNamespacesService(this.router, this.namespaces);
  }

  /** Locks the root, loads every service, and starts serving on `config.address`. */
  static async start(config: DaemonConfig): Promise<ContainerdDaemon> {
    await Deno.mkdir(config.root, { recursive: true, mode: 0o711 });
    await Deno.mkdir(config.state, { recursive: true, mode: 0o711 });
    await Deno.mkdir(dirnameOf(config.address), { recursive: true, mode: 0o711 });
    const lock = await lockRoot(join(config.root, "mini-containerd.lock"));
    let daemon: ContainerdDaemon;
    try {
      daemon = new ContainerdDaemon(config, lock);
    } catch (error) {
      lock.release();
      throw error;
    }
    daemon.#server = await serveUnix(daemon.router, {
      socketPath: config.address,
      gid: config.gid,
    });
    daemon.log.info("mini-containerd successfully booted", {
      address: config.address,
      root: config.root,
      state: config.state,
    });
    return daemon;
  }

  /** Stops serving, closes the database and releases the root lock. */
  async stop(): Promise<void> {
    await this.#server?.shutdown();
    await Deno.remove(this.config.address).catch(() => {});
    this.db.close();
    this.lock.release();
    this.log.info("mini-containerd stopped");
  }
}

function dirnameOf(path: string): string {
  const index = path.lastIndexOf("/");
  return index <= 0 ? "/" : path.slice(0, index);
}
