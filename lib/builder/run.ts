// What this teaches: a RUN step is an ordinary container. The legacy builder creates a
// container from the previous step's image, with the command wrapped in the shell
// (`/bin/sh -c "apt-get install ..."`) and the build args in its environment, starts
// it exactly as `docker run` would (same namespaces, cgroups, mounts, through
// containerd and a shim), streams its output into the build's progress, waits for the
// exit code, and then reads the container's overlay upper directory: everything the
// command wrote is there, and that becomes the step's layer. The container is removed
// afterwards ("Removing intermediate container ...").
// Mirrors moby's builder/dockerfile/containerbackend.go (containerManager.Create, Run),
// dispatchers.go (dispatchRun) and internals.go (create, the "Running in" line).

import { createContainer } from "../dockerd/containers/create.ts";
import { removeContainer } from "../dockerd/containers/delete.ts";
import { killAndWait } from "../dockerd/containers/stop.ts";
import type { ContainerService } from "../dockerd/containers/service.ts";
import { startContainerByUser } from "../dockerd/containers/start.ts";
import { AttachSession } from "../dockerd/containers/streams.ts";
import type { HijackedStream } from "../dockerd/server/hijack.ts";
import { StreamType } from "../dockerd/server/hijack.ts";
import type { ContainerCreateBody } from "../dockerd/containers/types.ts";
import type { DockerContainerConfig } from "../dockerd/image/types.ts";
import type { BuildOutput } from "./types.ts";

/** A container made for one build step. */
export interface StepContainer {
  id: string;
  /** The container's overlay upper directory (its changes). */
  upperDir: string;
}

/**
 * A HijackedStream that is not a connection: the container's output frames are handed
 * to the build output instead of a socket.
 */
function outputSink(output: BuildOutput): HijackedStream {
  const closed = new AbortController();
  return {
    input: new ReadableStream<Uint8Array>({ start: (controller) => controller.close() }),
    write: (bytes) => output.processOutput("stdout", bytes),
    writeFrame: (stream, payload) =>
      output.processOutput(stream === StreamType.stderr ? "stderr" : "stdout", payload),
    close: () => {
      closed.abort();
      return Promise.resolve();
    },
    closed: closed.signal,
  };
}

/** Creates the step's container from `imageId` with `config` (Cmd, Env, User, WorkingDir...). */
export async function createStepContainer(
  service: ContainerService,
  imageId: string,
  config: DockerContainerConfig,
): Promise<StepContainer> {
  const body: ContainerCreateBody = {
    ...config,
    Labels: config.Labels ?? undefined,
    Healthcheck: undefined, // a build step is not health-checked
    Image: imageId,
    AttachStdout: true,
    AttachStderr: true,
    HostConfig: { NetworkMode: "default" },
  } as ContainerCreateBody;
  const { Id } = await createContainer(service, undefined, body);
  const record = service.daemon.layers.getContainerLayer(Id)!;
  return { id: Id, upperDir: service.daemon.driver.diffDir(record.mountId) };
}

/**
 * Starts the container, streams its output, and resolves with its exit code. A client
 * that goes away kills it.
 */
export async function runStepContainer(
  service: ContainerService,
  step: StepContainer,
  output: BuildOutput,
): Promise<number> {
  const container = service.get(step.id);
  const session = new AttachSession(outputSink(output), {
    stdin: false,
    stdout: true,
    stderr: true,
    tty: false,
  });
  container.waitingSessions.add(session);
  const exited = container.state.wait("next-exit");
  await startContainerByUser(service, container);
  const onAbort = () => {
    if (container.state.running) killAndWait(service, container).catch(() => {});
  };
  output.closed.addEventListener("abort", onAbort, { once: true });
  try {
    const result = await exited;
    await session.finished;
    return result.StatusCode;
  } finally {
    output.closed.removeEventListener("abort", onAbort);
  }
}

/** Removes the step's container and its layer. */
export async function removeStepContainer(
  service: ContainerService,
  id: string,
): Promise<void> {
  const container = service.store.find(id);
  if (container) await removeContainer(service, container, { force: true });
}
