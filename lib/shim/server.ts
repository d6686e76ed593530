// What this teaches: the shim's API is served on the shim's own Unix socket, one route
// per method of `containerd.task.v2.Task`, with the same Router the daemon uses. Only
// the daemon calls it. Wait is a long poll: the request stays open until the process
// exits, which is how the daemon (and through it `ctr run`) learns an exit status.
// Mirrors the TTRPC service registration in containerd's `pkg/shim/shim.go`.

import type { Router } from "../api/server.ts";
import type { Mount } from "../mount/types.ts";
import type { TaskService } from "./service.ts";
import {
  SHIM_SERVICE,
  type ShimCreateRequest,
  type ShimExecRequest,
  type StdioPaths,
} from "./types.ts";

interface ExecIdRequest {
  execId?: string;
}

/** Registers every shim method on `router`. `stopping` aborts pending Waits at shutdown. */
export function registerShimService(
  router: Router,
  service: TaskService,
  stopping: AbortSignal,
): void {
  const add = (method: string, handler: Parameters<Router["add"]>[2]) =>
    router.add(SHIM_SERVICE, method, handler);
  add("Connect", () => service.connect());
  add("Create", async (context) => {
    const request = await context.json<ShimCreateRequest>();
    return await service.create({
      ...request,
      rootfs: (request.rootfs ?? []) as Mount[],
      stdio: request.stdio ?? {},
    });
  });
  add("Start", async (context) => {
    const { execId } = await context.json<ExecIdRequest>();
    return await service.start(execId ?? "");
  });
  add("State", async (context) => {
    const { execId } = await context.json<ExecIdRequest>();
    return service.state(execId ?? "");
  });
  add("Kill", async (context) => {
    const { signal, execId, all } = await context.json<
      { signal: number; execId?: string; all?: boolean }
    >();
    await service.kill(Number(signal), { execId, all });
    return {};
  });
  add("Wait", async (context) => {
    const { execId } = await context.json<ExecIdRequest>();
    return await service.wait(execId ?? "", stopping);
  });
  add("Exec", async (context) => {
    service.exec(await context.json<ShimExecRequest>());
    return {};
  });
  add("Pids", async () => ({ processes: await service.pids() }));
  add("CloseIO", async (context) => {
    const { execId } = await context.json<ExecIdRequest>();
    service.closeIO(execId ?? "");
    return {};
  });
  add("Attach", async (context) => {
    const { execId, stdio } = await context.json<{ execId?: string; stdio: StdioPaths }>();
    await service.attach(stdio ?? {}, execId ?? "");
    return {};
  });
  add("ResizePty", async (context) => {
    const { execId, width, height } = await context.json<
      { execId?: string; width: number; height: number }
    >();
    service.resizePty(execId ?? "", Number(width), Number(height));
    return {};
  });
  add("Pause", async () => {
    await service.pause();
    return {};
  });
  add("Resume", async () => {
    await service.resume();
    return {};
  });
  add("Delete", async (context) => {
    const { execId } = await context.json<ExecIdRequest>();
    return await service.delete(execId ?? "");
  });
  add("Shutdown", () => {
    service.shutdown();
    return {};
  });
}
