// What this teaches: how dockerd learns that a container stopped. It never waits on
// the process itself (it is not its parent; the shim is): it subscribes to
// containerd's event stream for `/tasks/exit` and `/tasks/oom` in the `moby`
// namespace. On an exit of a container's init it deletes the task (which also gives
// the authoritative exit status), lets the last output drain to attached clients,
// unmounts the container's layer, removes the containerd container, and then asks the
// restart manager: restart after a backoff (state "restarting"), or stop for good
// (and auto-remove with `--rm`). An exit of an exec process just records its exit code
// for `docker exec` to pick up. If the event stream breaks (containerd restarted), it
// resubscribes and asks containerd about every container it believes is running, so no
// exit is ever lost.
// Mirrors moby's daemon/monitor.go (ProcessEvent, handleContainerExit, autoRemove),
// libcontainerd/remote/client.go (processEventStream) and daemon/daemon.go's Cleanup.

import type { Envelope } from "../../events/types.ts";
import { ContainerdClient } from "../../client/client.ts";
import { EVENTS_SERVICE } from "../../api/services.ts";
import { raceTimeout } from "../../shim/timeouts.ts";
import type { Container } from "./container.ts";
import { removeContainer } from "./delete.ts";
import { logContainerEvent } from "./events.ts";
import { tearDownNetworking } from "./networking.ts";
import { RestartCanceledError } from "./restart_manager.ts";
import { type ContainerService, describe, isMissing } from "./service.ts";
import { startContainerAutomatically } from "./start.ts";
import { nowTimestamp, timestampMillis } from "./time.ts";
import { withTraceFor } from "../../trace/hooks.ts";
import type { ExitStatus } from "./types.ts";

/** How long the last output may take to reach attached clients after an exit. */
const DRAIN_TIMEOUT_MS = 2_000;
/** Pause before resubscribing after the event stream broke. */
const RESUBSCRIBE_DELAY_MS = 300;

/** The event filters: exits and OOM kills in the moby namespace. */
export const EXIT_EVENT_FILTERS = [
  'topic=="/tasks/exit",namespace==moby',
  'topic=="/tasks/oom",namespace==moby',
];

/** Subscribes to containerd's events and dispatches exits for as long as the daemon runs. */
export class ExitMonitor {
  readonly #stopping = new AbortController();
  #loop?: Promise<void>;

  constructor(private readonly service: ContainerService) {}

  /** Subscribes; resolves once the first subscription is registered (no exit can be missed after). */
  async start(): Promise<void> {
    const ready = Promise.withResolvers<void>();
    this.#loop = this.#run(ready);
    await ready.promise;
  }

  async #run(ready: PromiseWithResolvers<void>): Promise<void> {
    let first = true;
    while (!this.#stopping.signal.aborted) {
      const client = new ContainerdClient(this.service.containerd.address, "moby");
      try {
        const stream = await client.transport.callForStream(
          `/${EVENTS_SERVICE}/Subscribe`,
          { filters: EXIT_EVENT_FILTERS },
        );
        if (first) ready.resolve();
        else this.service.background("reconciling after resubscribing", () => this.reconcile());
        first = false;
        for await (const envelope of readEnvelopes(stream, this.#stopping.signal)) {
          this.#dispatch(envelope);
        }
        if (!this.#stopping.signal.aborted) {
          this.service.log.warn("containerd ended the event stream, resubscribing");
        }
      } catch (error) {
        if (this.#stopping.signal.aborted) break;
        this.service.log.warn("containerd event stream broke, resubscribing", {
          error: describe(error),
        });
      } finally {
        client.close();
      }
      if (this.#stopping.signal.aborted) break;
      if (first) {
        // The very first subscription failed: the daemon cannot run containers at all.
        ready.reject(new Error("cannot subscribe to containerd's events"));
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, RESUBSCRIBE_DELAY_MS));
    }
    ready.resolve();
  }

  #dispatch(envelope: Envelope): void {
    const event = envelope.event as Record<string, unknown>;
    const containerId = String(event.containerId ?? "");
    const container = this.service.store.find(containerId);
    if (!container || container.id !== containerId) return; // not one of ours
    if (envelope.topic === "/tasks/oom") {
      container.oomKilledThisRun = true;
      return;
    }
    const processId = String(event.id ?? "");
    const exit: ExitStatus = {
      exitCode: Number(event.exitStatus ?? 255),
      exitedAt: String(event.exitedAt ?? nowTimestamp()),
    };
    if (processId === containerId) {
      this.service.background(
        "handling a container exit",
        () =>
          withTraceFor( // --trace: the exit belongs to the trace that started the container
            containerId,
            () => `event /tasks/exit from mini-containerd: exit status ${exit.exitCode}`,
            () => handleContainerExit(this.service, container, exit),
          ),
      );
    } else {
      this.service.background(
        "handling an exec exit",
        () => handleExecExit(this.service, processId, exit),
      );
    }
  }

  /**
   * Asks containerd about every container and exec believed running, and handles the
   * exits that happened while nobody listened (a broken stream, a daemon restart).
   */
  async reconcile(): Promise<void> {
    // Each container on its own, so that one start stuck on containerd does not hold up
    // the others' missed exits.
    await Promise.all(
      this.service.store.list().map(async (container) => {
        // A start in progress holds the lock and is not "running" yet; an exit it has
        // already had would be skipped, and lost for good. Wait for it to finish first.
        await container.lock.run(() => Promise.resolve());
        if (!container.state.running || container.state.restarting) return;
        await reconcileContainer(this.service, container).catch((error) =>
          this.service.log.warn("cannot check a container against containerd", {
            container: container.id,
            error: describe(error),
          })
        );
      }),
    );
  }

  /** Ends the subscription (daemon shutdown). */
  async stop(): Promise<void> {
    this.#stopping.abort();
    await this.#loop?.catch(() => {});
  }
}

/** Checks one container believed running against containerd; handles a missed exit. */
export async function reconcileContainer(
  service: ContainerService,
  container: Container,
): Promise<void> {
  try {
    const task = await service.containerd.tasks.get(container.id);
    if (task.status === "stopped") {
      await handleContainerExit(service, container, {
        exitCode: task.exitStatus,
        exitedAt: task.exitedAt ?? nowTimestamp(),
        oomKilled: task.oomKilled,
      });
    }
  } catch (error) {
    if (!isMissing(error)) throw error;
    await handleContainerExit(service, container, { exitCode: 255, exitedAt: nowTimestamp() });
  }
  for (const instance of service.execs.ofContainer(container.id)) {
    if (!instance.running) continue;
    try {
      const process = await service.containerd.tasks.get(container.id, instance.id);
      if (process.status === "stopped") {
        await handleExecExit(service, instance.id, {
          exitCode: process.exitStatus,
          exitedAt: nowTimestamp(),
        });
      }
    } catch (error) {
      if (isMissing(error)) {
        await handleExecExit(service, instance.id, { exitCode: 255, exitedAt: nowTimestamp() });
      }
    }
  }
}

/**
 * Releases what a finished run held: the containerd task and container, the FIFOs, the
 * network sandbox, the layer mount (the MergedDir disappears while a container is
 * stopped, as in Docker).
 */
export async function cleanupAfterRun(
  service: ContainerService,
  container: Container,
): Promise<void> {
  await service.deleteFromContainerd(container.id);
  if (container.stdio) {
    await raceTimeout(container.stdio.outputDone, DRAIN_TIMEOUT_MS);
    container.stdio.cancel();
    await container.stdio.endSessions();
    await container.stdio.remove();
    container.stdio = undefined;
  }
  for (const instance of service.execs.ofContainer(container.id)) {
    if (instance.running) instance.recordExit(137);
    instance.stdio?.cancel();
    await instance.stdio?.endSessions();
    await instance.stdio?.remove();
  }
  await Deno.remove(service.fifoDirectory(container.id), { recursive: true }).catch(() => {});
  // Its proxies, veths, address and namespace go with the run (Docker's releaseNetwork).
  await tearDownNetworking(service, container);
  try {
    await service.daemon.layers.unmountContainerLayer(container.id);
  } catch (error) {
    service.log.warn("cannot unmount container layer", {
      container: container.id,
      error: describe(error),
    });
  }
}

/**
 * The envelopes of an event stream, one JSON object per line. `signal` cancels the
 * stream's reader (aborting the request alone does not end a body already streaming).
 */
async function* readEnvelopes(
  stream: ReadableStream<Uint8Array>,
  signal: AbortSignal,
): AsyncGenerator<Envelope> {
  const reader = stream.getReader();
  const cancel = () => reader.cancel().catch(() => {});
  signal.addEventListener("abort", cancel, { once: true });
  const decoder = new TextDecoder();
  let buffered = "";
  try {
    while (true) {
      const { value, done } = await reader.read();
      if (done) return;
      buffered += decoder.decode(value, { stream: true });
      let newline = buffered.indexOf("\n");
      while (newline >= 0) {
        const line = buffered.slice(0, newline).trim();
        buffered = buffered.slice(newline + 1);
        if (line !== "") yield JSON.parse(line) as Envelope;
        newline = buffered.indexOf("\n");
      }
    }
  } finally {
    signal.removeEventListener("abort", cancel);
    reader.releaseLock();
  }
}

/** Handles the exit of a container's init (moby's handleContainerExit). */
export async function handleContainerExit(
  service: ContainerService,
  container: Container,
  reported: ExitStatus,
): Promise<void> {
  const decision = await container.lock.run(async () => {
    const state = container.state;
    if (!state.running || state.restarting) return undefined; // already handled
    let exit = reported;
    try {
      const task = await service.containerd.tasks.get(container.id);
      // A late or repeated exit of an earlier run (the shim resends an event it could
      // not confirm) must not end the run that a restart has started since.
      if (task.status !== "stopped") return undefined;
      if (task.oomKilled) container.oomKilledThisRun = true;
      const deleted = await service.containerd.tasks.delete(container.id);
      exit = { exitCode: deleted.exitStatus, exitedAt: deleted.exitedAt || reported.exitedAt };
    } catch (error) {
      if (!isMissing(error)) {
        service.log.warn("failed to delete task from containerd", {
          container: container.id,
          error: describe(error),
        });
      }
    }
    exit.oomKilled = container.oomKilledThisRun || reported.oomKilled === true;
    await cleanupAfterRun(service, container);
    const runMs = Date.now() - timestampMillis(state.startedAt);
    const restart = container.restartManager.shouldRestart(
      exit.exitCode,
      service.shuttingDown || container.hasBeenManuallyStopped,
      Number.isNaN(runMs) ? 0 : runMs,
    );
    if (restart.restart) {
      container.restartCount++;
      state.setRestarting(exit);
    } else {
      state.setStopped(exit);
    }
    await container.checkpoint().catch((error) =>
      service.log.error("cannot save container state", {
        container: container.id,
        error: describe(error),
      })
    );
    logContainerEvent(service, container, "die", { exitCode: String(exit.exitCode) });
    service.log.debug("container exited", {
      container: container.id,
      exitCode: exit.exitCode,
      restart: restart.restart,
    });
    return restart;
  });
  if (!decision) return;
  if (decision.restart) {
    service.background(
      "restarting a container",
      () => restartAfterDelay(service, container, decision.wait),
    );
  } else if (container.hostConfig.AutoRemove) {
    await autoRemove(service, container);
  }
}

async function restartAfterDelay(
  service: ContainerService,
  container: Container,
  wait: Promise<void>,
) {
  try {
    await wait;
    await startContainerAutomatically(service, container);
    return;
  } catch (error) {
    if (!(error instanceof RestartCanceledError)) {
      service.log.error("restart failed", { container: container.id, error: describe(error) });
    }
  }
  // Cancelled (a stop, kill or rm came) or the start failed: the container stays stopped.
  await container.lock.run(async () => {
    if (container.state.restarting) {
      container.state.setStopped({
        exitCode: container.state.exitCode,
        exitedAt: container.state.finishedAt,
      });
      await container.checkpoint().catch(() => {});
    }
  });
  if (container.hostConfig.AutoRemove) await autoRemove(service, container);
}

async function autoRemove(service: ContainerService, container: Container): Promise<void> {
  try {
    await removeContainer(service, container, { force: true });
  } catch (error) {
    // A `docker rm -f` already removing it is fine.
    if (!container.state.removalInProgress && service.store.find(container.id)) {
      service.log.error("error removing container", {
        container: container.id,
        error: describe(error),
      });
    }
  }
}

/** Records an exec process's exit; its attached client is let go once the output drained. */
export async function handleExecExit(
  service: ContainerService,
  execId: string,
  exit: ExitStatus,
): Promise<void> {
  const instance = service.execs.get(execId);
  if (!instance) return;
  instance.recordExit(exit.exitCode);
  if (instance.stdio) {
    await raceTimeout(instance.stdio.outputDone, DRAIN_TIMEOUT_MS);
    instance.stdio.cancel();
    await instance.stdio.endSessions();
    await instance.stdio.remove();
  }
  try {
    await service.containerd.tasks.deleteProcess(instance.containerId, execId);
  } catch { /* the task is gone with its container already */ }
}
