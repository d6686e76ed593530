// What this teaches: the Tasks service is a thin layer over the task manager: it reads
// the namespace, decodes the request and forwards to the task's shim. Wait is a long
// poll: the HTTP request stays open until the process exits, and its answer carries the
// exit status; that is how `ctr run` learns what to exit with.
// Mirrors containerd's `api/services/tasks/v1/tasks.proto` and
// `plugins/services/tasks/local.go`.

import { invalidArgument } from "../../api/errors.ts";
import type { Router } from "../../api/server.ts";
import type { StdioPaths } from "../../shim/types.ts";
import type { TaskManager } from "../../tasks/manager.ts";
import type { ExecProcessRequest } from "../../tasks/types.ts";
import { TASKS_SERVICE } from "../../api/services.ts";

interface TaskRequest {
  containerId: string;
  execId?: string;
}

/** Registers Create, Start, Delete, DeleteProcess, Get, List, Kill, Exec, Wait and the rest. */
export function registerTasksService(router: Router, tasks: TaskManager): void {
  const add = (method: string, handler: Parameters<Router["add"]>[2]) =>
    router.add(TASKS_SERVICE, method, handler);
  add("Create", async (context) => {
    const namespace = context.requireNamespace();
    const request = await context.json<
      { containerId: string; stdio?: StdioPaths; logPath?: string }
    >();
    return await tasks.create(namespace, request);
  });
  add("Start", async (context) => {
    const namespace = context.requireNamespace();
    const { containerId, execId } = await context.json<TaskRequest>();
    return await tasks.start(namespace, containerId, execId);
  });
  add("Get", async (context) => {
    const namespace = context.requireNamespace();
    const { containerId, execId } = await context.json<TaskRequest>();
    return { process: await tasks.get(namespace, containerId, execId) };
  });
  add("List", async (context) => {
    const namespace = context.requireNamespace();
    return { tasks: await tasks.list(namespace) };
  });
  add("Kill", async (context) => {
    const namespace = context.requireNamespace();
    const { containerId, execId, signal, all } = await context.json<
      TaskRequest & { signal: number; all?: boolean }
    >();
    if (!Number.isInteger(signal)) throw invalidArgument("signal must be a signal number");
    await tasks.kill(namespace, containerId, signal, { execId, all });
    return {};
  });
  add("Wait", async (context) => {
    const namespace = context.requireNamespace();
    const { containerId, execId } = await context.json<TaskRequest>();
    return await tasks.wait(namespace, containerId, execId);
  });
  add("Exec", async (context) => {
    const namespace = context.requireNamespace();
    await tasks.exec(namespace, await context.json<ExecProcessRequest>());
    return {};
  });
  add("ListPids", async (context) => {
    const namespace = context.requireNamespace();
    const { containerId } = await context.json<TaskRequest>();
    return { processes: await tasks.pids(namespace, containerId) };
  });
  add("CloseIO", async (context) => {
    const namespace = context.requireNamespace();
    const { containerId, execId } = await context.json<TaskRequest>();
    await tasks.closeIO(namespace, containerId, execId);
    return {};
  });
  add("Attach", async (context) => {
    const namespace = context.requireNamespace();
    const { containerId, execId, stdio } = await context.json<
      TaskRequest & { stdio: StdioPaths }
    >();
    await tasks.attach(namespace, containerId, stdio ?? {}, execId);
    return {};
  });
  add("Pause", async (context) => {
    const namespace = context.requireNamespace();
    const { containerId } = await context.json<TaskRequest>();
    await tasks.pause(namespace, containerId);
    return {};
  });
  add("Resume", async (context) => {
    const namespace = context.requireNamespace();
    const { containerId } = await context.json<TaskRequest>();
    await tasks.resume(namespace, containerId);
    return {};
  });
  add("Delete", async (context) => {
    const namespace = context.requireNamespace();
    const { containerId } = await context.json<TaskRequest>();
    return await tasks.delete(namespace, containerId);
  });
  add("DeleteProcess", async (context) => {
    const namespace = context.requireNamespace();
    const { containerId, execId } = await context.json<TaskRequest>();
    return await tasks.deleteProcess(namespace, containerId, execId ?? "");
  });
  add("ResizePty", async (context) => {
    const namespace = context.requireNamespace();
    const { containerId, execId, width, height } = await context.json<
      TaskRequest & { width: number; height: number }
    >();
    await tasks.resizePty(namespace, containerId, Number(width), Number(height), execId);
    return {};
  });
}
