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
import { GarbageCollector } from "../gc/collector.ts";
import { LeasesGcSource, LeaseStore } from "../leases/mod.ts";
import { type MetadataContentStore, NamespacedContent, openContentStore } from "../content/mod.ts";
import { registerContentService, registerGarbageCollectionService } from "./services/content.ts";
import { registerLeasesService } from "./services/leases.ts";
import { openSnapshotStore, type SnapshotStore } from "../snapshots/open.ts";
import { snapshotGcSource } from "../snapshots/gc.ts";
import { registerSnapshotsService } from "./services/snapshots.ts";
import { registerDiffService } from "./services/diff.ts";
import { imagesGcSource, ImageStore } from "../images/mod.ts";
import { registerImagesService } from "./services/images.ts";
import { containersGcSource, ContainerStore } from "../containers/mod.ts";
import { Exchange } from "../events/exchange.ts";
import { TaskManager } from "../tasks/manager.ts";
import { registerContainersService } from "./services/containers.ts";
import { registerEventsService } from "./services/events.ts";
import { registerTasksService } from "./services/tasks.ts";

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
  readonly gc: GarbageCollector;
  readonly leases: LeaseStore;
  readonly content: MetadataContentStore;
  readonly snapshots: SnapshotStore;
  readonly images: ImageStore;
  readonly events = new Exchange();
  readonly stopping = new AbortController();
  readonly containers: ContainerStore;
  readonly tasks: TaskManager;
  #server?: Deno.HttpServer;

  private constructor(readonly config: DaemonConfig, private readonly lock: RootLock) {
    this.log = new Logger(config.logLevel);
    const paths = rootPaths(config.root);
    Deno.mkdirSync(paths.metadata, { recursive: true, mode: 0o711 });
    this.db = new MetadataDb(join(paths.metadata, "meta.db"));
    this.namespaces = new NamespaceStore(this.db);
    this.gc = new GarbageCollector(this.db, { logger: this.log });
    this.leases = new LeaseStore(this.db);
    this.gc.register(new LeasesGcSource(this.leases));
    this.content = openContentStore(this.db, paths.content, this.namespaces, this.leases, this.gc);
    registerVersionService(this.router);
    registerNamespacesService(this.router, this.namespaces);
    registerContentService(this.router, this.content);
    registerLeasesService(this.router, this.leases, this.namespaces, this.gc);
    registerGarbageCollectionService(this.router, this.gc);
    this.snapshots = openSnapshotStore(this.db, paths.overlayfs);
    registerSnapshotsService(this.router, this.snapshots, this.namespaces, this.leases);
    this.gc.register(snapshotGcSource(this.snapshots));
    registerDiffService(this.router, (namespace) => new NamespacedContent(this.content, namespace));
    this.images = new ImageStore(this.db, this.namespaces);
    this.gc.register(imagesGcSource(this.images));
    registerImagesService(this.router, this.images, this.gc);
    this.containers = new ContainerStore(this.db, this.namespaces);
    this.gc.register(containersGcSource(this.containers));
    this.tasks = new TaskManager({
      stateDir: config.state,
      daemonAddress: config.address,
      containers: this.containers,
      snapshots: this.snapshots,
      events: this.events,
      log: this.log,
      debugShims: config.logLevel === "debug",
    });
    registerEventsService(this.router, this.events, this.stopping.signal);
    registerContainersService(
      this.router,
      this.containers,
      this.events,
      (namespace, id) => this.tasks.hasTask(namespace, id),
    );
    registerTasksService(this.router, this.tasks);
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
    // Sweep what a crash left behind before any client can write (containerd: startup_delay).
    await daemon.gc.collect().catch((error) => daemon.log.error("gc failed", { error }));
    await daemon.tasks.restore();
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
    this.stopping.abort();
    this.tasks.close();
    await this.#server?.shutdown();
    await this.gc.stop();
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
