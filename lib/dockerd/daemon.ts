// What this teaches: what happens between `dockerd` and "API listen on
// /var/run/docker.sock". The daemon takes its pidfile (refusing to start twice), opens
// its stores in dependency order (graph driver → layers → images → names), connects to
// containerd (its own supervised child, or the one given with --containerd) in the
// `moby` namespace, lets every API component register its routes and restore its
// state (containers reconnect to their running tasks), and only then opens the socket.
// Shutdown runs the other way: close the socket, let components stop their containers
// (or leave them running under live-restore), stop the supervised containerd, remove
// the pidfile. SIGHUP re-reads daemon.json for the settings that can change live.
// Mirrors moby's cmd/dockerd/daemon.go (DaemonCli.start, reloadConfig), daemon/daemon.go
// (NewDaemon, Shutdown) and daemon/reload.go.

import { join } from "node:path";
import { ContainerdClient } from "../client/client.ts";
import { Logger, type LogLevel } from "../containerd/log.ts";
import {
  type DockerdConfig,
  type FlagSettings,
  reloadDockerdConfig,
  shutdownLimitSeconds,
  socketPaths,
} from "./config.ts";
import { ContainerdSupervisor, supervisedPaths } from "./containerd_supervisor.ts";
import { EventsService } from "./events.ts";
import { ImageService } from "./image/image_service.ts";
import { ImageStore } from "./image/image_store.ts";
import { ReferenceStore } from "./image/reference_store.ts";
import { LayerStore } from "./layer/layer_store.ts";
import { Overlay2Driver } from "./layer/overlay2.ts";
import { base32 } from "./layer/short_id.ts";
import { DaemonNetworks } from "./network/daemon_networks.ts";
import { type DaemonPaths, daemonPaths } from "./paths.ts";
import { EngineServer } from "./server/http_server.ts";
import { EngineRouter } from "./server/router.ts";
import type { ContainerDirectory, ContainerSummary, EngineModule } from "./types.ts";

/** The containerd namespace dockerd keeps its containers and tasks in. */
export const MOBY_NAMESPACE = "moby";

/** What a module still shutting down after the overall deadline gets before it is left behind. */
const LATE_MODULE_GRACE_MS = 1_000;

/** The version mini-dockerd reports (Server header, `docker version`). */
export const DOCKERD_VERSION = "20.10.24-mini";

/** Options of Daemon.start(). */
export interface DaemonStartOptions {
  /** The API components to load (routes/mod.ts ENGINE_MODULES by default). */
  modules: EngineModule[];
  /** The settings that came from flags (for SIGHUP reloads, which re-check conflicts). */
  flags?: FlagSettings;
}

function loggerFor(config: DockerdConfig): Logger {
  const level: LogLevel = config.logLevel === "fatal" ? "error" : config.logLevel;
  return new Logger(config.debug ? "debug" : level);
}

/** One running mini-dockerd. */
export class Daemon {
  #log: Logger;
  #servers: EngineServer[] = [];
  #stopping?: Promise<void>;
  /** Set by the containers module; absent, there are no containers. */
  containers?: ContainerDirectory;
  /** When the daemon started (for `docker info` and events). */
  readonly startedAt = new Date();
  /** What happened, for `docker events` (components log to it). */
  readonly events = new EventsService();

  private constructor(
    public config: DockerdConfig,
    readonly paths: DaemonPaths,
    readonly engineId: string,
    readonly driver: Overlay2Driver,
    readonly layers: LayerStore,
    readonly imageStore: ImageStore,
    readonly references: ReferenceStore,
    readonly images: ImageService,
    readonly networks: DaemonNetworks,
    readonly router: EngineRouter,
    readonly modules: EngineModule[],
    readonly flags: FlagSettings,
    readonly supervisor: ContainerdSupervisor | undefined,
    /** The containerd socket in use (supervised or given). */
    readonly containerdAddress: string,
    logger: Logger,
  ) {
    this.#log = logger;
  }

  /** The current logger (SIGHUP may replace it when log-level changes). */
  get log(): Logger {
    return this.#log;
  }

  /** A new containerd client in the `moby` namespace (close it when done). */
  containerd(namespace = MOBY_NAMESPACE): ContainerdClient {
    return new ContainerdClient(this.containerdAddress, namespace);
  }

  /** The containers the containers module knows (empty without one). */
  async listContainers(): Promise<ContainerSummary[]> {
    return this.containers ? await this.containers.list() : [];
  }

  /** Starts a daemon with `config`; resolves once the API socket accepts requests. */
  static async start(config: DockerdConfig, options: DaemonStartOptions): Promise<Daemon> {
    const log = loggerFor(config);
    const paths = daemonPaths(config.dataRoot, config.execRoot);
    await Deno.mkdir(paths.dataRoot, { recursive: true, mode: 0o711 });
    await Deno.mkdir(paths.execRoot, { recursive: true, mode: 0o700 });
    await Deno.mkdir(paths.tmp, { recursive: true, mode: 0o700 });
    await Deno.mkdir(paths.containers, { recursive: true, mode: 0o710 });
    await takePidFile(config.pidfile);
    let supervisor: ContainerdSupervisor | undefined;
    let networks: DaemonNetworks | undefined;
    let daemon: Daemon | undefined = undefined;
    try {
      // Leftovers of interrupted downloads are worthless after a restart.
      for await (const entry of Deno.readDir(paths.tmp)) {
        await Deno.remove(join(paths.tmp, entry.name), { recursive: true }).catch(() => {});
      }
      const engineId = await loadEngineId(paths.engineId);
      const driver = await Overlay2Driver.open(paths.overlay2);
      const layers = await LayerStore.open(paths.layerDb, driver);
      const imageStore = await ImageStore.open(paths.imageDb, layers);
      const references = await ReferenceStore.open(paths.repositories);
      const orphanLayers = await layers.removeUnreferenced();
      const orphanDirs = await layers.removeOrphanDirectories();
      if (orphanLayers.length + orphanDirs.length > 0) {
        log.info("removed unreferenced layers", {
          layers: orphanLayers.length,
          directories: orphanDirs.length,
        });
      }
      networks = await DaemonNetworks.open(config, paths);

      let containerdAddress: string;
      if (config.containerd) {
        containerdAddress = config.containerd;
        await waitForContainerd(containerdAddress);
      } else {
        supervisor = new ContainerdSupervisor(
          supervisedPaths(paths.dataRoot, paths.execRoot),
          () => daemon?.log ?? log,
          config.logLevel,
        );
        await supervisor.start();
        containerdAddress = supervisor.paths.address;
      }
      const client = new ContainerdClient(containerdAddress);
      try {
        await client.namespaces.create(MOBY_NAMESPACE).catch(() => {}); // exists already: fine
      } finally {
        client.close();
      }

      const router = new EngineRouter();
      const images = new ImageService(
        imageStore,
        references,
        layers,
        () => daemon!.listContainers(),
      );
      daemon = new Daemon(
        config,
        paths,
        engineId,
        driver,
        layers,
        imageStore,
        references,
        images,
        networks,
        router,
        options.modules,
        options.flags ?? {},
        supervisor,
        containerdAddress,
        log,
      );
      // The image and network services log their own events (tag, untag, connect...), so
      // every caller is heard by `docker events`, the builder and container starts too.
      images.useEvents(daemon.events);
      networks.useEvents(daemon.events);
      for (const module of options.modules) module.register(router, daemon);
      for (const module of options.modules) {
        if (module.start) {
          log.debug("starting module", { module: module.name });
          await module.start(daemon);
        }
      }
      await daemon.#listen();
      log.info("Daemon has completed initialization");
      return daemon;
    } catch (error) {
      await supervisor?.stop().catch(() => {});
      networks?.close();
      await Deno.remove(config.pidfile).catch(() => {});
      throw error;
    }
  }

  async #listen(): Promise<void> {
    for (const socketPath of socketPaths(this.config)) {
      const server = new EngineServer(this.router, {
        socketPath,
        mode: 0o660,
        serverVersion: DOCKERD_VERSION,
        log: () => this.log,
      });
      await server.listen();
      this.#servers.push(server);
      this.log.info("API listen on " + socketPath);
    }
  }

  /**
   * SIGHUP: re-reads daemon.json and applies the reloadable settings. An invalid file
   * is logged and the running configuration kept, as dockerd does.
   */
  async reload(): Promise<string[]> {
    try {
      const { config, changed } = await reloadDockerdConfig(this.config, this.flags);
      this.config = config;
      if (changed.includes("debug") || changed.includes("log-level")) this.#log = loggerFor(config);
      this.log.info("Reloaded configuration", {
        config: JSON.stringify({
          debug: config.debug,
          "log-level": config.logLevel,
          "live-restore": config.liveRestore,
          "max-concurrent-downloads": config.maxConcurrentDownloads,
          "max-concurrent-uploads": config.maxConcurrentUploads,
          "shutdown-timeout": config.shutdownTimeout,
        }),
        changed: changed.join(","),
      });
      return changed;
    } catch (error) {
      this.log.error("Error reconfiguring the daemon", {
        error: error instanceof Error ? error.message : String(error),
      });
      return [];
    }
  }

  /** Stops the daemon: socket, components, supervised containerd, pidfile. Idempotent. */
  shutdown(): Promise<void> {
    this.#stopping ??= this.#shutdown();
    return this.#stopping;
  }

  async #shutdown(): Promise<void> {
    this.log.info("Processing signal 'terminated'");
    for (const server of this.#servers) await server.close().catch(() => {});
    const liveRestore = this.config.liveRestore;
    // A component that hangs must not keep the daemon from exiting. The bound is moby's
    // (Daemon.ShutdownTimeout): max(shutdown-timeout, longest container stop timeout
    // + 5 s) for the components together; after it, each one still left gets a short
    // moment and is then left behind ("Force shutdown daemon").
    const limitSeconds = shutdownLimitSeconds(
      this.config.shutdownTimeout,
      this.containers?.stopTimeouts?.() ?? [],
    );
    const deadline = limitSeconds < 0 ? undefined : Date.now() + limitSeconds * 1000;
    for (const module of [...this.modules].reverse()) {
      if (!module.shutdown) continue;
      let timer: ReturnType<typeof setTimeout> | undefined;
      try {
        const limitMs = deadline === undefined
          ? undefined
          : Math.max(deadline - Date.now(), LATE_MODULE_GRACE_MS);
        const outcome = await Promise.race([
          module.shutdown(this, { liveRestore, limitSeconds }).then(() => "done" as const),
          new Promise<"timeout">((resolve) => {
            if (limitMs !== undefined) timer = setTimeout(() => resolve("timeout"), limitMs);
          }),
        ]);
        if (outcome === "timeout") {
          this.log.error("Force shutdown daemon: a module did not finish its shutdown in time", {
            module: module.name,
            seconds: limitSeconds,
          });
        }
      } catch (error) {
        this.log.error("module shutdown failed", {
          module: module.name,
          error: error instanceof Error ? error.message : String(error),
        });
      } finally {
        clearTimeout(timer);
      }
    }
    await this.supervisor?.stop();
    this.networks.close();
    await Deno.remove(this.config.pidfile).catch(() => {});
    this.log.info("Daemon shutdown complete");
  }
}

/**
 * Writes our PID to the pidfile, refusing when another live process holds it (dockerd:
 * "pid file found, ensure docker is not running or delete ...").
 */
async function takePidFile(path: string): Promise<void> {
  let text: string | undefined;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  const pid = Number(text?.trim());
  if (Number.isInteger(pid) && pid > 0 && pid !== Deno.pid && isLiveDockerd(pid)) {
    throw new Error(`pid file found, ensure docker is not running or delete ${path}`);
  }
  const dir = path.slice(0, path.lastIndexOf("/")) || "/";
  await Deno.mkdir(dir, { recursive: true });
  await writeFileAtomically(path, String(Deno.pid));
}

/** True when `pid` is a running (not zombie) mini-dockerd: a reused PID does not count. */
function isLiveDockerd(pid: number): boolean {
  try {
    if (/\) Z /.test(Deno.readTextFileSync(`/proc/${pid}/stat`))) return false;
    return Deno.readTextFileSync(`/proc/${pid}/cmdline`).includes("mini_dockerd");
  } catch {
    return false;
  }
}

/** Writes through a temp file and rename, so a reader never sees a half-written file. */
export async function writeFileAtomically(path: string, content: string): Promise<void> {
  const temporary = `${path}.tmp-${crypto.randomUUID().slice(0, 8)}`;
  await Deno.writeTextFile(temporary, content);
  await Deno.rename(temporary, path);
}

/** The daemon's stable ID, created on first start (12 groups of 4 base32 characters). */
async function loadEngineId(path: string): Promise<string> {
  try {
    const id = (await Deno.readTextFile(path)).trim();
    if (id !== "") return id;
  } catch { /* first start */ }
  const encoded = base32(crypto.getRandomValues(new Uint8Array(30))).slice(0, 48);
  const id = encoded.match(/.{4}/g)!.join(":");
  await Deno.writeTextFile(path, id);
  return id;
}

/** Waits (up to 30 s) for an external containerd to answer. */
async function waitForContainerd(address: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  let lastError: unknown;
  while (Date.now() < deadline) {
    const client = new ContainerdClient(address);
    try {
      await client.version();
      return;
    } catch (error) {
      lastError = error;
    } finally {
      client.close();
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(
    `failed to dial "${address}": containerd does not answer there ` +
      `(${lastError instanceof Error ? lastError.message : lastError})`,
  );
}
