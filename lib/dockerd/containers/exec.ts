// What this teaches: how `docker exec` runs a second process in a running container.
// There is no new container: the process joins the namespaces and cgroup of the
// container's init. dockerd builds an OCI *process* (not a whole spec) from the exec
// request on top of the container's own settings (its environment, capabilities,
// rlimits, user unless `-u` says otherwise), makes FIFOs for the streams the client
// attached, and asks containerd for Tasks.Exec + Tasks.Start; the shim runs `runtime
// exec`. The exit arrives as a `/tasks/exit` event with the exec ID; the client's
// connection is closed only after that, so the `GET /exec/{id}/json` that follows
// always finds the exit code `docker exec` must return.
// Mirrors moby's daemon/exec.go (ContainerExecCreate, ContainerExecStart,
// ContainerExecResize, getExecConfig), daemon/exec_linux.go (execSetPlatformOpt) and
// daemon/exec/exec.go.

import type { Process } from "../../oci_spec/types.ts";
import { raceTimeout, TIMED_OUT } from "../../shim/timeouts.ts";
import { badParameter, conflictError, EngineError, notFoundError } from "../server/errors.ts";
import type { Container } from "./container.ts";
import { generateContainerId } from "./create.ts";
import { ExecInstance } from "./exec_store.ts";
import { handleExecExit } from "./monitor.ts";
import { type ContainerService, describe } from "./service.ts";
import { containerEnvironment, replaceOrAppend, resolveUser } from "./spec.ts";
import { translateStartError } from "./start.ts";
import { AttachSession, ProcessStdio } from "./streams.ts";
import type { ExecCreateBody } from "./types.ts";
import { type HijackedStream, StreamType } from "../server/hijack.ts";
import { capabilityNames } from "../../linux/capabilities.ts";

/** How long `exec resize` waits for the process to be started. */
const READY_TIMEOUT_MS = 10_000;
/** After the output ended, how long to wait for the exit event before asking containerd. */
const EXIT_EVENT_GRACE_MS = 3_000;

function requireRunning(container: Container): void {
  const state = container.state;
  if (!state.running) throw conflictError(`Container ${container.id} is not running`);
  if (state.paused) {
    throw conflictError(`Container ${container.id} is paused, unpause the container before exec`);
  }
  if (state.restarting) {
    throw conflictError(
      `Container ${container.id} is restarting, wait until the container is running`,
    );
  }
}

/** `POST /containers/{id}/exec`: records an exec instance and returns its ID. */
export function createExec(
  service: ContainerService,
  container: Container,
  body: ExecCreateBody,
): { Id: string } {
  if (typeof body !== "object" || body === null) {
    throw badParameter("exec config must be a JSON object");
  }
  requireRunning(container);
  if (!Array.isArray(body.Cmd) || body.Cmd.length === 0) {
    throw badParameter("No exec command specified");
  }
  const instance = new ExecInstance(generateContainerId(), container.id, {
    ...body,
    Cmd: body.Cmd,
  });
  service.execs.add(instance);
  return { Id: instance.id };
}

/** The exec instance for an ID; 404 "No such exec instance" otherwise. */
export function getExec(service: ContainerService, id: string): ExecInstance {
  const instance = service.execs.get(id);
  if (!instance) throw notFoundError(`No such exec instance: ${id}`);
  return instance;
}

/** The OCI process of an exec: the container's process settings, the request on top. */
async function execProcess(container: Container, instance: ExecInstance): Promise<Process> {
  const base = container.spec?.process;
  const config = instance.config;
  const rootfs = container.spec?.root?.path;
  const user = config.User && rootfs
    ? await resolveUser(rootfs, config.User)
    : base?.user ?? { uid: 0, gid: 0 };
  const env = replaceOrAppend(
    containerEnvironment(container.config, instance.tty),
    config.Env ?? [],
  );
  const capabilities = config.Privileged
    ? {
      bounding: [...capabilityNames],
      effective: [...capabilityNames],
      permitted: [...capabilityNames],
    }
    : base?.capabilities;
  return {
    terminal: instance.tty,
    user,
    args: [...instance.config.Cmd],
    env,
    cwd: config.WorkingDir || container.config.WorkingDir || "/",
    ...(capabilities ? { capabilities } : {}),
    ...(base?.rlimits ? { rlimits: base.rlimits } : {}),
    noNewPrivileges: base?.noNewPrivileges ?? true,
  };
}

/**
 * `POST /exec/{id}/start`. With `stream` (the hijacked connection) the client is
 * attached until the process ended; without (Detach), the call returns once it runs.
 */
export async function startExec(
  service: ContainerService,
  instance: ExecInstance,
  stream: HijackedStream | undefined,
): Promise<void> {
  if (instance.started) {
    throw conflictError(
      instance.running
        ? `Error: Exec command ${instance.id} is already running`
        : `Error: Exec command ${instance.id} has already run`,
    );
  }
  const container = service.get(instance.containerId);
  requireRunning(container);
  instance.started = true;
  const config = instance.config;
  let session: AttachSession | undefined;
  if (stream) {
    session = new AttachSession(stream, {
      stdin: config.AttachStdin ?? false,
      stdout: config.AttachStdout ?? false,
      stderr: config.AttachStderr ?? false,
      tty: instance.tty,
    });
  }
  try {
    if (session && (config.AttachStdin || config.AttachStdout || config.AttachStderr)) {
      instance.stdio = await ProcessStdio.create(service.fifoDirectory(container.id), instance.id, {
        stdin: config.AttachStdin ?? false,
        stdout: config.AttachStdout ?? false,
        stderr: config.AttachStderr ?? false,
        tty: instance.tty,
        stdinOnce: true,
      });
      instance.stdio.addSession(session);
    }
    const process = await execProcess(container, instance);
    await service.containerd.tasks.exec({
      containerId: container.id,
      execId: instance.id,
      spec: process,
      stdio: instance.stdio?.paths,
    });
    const { pid } = await service.containerd.tasks.start(container.id, instance.id);
    instance.pid = pid;
    if (instance.exitCode === null) instance.running = true;
    instance.ready.resolve();
  } catch (error) {
    const { exitCode, error: translated } = translateStartError(config.Cmd[0] ?? "", error);
    instance.ready.reject(translated);
    instance.recordExit(exitCode);
    instance.stdio?.cancel();
    await service.containerd.tasks.deleteProcess(container.id, instance.id).catch(() => {});
    if (!session) throw translated;
    // Attached: dockerd writes the error into the stream and ends it, like the real one.
    const text = new TextEncoder().encode(`${translated.message}\r\n`);
    const written = instance.tty
      ? session.stream.write(text)
      : session.stream.writeFrame(StreamType.stdout, text);
    await written.catch(() => {});
    await instance.stdio?.endSessions();
    await instance.stdio?.remove();
    await session.end();
    service.log.warn("error running exec in container", {
      exec: instance.id,
      error: describe(error),
    });
    return;
  }
  if (!session) return;
  if (!instance.stdio) {
    // Attached to nothing: hold the connection until the process ends.
    await instance.exited.promise;
    await session.end();
    return;
  }
  // The exit event normally ends the session (monitor.ts); if it never comes, ask.
  service.background("waiting for an exec's exit", async () => {
    await instance.stdio!.outputDone;
    if (await raceTimeout(instance.exited.promise, EXIT_EVENT_GRACE_MS) !== TIMED_OUT) return;
    try {
      const state = await service.containerd.tasks.get(container.id, instance.id);
      if (state.status === "stopped") {
        await handleExecExit(service, instance.id, {
          exitCode: state.exitStatus,
          exitedAt: state.exitedAt ?? "",
        });
      }
    } catch {
      await handleExecExit(service, instance.id, { exitCode: 255, exitedAt: "" });
    }
  });
}

/** `POST /exec/{id}/resize?h=&w=`: waits (up to 10 s) for the process to have started. */
export async function resizeExec(
  service: ContainerService,
  instance: ExecInstance,
  height: number,
  width: number,
): Promise<void> {
  const ready = await raceTimeout(instance.ready.promise, READY_TIMEOUT_MS);
  if (ready === TIMED_OUT) throw new EngineError(500, "timeout waiting for exec session ready");
  if (!instance.tty) return;
  if (!instance.running) return;
  await service.containerd.tasks.resizePty(instance.containerId, width, height, instance.id);
}
