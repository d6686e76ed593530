// What this teaches: what `docker start` asks of the layers below. dockerd mounts the
// container's overlay2 layer itself (the MergedDir that `docker inspect` shows), sets
// up its network (namespace, veth, address, /etc files, published ports: see
// networking.ts), builds the OCI spec with root.path set to that mount, and then
// hands over to containerd in the `moby` namespace: create a containerd container
// (metadata only: the spec, the runtime, no image, no snapshot) and a task with the
// FIFO paths for stdio and the json-file log path. containerd starts one shim, the
// shim runs the runtime, and the container's pid comes back. When a step fails,
// everything done so far is undone and the exit code says why: 127 for a command that
// does not exist, 126 for one that cannot be executed, 128 otherwise.
// Mirrors moby's daemon/start.go (containerStart), daemon/container_operations_unix.go
// and libcontainerd/remote/client.go (Create, Start), plus daemon/start.go's
// translateContainerdStartErr.

import { runtimeInfo } from "../../client/containers.ts";
import { resolveInRoot } from "../../runtime/init/secure_join.ts";
import { badParameter, conflictError, EngineError } from "../server/errors.ts";
import type { Container } from "./container.ts";
import { removeContainer } from "./delete.ts";
import { logContainerEvent } from "./events.ts";
import {
  applySandboxToSpec,
  setUpNetworking,
  tearDownNetworking,
  validateNetworkMode,
} from "./networking.ts";
import { BUNDLE_PATH_LABEL, type ContainerService, describe, NotModifiedError } from "./service.ts";
import { buildContainerSpec } from "./spec.ts";
import { ProcessStdio } from "./streams.ts";
import { nowTimestamp } from "./time.ts";
import { rememberTraceFor } from "../../trace/hooks.ts";

/** Exit codes Docker gives a container whose command could not even start. */
export const StartFailureExitCode = { notFound: 127, notExecutable: 126, other: 128 } as const;

/**
 * Reads a runtime's failure the way dockerd does: a missing command becomes exit code
 * 127 and a 400, a command that cannot be executed 126 and a 400, anything else 500.
 */
export function translateStartError(command: string, error: unknown): {
  exitCode: number;
  error: EngineError;
} {
  const message = describe(error);
  const lower = message.toLowerCase();
  const notFound = lower.includes("executable file not found") ||
    lower.includes("no such file or directory") || lower.includes("not found in $path");
  if (notFound && (command === "" || lower.includes(command.toLowerCase()))) {
    return { exitCode: StartFailureExitCode.notFound, error: badParameter(message) };
  }
  if (lower.includes("permission denied")) {
    return { exitCode: StartFailureExitCode.notExecutable, error: badParameter(message) };
  }
  if (lower.includes("not a directory")) {
    return {
      exitCode: StartFailureExitCode.notFound,
      error: badParameter(
        `${message}: Are you trying to mount a directory onto a file (or vice-versa)? ` +
          "Check if the specified host path exists and is the expected type",
      ),
    };
  }
  return { exitCode: StartFailureExitCode.other, error: new EngineError(500, message) };
}

/**
 * `POST /containers/{id}/start`: 304 when it already runs. A user's start resets the
 * restart manager and the "manually stopped" mark.
 */
export async function startContainerByUser(
  service: ContainerService,
  container: Container,
): Promise<void> {
  await container.lock.run(async () => {
    checkStartable(container);
    container.resetRestartManager();
    container.hasBeenManuallyStopped = false;
    await startLocked(service, container);
  });
}

/** A start by the restart policy or at daemon start-up (backoff and counts carry on). */
export async function startContainerAutomatically(
  service: ContainerService,
  container: Container,
): Promise<void> {
  await container.lock.run(async () => {
    if (container.state.running && !container.state.restarting) return;
    if (container.state.removalInProgress || container.state.dead) return;
    await startLocked(service, container);
  });
}

function checkStartable(container: Container): void {
  const state = container.state;
  if (state.paused) throw conflictError("cannot start a paused container, try unpause instead");
  if (state.running && !state.restarting) throw new NotModifiedError("container already started");
  if (state.removalInProgress || state.dead) {
    throw conflictError("Container is marked for removal and cannot be started.");
  }
}

/** Creates the working directory if the image lacks it, owned by the container's user. */
async function ensureWorkingDirectory(rootfs: string, cwd: string, uid: number, gid: number) {
  if (cwd === "/" || cwd === "") return;
  const target = resolveInRoot(rootfs, cwd);
  try {
    if ((await Deno.stat(target)).isDirectory) return;
    throw badParameter(`Cannot mkdir: ${cwd} is not a directory`);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  await Deno.mkdir(target, { recursive: true, mode: 0o755 });
  await Deno.chown(target, uid, gid).catch(() => {});
}

/** Starts the container; the caller holds its lock. */
async function startLocked(service: ContainerService, container: Container): Promise<void> {
  const daemon = service.daemon;
  const id = container.id;
  rememberTraceFor(id); // --trace: its exit is reported in this trace (lib/trace)
  let mounted = false;
  let networked = false;
  let createdInContainerd = false;
  let stdio: ProcessStdio | undefined;
  try {
    // A user-defined network is looked up at start, as dockerd does (a 404 at create
    // would make the CLI try to pull the image).
    validateNetworkMode(container.hostConfig.NetworkMode, daemon.networks);
    const { mergedDir } = await daemon.layers.mountContainerLayer(id);
    mounted = true;
    networked = true;
    const sandbox = await setUpNetworking(service, container);
    const spec = await buildContainerSpec(container, {
      rootfs: mergedDir,
      defaultUlimits: daemon.config.defaultUlimits,
      namespaceOwnerPid: (reference) => {
        const owner = service.store.find(reference);
        return owner?.state.running ? owner.state.pid : 0;
      },
    });
    applySandboxToSpec(spec, sandbox);
    const process = spec.process!;
    await ensureWorkingDirectory(mergedDir, process.cwd, process.user.uid, process.user.gid);
    container.spec = spec;

    // A containerd container left by a crash would make the create fail: remove it first.
    await service.deleteFromContainerd(id);
    await service.containerd.containers.create({
      id,
      labels: { [BUNDLE_PATH_LABEL]: container.root },
      runtime: runtimeInfo(),
      spec,
    });
    createdInContainerd = true;

    const wantsStdio = container.waitingSessions.size > 0 || container.config.OpenStdin;
    if (wantsStdio) {
      stdio = await ProcessStdio.create(service.fifoDirectory(id), "init", {
        stdin: container.config.OpenStdin,
        stdout: true,
        stderr: true,
        tty: container.config.Tty,
        stdinOnce: container.config.StdinOnce,
      });
      for (const session of container.waitingSessions) stdio.addSession(session);
      container.waitingSessions.clear();
    }
    container.stdio = stdio;
    container.oomKilledThisRun = false;
    await service.containerd.tasks.create({
      containerId: id,
      stdio: stdio?.paths,
      logPath: container.logPath,
    });
    const { pid } = await service.containerd.tasks.start(id);
    container.state.setRunning(pid, true);
    container.hasBeenStartedBefore = true;
    await container.checkpoint();
    // Here, not in each caller: a user's start, a restart, the restart policy and the
    // daemon's start-up all log it once, and only when the container did start.
    logContainerEvent(service, container, "start");
    service.log.debug("container started", { container: id, pid });
  } catch (error) {
    const { exitCode, error: translated } = translateStartError(container.path, error);
    stdio?.cancel();
    await stdio?.endSessions();
    await stdio?.remove();
    container.stdio = undefined;
    if (createdInContainerd) await service.deleteFromContainerd(id);
    if (networked) await tearDownNetworking(service, container);
    if (mounted) await daemon.layers.unmountContainerLayer(id).catch(() => {});
    container.state.setError(translated.message);
    if (container.state.restarting) {
      container.state.setStopped({ exitCode, exitedAt: nowTimestamp() });
    } else if (container.state.exitCode === 0) {
      container.state.exitCode = exitCode;
    }
    await container.checkpoint().catch(() => {});
    if (container.hostConfig.AutoRemove) {
      service.background(
        "auto-remove after a failed start",
        () => removeContainer(service, container, { force: true }).catch(() => {}),
      );
    }
    throw translated;
  }
}
