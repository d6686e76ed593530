// What this teaches: which trace is "current" in a process. A CLI or a runtime traces
// the whole process (one command, one trace). A daemon serves many requests at once,
// only some of them traced, so the current tracer belongs to the request: it is kept in
// an AsyncLocalStorage, which follows the request through every `await` and into the
// promises it starts, without passing a tracer through every function. Until the
// first trace appears in a process, `currentTrace()` is a single boolean test.
// Mirrors Go's context.Context carrying a span (containerd's `tracing.SpanFromContext`).

import type { AsyncLocalStorage } from "node:async_hooks";
import type { Tracer } from "./tracer.ts";

/**
 * Loaded on the first traced request only: importing node:async_hooks starts Deno's
 * Node compatibility layer, tens of milliseconds a short-lived program must not pay
 * when nothing is traced.
 */
let requestTracers: AsyncLocalStorage<Tracer> | undefined;
let processTracer: Tracer | undefined;
/** False until this process has seen any trace: the whole cost of tracing when it is off. */
let tracingSeen = false;

/** The tracer of the current request or process; undefined when nothing is traced. */
export function currentTrace(): Tracer | undefined {
  if (!tracingSeen) return undefined;
  return requestTracers?.getStore() ?? processTracer;
}

/** True once any trace was started in this process (hooks test it before doing any work). */
export function tracingActive(): boolean {
  return tracingSeen;
}

/** Makes `tracer` the tracer of the whole process (a CLI's `--trace`, `MINI_TRACE=1`). */
export function setProcessTracer(tracer: Tracer | undefined): void {
  processTracer = tracer;
  if (tracer) tracingSeen = true;
}

/** The process-wide tracer, if any. */
export function processTrace(): Tracer | undefined {
  return processTracer;
}

/** Runs `work` with `tracer` current (for it and everything it awaits or starts). */
export async function runWithTracer<T>(tracer: Tracer, work: () => T): Promise<Awaited<T>> {
  if (!requestTracers) {
    const { AsyncLocalStorage } = await import("node:async_hooks");
    requestTracers ??= new AsyncLocalStorage<Tracer>();
  }
  tracingSeen = true;
  return await requestTracers.run(tracer, work);
}
