// What this teaches: `docker attach`, and the attached half of `docker run`. The CLI
// attaches *before* it starts the container (so not a byte of output is missed): such
// a client waits with the container, and the start connects it to the new run's
// FIFOs. A client attaching to a container that already runs joins its current FIFOs;
// if dockerd has none open (a detached container, or one adopted after a daemon
// restart), it asks containerd to connect a fresh set to the running process
// (Tasks.Attach), which the shim adds to its copy loop. Either way the session ends
// when the run's output ends.
// Mirrors moby's daemon/attach.go (ContainerAttach, containerAttach) and
// container/stream/attach.go.

import { type AttachSession, ProcessStdio } from "./streams.ts";
import type { Container } from "./container.ts";
import type { ContainerService } from "./service.ts";

/** Options of `POST /containers/{id}/attach`. */
export interface AttachOptions {
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
}

/**
 * Connects `session` to the container's output (and its stdin, if it has an open one).
 * Resolves once connected; the session ends by itself.
 */
export async function attachContainer(
  service: ContainerService,
  container: Container,
  session: AttachSession,
): Promise<void> {
  await container.lock.run(async () => {
    const running = container.state.running && !container.state.restarting;
    if (!running) {
      container.waitingSessions.add(session);
      session.finished.then(() => container.waitingSessions.delete(session));
      return;
    }
    if (!container.stdio) {
      // A running container with no FIFOs of ours: connect new ones through the shim.
      const stdio = await ProcessStdio.create(
        service.fifoDirectory(container.id),
        `attach-${crypto.randomUUID().slice(0, 8)}`,
        { stdin: false, stdout: true, stderr: true, tty: container.config.Tty, stdinOnce: false },
      );
      try {
        await service.containerd.tasks.attach(container.id, stdio.paths);
      } catch (error) {
        stdio.cancel();
        await stdio.remove();
        throw error;
      }
      container.stdio = stdio;
    }
    container.stdio.addSession(session);
  });
}
