// What this teaches: the exec endpoints. `docker exec` creates an instance, starts it
// over a hijacked connection (or detached with `-d`), resizes its terminal with `-t`,
// and finally reads `GET /exec/{id}/json` for the exit code it exits with. Every
// check that can fail (no such exec, already started, container not running) happens
// before the connection is taken over, so the client gets a normal JSON error.
// Mirrors moby's api/server/router/container/exec.go (postContainerExecCreate,
// postContainerExecStart, postContainerExecResize, getExecByID).

import { createExec, getExec, resizeExec, startExec } from "../containers/exec.ts";
import type { ContainerService } from "../containers/service.ts";
import type { ExecCreateBody } from "../containers/types.ts";
import { conflictError } from "../server/errors.ts";
import type { EngineRouter } from "../server/router.ts";

/** Registers the exec routes. */
export function registerExecRoutes(router: EngineRouter, service: ContainerService): void {
  router.post("/containers/{id}/exec", async (request) => {
    const container = service.get(request.param("id"));
    const body = await request.json<ExecCreateBody>();
    request.reply.json(createExec(service, container, body), 201);
  });

  router.post("/exec/{id}/start", async (request) => {
    // With `Connection: Upgrade` too, the framework separates this body from stdin.
    const options = await request.json<{ Detach?: boolean; Tty?: boolean }>({});
    const instance = getExec(service, request.param("id"));
    if (instance.started) {
      throw conflictError(
        instance.running
          ? `Error: Exec command ${instance.id} is already running`
          : `Error: Exec command ${instance.id} has already run`,
      );
    }
    const container = service.get(instance.containerId);
    if (!container.state.running || container.state.restarting) {
      throw conflictError(`Container ${container.id} is not running`);
    }
    if (options.Detach) {
      await startExec(service, instance, undefined);
      request.reply.text("");
      return;
    }
    const stream = request.hijack();
    try {
      await startExec(service, instance, stream);
    } catch (error) {
      // Too late for a status code: say it in the stream, then end it.
      const message = error instanceof Error ? error.message : String(error);
      await stream.write(new TextEncoder().encode(`${message}\r\n`)).catch(() => {});
      await stream.close();
    }
  });

  router.post("/exec/{id}/resize", async (request) => {
    const instance = getExec(service, request.param("id"));
    await resizeExec(service, instance, request.int("h", 0), request.int("w", 0));
    request.reply.text("");
  });

  router.get("/exec/{id}/json", (request) => getExec(service, request.param("id")).inspect());
}
