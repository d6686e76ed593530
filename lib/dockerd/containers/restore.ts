// What this teaches: what live-restore means, from dockerd's side. Containers do not
// run *in* dockerd: each one is kept by its shim, under containerd. So when dockerd
// stops (or is killed with -9), its containers can simply go on, and a new dockerd can
// take them back: it reads every `containers/<id>/config.v2.json`, asks containerd for
// each task's state, and for a task still running adopts it (its pid, its layer mount,
// which is still there) so `ps`, `logs`, `exec` and `stop` work again; an exit that
// happened while dockerd was away is still known to containerd (the shim keeps it) and
// is processed now, restart policy included. Without live-restore, dockerd stops its
// containers when it shuts down (stop signal, then SIGKILL after the timeout), and a
// dockerd that was killed finds running containers at its next start and stops them.
// Finally, containers whose restart policy says so (`always`, `unless-stopped` unless a
// user stopped them, `on-failure` after a failure) are started again.
// Mirrors moby's daemon/daemon.go (restore, the live-restore branch,
// restartContainers / shouldRestart) and daemon/daemon.go Shutdown/shutdownContainer.

import { join } from "node:path";
import { Container } from "./container.ts";
import { cleanupAfterRun, handleContainerExit } from "./monitor.ts";
import { type ContainerService, describe, isMissing } from "./service.ts";
import { startContainerAutomatically } from "./start.ts";
import { containerStop, DEFAULT_STOP_TIMEOUT, killAndWait } from "./stop.ts";
import { raceTimeout, TIMED_OUT } from "../../shim/timeouts.ts";
import { nowTimestamp, timestampMillis } from "./time.ts";
import { removeContainer } from "./delete.ts";

/** Reads every container directory into the store; broken ones are logged and skipped. */
async function loadContainers(service: ContainerService): Promise<Container[]> {
  const loaded: Container[] = [];
  for await (const entry of Deno.readDir(service.daemon.paths.containers)) {
    if (!entry.isDirectory) continue;
    const root = join(service.daemon.paths.containers, entry.name);
    try {
      const container = await Container.fromDisk(root);
      if (container.id !== entry.name) {
        throw new Error("the directory name is not the container ID");
      }
      service.store.reserveName(container.name, container.id);
      service.store.add(container);
      loaded.push(container);
    } catch (error) {
      service.log.error("failed to load container", {
        container: entry.name,
        error: describe(error),
      });
    }
  }
  return loaded;
}

/** Restores one container that was running when dockerd last stopped. */
async function restoreRunning(
  service: ContainerService,
  container: Container,
  liveRestore: boolean,
) {
  const state = container.state;
  let task;
  try {
    task = await service.containerd.tasks.get(container.id);
  } catch (error) {
    if (!isMissing(error)) throw error;
  }
  const alive = task !== undefined && (task.status === "running" || task.status === "paused");
  if (alive && liveRestore) {
    state.pid = task!.pid;
    state.restarting = false;
    // The layer is still mounted: take it over (count it once, as the run that mounted it).
    await service.daemon.layers.mountContainerLayer(container.id);
    await service.daemon.layers.unmountContainerLayer(container.id);
    try {
      container.spec = (await service.containerd.containers.get(container.id)).spec;
    } catch { /* execs then run with default process settings */ }
    service.log.info("live-restored container", { container: container.id, pid: task!.pid });
    return;
  }
  if (alive) {
    service.log.info("stopping container considered alive by containerd (live-restore is off)", {
      container: container.id,
    });
    state.pid = task!.pid;
    state.restarting = false;
    await service.daemon.layers.mountContainerLayer(container.id);
    await service.daemon.layers.unmountContainerLayer(container.id);
    // Stopped by the daemon, not by a user: `unless-stopped` must still restart it.
    const manuallyStopped = container.hasBeenManuallyStopped;
    await killAndWait(service, container).catch((error) =>
      service.log.error("cannot stop container", {
        container: container.id,
        error: describe(error),
      })
    );
    container.hasBeenManuallyStopped = manuallyStopped;
    await container.checkpoint().catch(() => {});
    return;
  }
  // It exited while dockerd was away: containerd still has the exit status.
  state.restarting = false;
  state.running = true;
  await handleContainerExit(service, container, {
    exitCode: task?.exitStatus ?? 255,
    exitedAt: task?.exitedAt ?? nowTimestamp(),
    oomKilled: task?.oomKilled,
  });
}

/**
 * Restores every container at daemon start (the exit monitor must already be
 * subscribed). Returns once containers to restart have been started.
 */
export async function restoreContainers(
  service: ContainerService,
  liveRestore: boolean,
): Promise<void> {
  const containers = await loadContainers(service);
  const known = new Set(containers.map((container) => container.id));
  for (const container of containers) {
    try {
      if (container.state.removalInProgress || container.state.dead) {
        // An rm that a crash interrupted: finish it.
        container.state.resetRemovalInProgress();
        container.state.running = false;
        await removeContainer(service, container, { force: true });
        continue;
      }
      if (container.state.running) {
        await restoreRunning(service, container, liveRestore);
      } else if (service.daemon.layers.getContainerLayer(container.id)) {
        // A stopped container's layer may still be mounted if dockerd died mid-cleanup.
        const { mountId } = service.daemon.layers.getContainerLayer(container.id)!;
        if (service.daemon.driver.isMounted(mountId)) await cleanupAfterRun(service, container);
      }
    } catch (error) {
      service.log.error("failed to restore container", {
        container: container.id,
        error: describe(error),
      });
    }
  }
  // Tasks in the moby namespace that no container claims (a container removed while
  // its task survived somewhere): stop and delete them.
  try {
    for (const task of await service.containerd.tasks.list()) {
      if (known.has(task.id)) continue;
      service.log.warn("removing unknown task in namespace moby", { task: task.id });
      if (task.status === "running") {
        await service.containerd.tasks.kill(task.id, 9).catch(() => {});
      }
      await service.deleteFromContainerd(task.id);
    }
  } catch (error) {
    service.log.warn("cannot list containerd tasks", { error: describe(error) });
  }
  await service.settle();
  // Network leftovers of a crash: sandboxes of containers that no longer run, stray
  // namespaces and veths, addresses without an owner; live-restored containers keep
  // theirs (and get their port proxies back).
  try {
    const report = await service.daemon.networks.recover((id) =>
      service.store.find(id)?.state.running === true
    );
    if (report.removedSandboxes.length + report.removedInterfaces.length > 0) {
      service.log.info("cleaned up network leftovers", {
        sandboxes: report.removedSandboxes.length,
        interfaces: report.removedInterfaces.length,
        namespaces: report.removedNamespaces.length,
      });
    }
  } catch (error) {
    service.log.error("network recovery failed", { error: describe(error) });
  }
  await Promise.all(containers.map(async (container) => {
    const state = container.state;
    if (state.running || !service.store.find(container.id)) return;
    if (!container.hasBeenStartedBefore) return;
    const runMs = timestampMillis(state.finishedAt) - timestampMillis(state.startedAt);
    // A fresh manager, as moby's restore gives every loaded container: the stop done
    // above for a container left running without live-restore cancelled the old one.
    container.resetRestartManager();
    const decision = container.restartManager.shouldRestart(
      state.exitCode,
      container.hasBeenManuallyStopped,
      Number.isNaN(runMs) ? 0 : runMs,
    );
    if (decision.restart) {
      container.restartManager.cancel(); // the start below is the restart: no delay at boot
      container.resetRestartManager();
      await startContainerAutomatically(service, container).catch((error) =>
        service.log.error("failed to start container", {
          container: container.id,
          error: describe(error),
        })
      );
    } else if (container.hostConfig.AutoRemove) {
      await removeContainer(service, container, { force: true }).catch(() => {});
    }
  }));
}

/**
 * Daemon shutdown: with live-restore leave every container to its shim; without, stop
 * them all in parallel (stop signal, then SIGKILL after their own stop timeout, 10 s by
 * default), waiting at most `limitSeconds`: the daemon's shutdown bound, max(`shutdown-timeout`,
 * longest stop timeout + 5), computed once by the daemon (-1: no bound).
 */
export async function shutdownContainers(
  service: ContainerService,
  liveRestore: boolean,
  limitSeconds: number,
): Promise<void> {
  service.shuttingDown = true;
  if (liveRestore) {
    service.log.info("live-restore: leaving containers running", {
      running: service.store.list().filter((container) => container.state.running).length,
    });
    return;
  }
  const stopping = Promise.all(
    service.store.list().map(async (container) => {
      if (!container.state.running) return;
      await containerStop(service, container, container.config.StopTimeout ?? DEFAULT_STOP_TIMEOUT)
        .catch((error) =>
          service.log.error("failed to stop container at shutdown", {
            container: container.id,
            error: describe(error),
          })
        );
    }),
  ).then(() => service.settle());
  // Returning at the daemon's bound (rather than being abandoned by it) lets the module
  // still stop its monitor and close its containerd connection.
  if (limitSeconds < 0) {
    await stopping;
    return;
  }
  if (await raceTimeout(stopping, limitSeconds * 1000) === TIMED_OUT) {
    service.log.warn("containers did not stop within the shutdown timeout", {
      seconds: limitSeconds,
    });
  }
}
