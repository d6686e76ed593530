// What this teaches: the container endpoints of the Engine API, as thin handlers over
// lib/dockerd/containers. Most answer JSON or 204; three are special. `wait` sends its
// 200 headers at once and the body only when the container exits (the CLI calls it
// *before* start and will not start a container until the headers arrived). `attach`
// takes over the connection (101 UPGRADED) and streams output framed per stream
// unless the container has a tty. `logs` streams the json-file log, framed the same way.
// This module also restores the containers when the daemon starts and stops them (or,
// with live-restore, leaves them running) when it shuts down.
// Mirrors moby's api/server/router/container/container.go and container_routes.go
// (postContainersCreate, postContainersStart, postContainersWait, postContainersAttach,
// getContainersLogs, deleteContainers, ...) and the daemon's restore/shutdown hooks.

import type { Daemon } from "../daemon.ts";
import { attachContainer } from "../containers/attach.ts";
import { createContainer } from "../containers/create.ts";
import { pruneContainers, removeContainer } from "../containers/delete.ts";
import { logContainerEvent } from "../containers/events.ts";
import { ExecStore } from "../containers/exec_store.ts";
import { inspectContainer, topContainer } from "../containers/inspect.ts";
import { readContainerLogs } from "../containers/logs.ts";
import { listContainers } from "../containers/list.ts";
import { ExitMonitor } from "../containers/monitor.ts";
import { restoreContainers, shutdownContainers } from "../containers/restore.ts";
import { pauseContainer, unpauseContainer } from "../containers/pause.ts";
import { renameContainer } from "../containers/rename.ts";
import { ContainerService } from "../containers/service.ts";
import { startContainerByUser } from "../containers/start.ts";
import { killContainer, restartContainer, stopContainer } from "../containers/stop.ts";
import { AttachSession } from "../containers/streams.ts";
import { parseUnixTimestamp, rfc3339NanoFixed } from "../containers/time.ts";
import type { ContainerCreateBody, WaitCondition } from "../containers/types.ts";
import { badParameter, conflictError } from "../server/errors.ts";
import type { EngineRequest } from "../server/context.ts";
import {
  frameChunk,
  MULTIPLEXED_STREAM_MEDIA_TYPE,
  RAW_STREAM_MEDIA_TYPE,
  StreamType,
} from "../server/hijack.ts";
import type { EngineRouter } from "../server/router.ts";
import type { EngineModule } from "../types.ts";
import { registerExecRoutes } from "./exec.ts";

/** The container service and exit monitor of each running daemon. */
const running = new WeakMap<Daemon, { service: ContainerService; monitor: ExitMonitor }>();

/** The container service of a daemon (for other modules and tests in the same process). */
export function containerServiceOf(daemon: Daemon): ContainerService | undefined {
  return running.get(daemon)?.service;
}

/** `?t=10`: seconds, or undefined when absent; 400 when not an integer. */
function optionalSeconds(request: EngineRequest): number | undefined {
  const text = request.string("t");
  if (text === undefined || text === "") return undefined;
  const value = Number(text);
  if (!Number.isInteger(value)) throw badParameter(`invalid value for t: ${JSON.stringify(text)}`);
  return value;
}

const WAIT_CONDITIONS: WaitCondition[] = ["not-running", "next-exit", "removed"];

/** Registers every /containers route on `router`. */
export function registerContainerRoutes(router: EngineRouter, service: ContainerService): void {
  router.get("/containers/json", (request) =>
    listContainers(service, {
      all: request.bool("all"),
      limit: request.int("limit", -1),
      size: request.bool("size"),
      filters: request.filters(),
    }));

  router.post("/containers/create", async (request) => {
    const body = await request.json<ContainerCreateBody>();
    const created = await createContainer(service, request.string("name"), body);
    logContainerEvent(service, service.get(created.Id), "create");
    request.reply.json(created, 201);
  });

  router.get(
    "/containers/{id}/json",
    (request) => inspectContainer(service, service.get(request.param("id")), request.bool("size")),
  );

  router.get(
    "/containers/{id}/top",
    (request) => topContainer(service, service.get(request.param("id")), request.string("ps_args")),
  );

  router.post("/containers/{id}/start", async (request) => {
    const container = service.get(request.param("id"));
    if (request.string("checkpoint")) {
      throw badParameter("checkpoints are not supported by mini-dockerd");
    }
    await startContainerByUser(service, container);
  });

  router.post("/containers/{id}/stop", async (request) => {
    const container = service.get(request.param("id"));
    await stopContainer(service, container, optionalSeconds(request));
    logContainerEvent(service, container, "stop");
  });

  router.post("/containers/{id}/restart", async (request) => {
    const container = service.get(request.param("id"));
    await restartContainer(service, container, optionalSeconds(request));
    logContainerEvent(service, container, "restart");
  });

  router.post("/containers/{id}/kill", async (request) => {
    const container = service.get(request.param("id"));
    await killContainer(service, container, request.string("signal"));
    logContainerEvent(service, container, "kill", { signal: request.string("signal") || "KILL" });
  });

  router.post("/containers/{id}/wait", async (request) => {
    const container = service.get(request.param("id"));
    const condition = (request.string("condition") || "not-running") as WaitCondition;
    if (!WAIT_CONDITIONS.includes(condition)) {
      throw badParameter(`invalid condition: "${condition}"`);
    }
    // The headers go out now: `docker run` waits for them before it starts the container.
    const out = request.reply.stream(200, "application/json");
    try {
      const result = await container.state.wait(condition, out.closed);
      await out.write(JSON.stringify(result) + "\n");
    } catch { /* the client hung up */ }
    await out.end();
  });

  router.post("/containers/{id}/resize", async (request) => {
    const container = service.get(request.param("id"));
    const height = request.int("h", 0);
    const width = request.int("w", 0);
    if (!container.state.running || container.state.restarting) {
      throw conflictError(`Container ${container.id} is not running`);
    }
    if (container.config.Tty && height > 0 && width > 0) {
      await service.containerd.tasks.resizePty(container.id, width, height);
    }
    request.reply.text("");
  });

  router.post("/containers/{id}/attach", async (request) => {
    const container = service.get(request.param("id"));
    const options = {
      stdin: request.bool("stdin"),
      stdout: request.bool("stdout"),
      stderr: request.bool("stderr"),
    };
    const stream = request.bool("stream");
    const logs = request.bool("logs");
    if (!stream && !logs) throw badParameter("at least one of stream and logs must be set");
    if (!options.stdin && !options.stdout && !options.stderr) {
      throw badParameter("at least one of stdin, stdout and stderr must be set");
    }
    const hijacked = request.hijack();
    const session = new AttachSession(hijacked, {
      ...options,
      stdin: options.stdin && container.config.OpenStdin,
      tty: container.config.Tty,
    });
    if (logs) {
      const entries = readContainerLogs(
        container,
        { stdout: options.stdout, stderr: options.stderr, follow: false, timestamps: false },
        hijacked.closed,
      );
      for await (const entry of entries) {
        await session.write(entry.stream, new TextEncoder().encode(entry.line));
      }
    }
    if (!stream) {
      await session.end();
      return;
    }
    try {
      await attachContainer(service, container, session);
    } catch (error) {
      await session.end();
      service.log.warn("attach failed", { container: container.id, error: String(error) });
    }
  });

  router.get("/containers/{id}/logs", async (request) => {
    const container = service.get(request.param("id"));
    const stdout = request.bool("stdout");
    const stderr = request.bool("stderr");
    if (!stdout && !stderr) {
      throw badParameter("Bad parameters: you must choose at least one stream");
    }
    const tailText = request.string("tail") ?? "all";
    const tail = tailText === "all" || tailText === "" ? undefined : Number(tailText);
    if (tail !== undefined && (!Number.isInteger(tail) || tail < 0)) {
      throw badParameter(`invalid value for "tail": ${JSON.stringify(tailText)}`);
    }
    const options = {
      stdout,
      stderr,
      follow: request.bool("follow"),
      tail,
      timestamps: request.bool("timestamps"),
      since: parseUnixTimestamp(request.string("since")),
      until: parseUnixTimestamp(request.string("until")),
    };
    const tty = container.config.Tty;
    const out = request.reply.stream(
      200,
      tty ? RAW_STREAM_MEDIA_TYPE : MULTIPLEXED_STREAM_MEDIA_TYPE,
    );
    const encoder = new TextEncoder();
    try {
      for await (const entry of readContainerLogs(container, options, out.closed)) {
        const text = options.timestamps
          ? `${rfc3339NanoFixed(entry.time)} ${entry.line}`
          : entry.line;
        const bytes = encoder.encode(text);
        await out.write(
          tty
            ? bytes
            : frameChunk(entry.stream === "stdout" ? StreamType.stdout : StreamType.stderr, bytes),
        );
        if (out.closed.aborted) break;
      }
    } finally {
      await out.end();
    }
  });

  router.delete("/containers/{id}", async (request) => {
    const container = service.get(request.param("id"));
    if (request.bool("link")) throw badParameter("legacy links are not supported by mini-dockerd");
    await removeContainer(service, container, {
      force: request.bool("force"),
      removeVolumes: request.bool("v"),
    });
  });

  router.post("/containers/prune", (request) => pruneContainers(service, request.filters()));

  router.post("/containers/{id}/pause", async (request) => {
    await pauseContainer(service, service.get(request.param("id")));
  });

  router.post("/containers/{id}/unpause", async (request) => {
    await unpauseContainer(service, service.get(request.param("id")));
  });

  router.post("/containers/{id}/rename", async (request) => {
    const container = service.get(request.param("id"));
    const name = request.string("name") ?? "";
    await renameContainer(service, container, name);
  });
}

/** The containers component: routes, restore at start, stop (or leave) at shutdown. */
export const containersModule: EngineModule = {
  name: "containers",
  register(router: EngineRouter, daemon: Daemon) {
    const service = new ContainerService(daemon, daemon.containerd(), new ExecStore());
    running.set(daemon, { service, monitor: new ExitMonitor(service) });
    daemon.containers = service;
    registerContainerRoutes(router, service);
    registerExecRoutes(router, service);
  },
  async start(daemon: Daemon) {
    const state = running.get(daemon);
    if (!state) return;
    await state.monitor.start();
    await restoreContainers(state.service, daemon.config.liveRestore);
  },
  async shutdown(daemon: Daemon, { liveRestore, limitSeconds }) {
    const state = running.get(daemon);
    if (!state) return;
    await shutdownContainers(state.service, liveRestore, limitSeconds);
    daemon.log.debug("containers stopped");
    await state.monitor.stop();
    daemon.log.debug("monitor stopped");
    state.service.containerd.close();
    running.delete(daemon);
  },
};
