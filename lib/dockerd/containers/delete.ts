// What this teaches: what `docker rm` removes, in which order, and why a half-done
// removal must not be retried blindly. A running container is refused unless `-f`,
// which kills it first. Then the container is marked "removing" (a second `rm`, or the
// auto-removal of a `--rm` container that `rm -f` just killed, backs off), containerd
// forgets it, the layer store unmounts and deletes the `<mount-id>` and
// `<mount-id>-init` layers (and releases the image layer they held), and the
// `containers/<id>/` directory with its config and log goes last. If a step fails the
// container is marked dead: only another `rm -f` can finish it. `container prune`
// removes every stopped container and reports the bytes their layers held.
// Mirrors moby's daemon/delete.go (ContainerRm, cleanupContainer) and
// daemon/prune.go (ContainersPrune).

import { conflictError, EngineError } from "../server/errors.ts";
import type { Container } from "./container.ts";
import { logContainerEvent } from "./events.ts";
import { type ContainerService, describe } from "./service.ts";
import { killAndWait } from "./stop.ts";
import { tearDownNetworking } from "./networking.ts";
import { parseUnixTimestamp, timestampNanos } from "./time.ts";

/** Options of `DELETE /containers/{id}`. */
export interface RemoveOptions {
  force?: boolean;
  /** `-v`: anonymous volumes (mini-dockerd has none, so there is nothing extra to remove). */
  removeVolumes?: boolean;
}

/** `DELETE /containers/{id}?force=&v=`. */
export async function removeContainer(
  service: ContainerService,
  container: Container,
  options: RemoveOptions = {},
): Promise<void> {
  const state = container.state;
  if (state.removalInProgress) {
    throw conflictError(`removal of container ${container.shortName} is already in progress`);
  }
  if (state.running && !options.force) {
    const what = state.restarting ? "restarting" : "running";
    throw conflictError(
      `You cannot remove a ${what} container ${container.id}. ` +
        `Stop the container before attempting removal or force remove`,
    );
  }
  state.setRemovalInProgress();
  try {
    if (state.running) {
      try {
        await killAndWait(service, container);
      } catch (error) {
        throw new EngineError(
          500,
          `Could not kill running container ${container.id}, cannot remove - ${describe(error)}`,
        );
      }
    }
    // Wait for the exit handling to finish (it holds the lock while it cleans up).
    await container.lock.run(async () => {});
    await service.deleteFromContainerd(container.id);
    await tearDownNetworking(service, container); // normally gone with the run already
    try {
      if (service.daemon.layers.getContainerLayer(container.id)) {
        await service.daemon.layers.removeContainerLayer(container.id);
      }
    } catch (error) {
      state.setDead();
      throw new EngineError(
        500,
        `unable to remove filesystem for ${container.id}: ${describe(error)}`,
      );
    }
    await Deno.remove(service.fifoDirectory(container.id), { recursive: true }).catch(() => {});
    await Deno.remove(container.root, { recursive: true }).catch((error) => {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    });
  } catch (error) {
    state.resetRemovalInProgress();
    await container.checkpoint().catch(() => {});
    throw error;
  }
  service.store.delete(container);
  service.execs.deleteContainer(container.id);
  for (const session of container.waitingSessions) await session.end();
  container.waitingSessions.clear();
  state.setRemoved();
  logContainerEvent(service, container, "destroy");
  service.log.debug("container removed", { container: container.id });
}

/** `POST /containers/prune?filters=`: removes every stopped container the filters allow. */
export async function pruneContainers(
  service: ContainerService,
  filters: Map<string, string[]>,
): Promise<{ ContainersDeleted: string[] | null; SpaceReclaimed: number }> {
  for (const name of filters.keys()) {
    if (!["until", "label", "label!"].includes(name)) {
      throw new EngineError(400, `invalid filter '${name}'`);
    }
  }
  const until = (filters.get("until") ?? []).map(parseUntil);
  const deleted: string[] = [];
  let reclaimed = 0;
  for (const container of service.store.list()) {
    const state = container.state;
    if (state.running || state.removalInProgress) continue;
    if (until.some((limit) => timestampNanos(container.created) >= limit)) continue;
    if (!matchesLabels(container, filters.get("label") ?? [], true)) continue;
    if (!matchesLabels(container, filters.get("label!") ?? [], false)) continue;
    let size = 0;
    try {
      size = await service.daemon.layers.containerLayerSize(container.id);
    } catch { /* no layer */ }
    try {
      await removeContainer(service, container, {});
      deleted.push(container.id);
      reclaimed += size;
    } catch (error) {
      service.log.warn("prune could not remove container", {
        container: container.id,
        error: describe(error),
      });
    }
  }
  // One event for the whole prune (moby's ContainersPrune), beside each container's `destroy`.
  service.daemon.events.log("container", "prune", "", { reclaimed: String(reclaimed) });
  return { ContainersDeleted: deleted.length > 0 ? deleted : null, SpaceReclaimed: reclaimed };
}

/** `until` as Unix seconds, an RFC 3339 time, or a duration ago ("10m", "24h"). */
function parseUntil(text: string): bigint {
  const unix = parseUnixTimestamp(text);
  if (unix !== undefined) return unix;
  const duration = /^(\d+)(s|m|h)$/.exec(text);
  if (duration) {
    const unit = { s: 1_000, m: 60_000, h: 3_600_000 }[duration[2] as "s" | "m" | "h"];
    return BigInt(Date.now() - Number(duration[1]) * unit) * 1_000_000n;
  }
  const time = Date.parse(text);
  if (Number.isNaN(time)) throw new EngineError(400, `invalid filter 'until=${text}'`);
  return BigInt(time) * 1_000_000n;
}

/** `label=key` / `label=key=value` filters: all must match (or, for label!, none). */
export function matchesLabels(container: Container, wanted: string[], present: boolean): boolean {
  const labels = container.config.Labels ?? {};
  return wanted.every((filter) => {
    const [key, value] = filter.split("=", 2);
    const has = key in labels && (value === undefined || labels[key] === value);
    return present ? has : !has;
  });
}
