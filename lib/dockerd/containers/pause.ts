// What this teaches: `docker pause` freezes every process of a container in place (the
// cgroup freezer: they stop being scheduled, memory and open files stay as they are)
// and `docker unpause` thaws them. dockerd only asks containerd (Tasks.Pause/Resume, the
// shim runs `runtime pause/resume`) and records the state, so `docker ps` says
// "Up 3 minutes (Paused)".
// Mirrors moby's daemon/pause.go (containerPause) and daemon/unpause.go.

import { conflictError } from "../server/errors.ts";
import type { Container } from "./container.ts";
import type { ContainerService } from "./service.ts";

/** `POST /containers/{id}/pause`. */
export async function pauseContainer(
  service: ContainerService,
  container: Container,
): Promise<void> {
  await container.lock.run(async () => {
    const state = container.state;
    if (!state.running || state.restarting) {
      throw conflictError(`Container ${container.id} is not running`);
    }
    if (state.paused) throw conflictError(`Container ${container.id} is already paused`);
    await service.containerd.tasks.pause(container.id);
    state.paused = true;
    await container.checkpoint();
  });
}

/** `POST /containers/{id}/unpause`. */
export async function unpauseContainer(
  service: ContainerService,
  container: Container,
): Promise<void> {
  await container.lock.run(async () => {
    const state = container.state;
    if (!state.paused) throw conflictError(`Container ${container.id} is not paused`);
    await service.containerd.tasks.resume(container.id);
    state.paused = false;
    await container.checkpoint();
  });
}
