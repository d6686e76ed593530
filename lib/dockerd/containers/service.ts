// What this teaches: the part of dockerd that owns containers, and what it shares with
// the rest of the daemon. It holds the container store (in memory, rebuilt from disk at
// start), the exec instances, one containerd client in the `moby` namespace and the
// exit monitor; the image and layer stores belong to the daemon and are used through
// it. The operations themselves (create, start, stop, rm, exec, logs...) live in one
// file each, like moby's daemon package, and all take this service as their context.
// Mirrors the container-related fields of moby's daemon/daemon.go (Daemon: containers,
// execCommands, containerd, shutdown flag) and daemon/container.go (GetContainer).

import { join } from "node:path";
import { ApiError, isErrorCode } from "../../api/errors.ts";
import type { ContainerdClient } from "../../client/client.ts";
import type { Daemon } from "../daemon.ts";
import { EngineError } from "../server/errors.ts";
import type { ContainerDirectory, ContainerSummary } from "../types.ts";
import type { Container } from "./container.ts";
import type { ExecStore } from "./exec_store.ts";
import { DEFAULT_STOP_TIMEOUT } from "./stop.ts";
import { ContainerStore } from "./store.ts";

/** The logging the container code does. */
export interface ContainerLog {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/** 304 Not Modified: `start` of a running container, `stop` of a stopped one. */
export class NotModifiedError extends EngineError {
  constructor(message: string) {
    super(304, message);
    this.name = "NotModifiedError";
  }
}

/** The label dockerd puts on its containerd containers: where their bundle is. */
export const BUNDLE_PATH_LABEL = "com.docker/engine.bundle.path";

/** The container half of the daemon. */
export class ContainerService implements ContainerDirectory {
  readonly store = new ContainerStore();
  /** True from the start of daemon shutdown: exits then never trigger restart policies. */
  shuttingDown = false;
  /** Per-container work in flight (exit handling, restarts) that shutdown waits for. */
  readonly #background = new Map<Promise<unknown>, string>();

  constructor(
    readonly daemon: Daemon,
    /** A client in the `moby` namespace. */
    readonly containerd: ContainerdClient,
    readonly execs: ExecStore,
  ) {}

  get log(): ContainerLog {
    return this.daemon.log;
  }

  /** `<exec-root>/containerd/<id>`: the FIFOs of a container and its execs (moby's layout). */
  fifoDirectory(id: string): string {
    return join(this.daemon.paths.execRoot, "containerd", id);
  }

  /** `<data-root>/containers/<id>`. */
  containerRoot(id: string): string {
    return join(this.daemon.paths.containers, id);
  }

  /** A container by ID, name or unique ID prefix; 404 "No such container: X" otherwise. */
  get(reference: string): Container {
    return this.store.get(reference);
  }

  /** Runs work in the background, logging its failure; shutdown waits for it. */
  background(what: string, work: () => Promise<unknown>): void {
    const running = work().catch((error) =>
      this.log.error(what, { error: error instanceof Error ? error.message : String(error) })
    );
    this.#background.set(running, what);
    running.finally(() => this.#background.delete(running));
  }

  /** Waits for the background work in flight now. */
  async settle(): Promise<void> {
    while (this.#background.size > 0) {
      this.log.debug("waiting for background work", {
        work: [...this.#background.values()].join(","),
      });
      await Promise.all([...this.#background.keys()]);
    }
  }

  /** ContainerDirectory: what images, `info` and `system df` see of the containers. */
  async list(): Promise<ContainerSummary[]> {
    const summaries: ContainerSummary[] = [];
    for (const container of this.store.list()) {
      let sizeRw: number | undefined;
      try {
        sizeRw = await this.daemon.layers.containerLayerSize(container.id);
      } catch { /* no layer (a half-created container) */ }
      summaries.push({
        id: container.id,
        name: container.name,
        imageId: container.imageId,
        state: container.state.status(),
        sizeRw,
      });
    }
    return summaries;
  }

  /** ContainerDirectory: each container's stop timeout (moby's Container.StopTimeout). */
  stopTimeouts(): number[] {
    return this.store.list().map((container) =>
      container.config.StopTimeout ?? DEFAULT_STOP_TIMEOUT
    );
  }

  /**
   * Removes what containerd holds for a container: its task (if any is left) and its
   * container record. Each part that is already gone is fine.
   */
  async deleteFromContainerd(id: string): Promise<void> {
    try {
      await this.containerd.tasks.delete(id);
    } catch (error) {
      if (!isMissing(error)) {
        this.log.warn("cannot delete containerd task", { container: id, error: describe(error) });
      }
    }
    try {
      await this.containerd.containers.delete(id);
    } catch (error) {
      if (!isMissing(error)) {
        this.log.warn("cannot delete containerd container", {
          container: id,
          error: describe(error),
        });
      }
    }
  }
}

/** True for containerd's "not found" (the object is already gone). */
export function isMissing(error: unknown): boolean {
  return isErrorCode(error, "not_found");
}

/** An error's message. */
export function describe(error: unknown): string {
  if (error instanceof ApiError || error instanceof Error) return error.message;
  return String(error);
}
