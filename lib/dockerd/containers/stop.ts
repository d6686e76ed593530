// What this teaches: the difference between `docker kill`, `docker stop` and `docker
// restart`. Kill sends one signal (SIGKILL by default, then waits for the exit).
// Stop is polite first: the image's STOPSIGNAL (SIGTERM unless the image says
// otherwise), then `-t` seconds (10 by default) for the process to clean up and exit,
// and only then SIGKILL. Either marks the container "manually stopped" and cancels its
// restart manager, so `--restart always` does not bring back a container a user
// stopped (until the daemon itself restarts, when `always` does). The signals go to
// the container's init through containerd and the shim; PID 1 in a pid namespace
// ignores signals it has no handler for, which is why `docker stop` of a plain `sleep`
// waits the whole timeout and ends with exit code 137.
// Mirrors moby's daemon/kill.go (ContainerKill, killWithSignal, Kill,
// killPossiblyDeadProcess), daemon/stop.go (containerStop) and daemon/restart.go.

import { parseSignal } from "../../linux/signals.ts";
import { badParameter, conflictError } from "../server/errors.ts";
import type { Container } from "./container.ts";
import { reconcileContainer } from "./monitor.ts";
import { type ContainerService, describe, isMissing, NotModifiedError } from "./service.ts";
import { startContainerByUser } from "./start.ts";

const SIGKILL = 9;
const SIGTERM = 15;
/** Seconds `docker stop` waits when neither `-t` nor the container says otherwise. */
export const DEFAULT_STOP_TIMEOUT = 10;

/** Parses a signal as the API gets it ("TERM", "SIGKILL", "9"); 400 when it is none. */
export function signalFromText(text: string): number {
  try {
    return parseSignal(text);
  } catch {
    throw badParameter(`Invalid signal: ${text}`);
  }
}

/** The container's stop signal (`--stop-signal` or the image's STOPSIGNAL), SIGTERM by default. */
export function stopSignalOf(container: Container): number {
  const text = container.config.StopSignal;
  if (!text) return SIGTERM;
  try {
    return parseSignal(text);
  } catch {
    return SIGTERM;
  }
}

function notRunning(container: Container): Error {
  return conflictError(
    `Cannot kill container: ${container.shortName}: Container ${container.id} is not running`,
  );
}

/**
 * Sends `signal` to the container's init (moby's killWithSignal): marks it manually
 * stopped (except during daemon shutdown) and cancels its restart manager first.
 */
export async function killWithSignal(
  service: ContainerService,
  container: Container,
  signal: number,
): Promise<void> {
  if (!container.state.running) throw notRunning(container);
  if (!service.shuttingDown) {
    container.hasBeenManuallyStopped = true;
    await container.checkpoint().catch(() => {});
  }
  container.restartManager.cancel();
  // A restarting container has no process: cancelling the pending restart is enough.
  if (container.state.restarting) return;
  // A frozen process cannot act on a signal (not even die of SIGKILL): thaw it first.
  if (container.state.paused) {
    await service.containerd.tasks.resume(container.id).catch(() => {});
    container.state.paused = false;
  }
  try {
    await service.containerd.tasks.kill(container.id, signal);
  } catch (error) {
    // Already gone is what a kill wanted; the exit event follows.
    if (!isMissing(error)) throw error;
  }
}

/** Waits until the container is not running, at most `timeoutMs` (undefined: no limit). */
export async function waitNotRunning(container: Container, timeoutMs?: number): Promise<boolean> {
  if (!container.state.running) return true;
  const signal = timeoutMs === undefined ? undefined : AbortSignal.timeout(timeoutMs);
  try {
    await container.state.wait("not-running", signal);
    return true;
  } catch {
    return false;
  }
}

/** SIGKILL and wait for the exit (moby's Kill). */
export async function killAndWait(service: ContainerService, container: Container): Promise<void> {
  if (!container.state.running) throw notRunning(container);
  try {
    await killWithSignal(service, container, SIGKILL);
  } catch (error) {
    if (container.state.running && !(await waitNotRunning(container, 2_000))) throw error;
  }
  if (await waitNotRunning(container, 10_000)) return;
  // No exit came: containerd may have missed it (or restarted). Ask directly.
  await reconcileContainer(service, container).catch((error) =>
    service.log.warn("cannot check container after kill", {
      container: container.id,
      error: describe(error),
    })
  );
  await waitNotRunning(container);
}

/** `POST /containers/{id}/kill?signal=`: SIGKILL (the default) waits for the exit, others do not. */
export async function killContainer(
  service: ContainerService,
  container: Container,
  signalText: string | undefined,
): Promise<void> {
  const signal = signalText ? signalFromText(signalText) : SIGKILL;
  if (signal === SIGKILL) await killAndWait(service, container);
  else await killWithSignal(service, container, signal);
}

/**
 * Stops a running container: stop signal, up to `timeoutSeconds` for it to exit
 * (negative: wait forever), then SIGKILL (moby's containerStop).
 */
export async function containerStop(
  service: ContainerService,
  container: Container,
  timeoutSeconds?: number,
): Promise<void> {
  if (!container.state.running) return;
  const seconds = timeoutSeconds ?? container.config.StopTimeout ?? DEFAULT_STOP_TIMEOUT;
  const signal = stopSignalOf(container);
  try {
    await killWithSignal(service, container, signal);
  } catch {
    if (!(await waitNotRunning(container, 2_000))) {
      await killWithSignal(service, container, SIGKILL).catch(() => {});
    }
  }
  const exited = await waitNotRunning(container, seconds < 0 ? undefined : seconds * 1000);
  if (exited) return;
  service.log.info("container failed to exit in time, using the force", {
    container: container.id,
    seconds,
    signal,
  });
  await killAndWait(service, container).catch(() => waitNotRunning(container));
}

/** `POST /containers/{id}/stop?t=`: 304 when it is not running. */
export async function stopContainer(
  service: ContainerService,
  container: Container,
  timeoutSeconds?: number,
): Promise<void> {
  if (!container.state.running) throw new NotModifiedError("container already stopped");
  await containerStop(service, container, timeoutSeconds);
}

/** `POST /containers/{id}/restart?t=`: stop if running, then start. */
export async function restartContainer(
  service: ContainerService,
  container: Container,
  timeoutSeconds?: number,
): Promise<void> {
  if (container.state.running) await containerStop(service, container, timeoutSeconds);
  await startContainerByUser(service, container);
}
