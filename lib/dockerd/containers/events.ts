// What this teaches: what `docker events` shows about containers. Each lifecycle step
// (create, start, kill, die, stop, restart, destroy...) is logged with the container's
// ID as the actor and its name and image as attributes (plus its labels, so that
// `--filter label=...` works), and `die` also carries the exit code.
// Mirrors moby's daemon/events.go (LogContainerEvent, LogContainerEventWithAttributes).

import type { Container } from "./container.ts";
import type { ContainerService } from "./service.ts";

/** Logs a container event (`extra` attributes such as exitCode or signal added). */
export function logContainerEvent(
  service: ContainerService,
  container: Container,
  action: string,
  extra: Record<string, string> = {},
): void {
  service.daemon.events.log("container", action, container.id, {
    ...(container.config.Labels ?? {}),
    image: container.config.Image ?? container.imageId,
    name: container.shortName,
    ...extra,
  });
}
