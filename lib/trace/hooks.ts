// What this teaches: how a trace crosses each kind of boundary, in the one-line calls
// the rest of mini makes:
//   - a server receives a request: `traceIncoming(header, "Tasks/Create", handle)` opens
//     the trace the header names (if allowed, see sink.ts) and makes it current,
//   - a client sends one: `addTraceHeader(headers)` passes the current trace on, one
//     level deeper,
//   - a process starts a child: `env: childTraceEnvironment()` hands the trace over in
//     MINI_TRACE_FILE / MINI_TRACE_DEPTH,
//   - a child starts: `await traceFromEnvironment()` picks it up,
//   - work that happens later, outside the request (a container's exit), is tied back
//     to it with `rememberTraceFor(key)` and `withTraceFor(key, work)`.
// Every mini program loads this file (lib/api does), so it is kept small: "zero cost
// when off" means each hook does nothing but one boolean test until the process has
// seen a trace, and the code that opens files and builds tracers (machinery.ts) is only
// loaded then. That is why the calls that start a trace are async.
// Mirrors containerd's tracing interceptors (pkg/tracing: the otelgrpc/otelhttp propagation
// of a span context in request metadata), in one line of JSON per step.

import {
  currentTrace,
  processTrace,
  runWithTracer,
  setProcessTracer,
  tracingActive,
} from "./active.ts";
import {
  contextFromEnvironment,
  decodeTraceHeader,
  encodeTraceHeader,
  traceEnvironment,
} from "./context_header.ts";
import type { Tracer } from "./tracer.ts";
import {
  TRACE_DEPTH_VARIABLE,
  TRACE_ENABLE_VARIABLE,
  TRACE_FILE_VARIABLE,
  TRACE_HEADER,
  type TraceContext,
} from "./types.ts";

/** What machinery.ts exports (a type only: nothing is loaded for it). */
export type TraceMachinery = typeof import("./machinery.ts");

let machinery: TraceMachinery | undefined;

/**
 * Loads the tracing machinery, once. The specifier is computed on purpose: Deno loads
 * the target of a literal `import("./machinery.ts")` together with this module.
 */
export async function loadTraceMachinery(): Promise<TraceMachinery> {
  if (!machinery) {
    const specifier = new URL("./machinery.ts", import.meta.url).href;
    machinery = await import(specifier) as TraceMachinery;
  }
  return machinery;
}

/**
 * The machinery if a trace has loaded it, for synchronous code that runs once tracing is
 * active (every way to start a trace in a daemon, shim or runtime goes through here).
 */
export function loadedTraceMachinery(): TraceMachinery | undefined {
  return machinery;
}

/** Routes whose arrival is not worth a line (the handler records what matters). */
const QUIET_ROUTES = ["/containerd.services.events.v1.Events/Forward"];

/**
 * Runs a request handler, traced if the request carries a trace header (or the whole
 * process is traced). Records the step when the request arrives and when it is done.
 */
export function traceIncoming<T>(
  header: string | null | undefined,
  step: string | (() => string),
  handle: () => T | Promise<T>,
): T | Promise<T> {
  if (!header && !tracingActive()) return handle();
  const context = decodeTraceHeader(header);
  if (!context && !tracingActive()) return handle(); // a malformed header traces nothing
  return traceRequest(context, step, handle);
}

async function traceRequest<T>(
  context: TraceContext | undefined,
  step: string | (() => string),
  handle: () => T | Promise<T>,
): Promise<T> {
  const tracer = context ? (await loadTraceMachinery()).openTracer(context) : processTrace();
  if (!tracer) return await handle();
  const name = typeof step === "string" ? step : step();
  // Plumbing routes are traced (the handler may record a step) but get no lines of their own.
  if (QUIET_ROUTES.includes(name)) return await runWithTracer(tracer, handle);
  return await runWithTracer(tracer, async () => {
    const end = tracer.begin(shortRoute(name));
    try {
      const result = await handle();
      end();
      return result;
    } catch (error) {
      end(`failed: ${error instanceof Error ? error.message : error}`);
      throw error;
    }
  });
}

/** `/containerd.services.tasks.v1.Tasks/Create` → `Tasks/Create`: the service and method. */
export function shortRoute(route: string): string {
  const match = /^\/(?:[\w-]+\.)*([\w-]+\/[\w-]+)$/.exec(route);
  return match ? match[1] : route;
}

/** Adds the trace header for the next process to an outgoing request's headers. */
export function addTraceHeader(headers: Headers | Record<string, string>): void {
  if (!tracingActive()) return;
  const context = currentTrace()?.childContext();
  if (!context) return;
  if (headers instanceof Headers) headers.set(TRACE_HEADER, encodeTraceHeader(context));
  else headers[TRACE_HEADER] = encodeTraceHeader(context);
}

/**
 * The environment for a child process about to start (merge it into Deno.Command's
 * `env`); records the start as a step when `program` is given. Undefined when untraced.
 */
export function childTraceEnvironment(
  program?: string,
  args?: readonly string[] | (() => readonly string[]),
): Record<string, string> | undefined {
  if (!tracingActive()) return undefined;
  const tracer = currentTrace();
  if (!tracer) return undefined;
  if (program !== undefined) {
    tracer.step(`start ${program}`, (typeof args === "function" ? args() : args)?.join(" "));
  }
  const context = tracer.childContext();
  return context ? traceEnvironment(context) : undefined;
}

/**
 * Picks up a trace handed over by the parent (MINI_TRACE_FILE) or asked for with
 * MINI_TRACE=1, and makes it the process's tracer. With `consume`, the file variables
 * are removed from this process's environment, so children only get a trace when a
 * traced request starts them (a long-lived shim must not trace forever).
 */
export async function traceFromEnvironment(
  options: { consume?: boolean; process?: string } = {},
): Promise<Tracer | undefined> {
  const read = (name: string) => Deno.env.get(name);
  if (read(TRACE_FILE_VARIABLE) === undefined && read(TRACE_ENABLE_VARIABLE) !== "1") {
    return undefined;
  }
  const context = contextFromEnvironment(read);
  const depth = Number(read(TRACE_DEPTH_VARIABLE) ?? 0) || 0;
  if (options.consume) {
    Deno.env.delete(TRACE_FILE_VARIABLE);
    Deno.env.delete(TRACE_DEPTH_VARIABLE);
  }
  const { openTracer, stderrTracer } = await loadTraceMachinery();
  const tracer = context
    ? openTracer(context, options.process)
    : stderrTracer(depth, options.process);
  // A trace file belongs to one request; stderr tracing (MINI_TRACE=1) to the whole process.
  if (tracer && (!options.consume || !context)) setProcessTracer(tracer);
  return tracer;
}

/** Traces this whole process on stderr (`--trace` of a daemon or of mini-runc). */
export async function enableStderrTrace(): Promise<Tracer> {
  return (await loadTraceMachinery()).enableStderrTrace();
}

/**
 * A daemon's `--trace` (or MINI_TRACE=1): trace every request it serves on its stderr,
 * and pass MINI_TRACE=1 on to the processes it starts. Resolves to the arguments without
 * the flag, for the daemon's own flag parser.
 */
export async function takeDaemonTraceFlag(args: readonly string[]): Promise<string[]> {
  if (args.includes("--trace") || Deno.env.get(TRACE_ENABLE_VARIABLE) === "1") {
    await enableStderrTrace();
  }
  return args.filter((arg) => arg !== "--trace");
}

const remembered = new Map<string, TraceContext>();

/** Remembers the current trace under `key` (e.g. a container id) for work done later. */
export function rememberTraceFor(key: string): void {
  if (!tracingActive()) return;
  const tracer = currentTrace();
  if (tracer?.file !== undefined) remembered.set(key, { file: tracer.file, depth: tracer.depth });
  else remembered.delete(key);
}

/** Runs `work` in the trace remembered for `key` (once: the entry is used up). */
export async function withTraceFor<T>(
  key: string,
  step: () => string,
  work: () => Promise<T>,
): Promise<T> {
  if (remembered.size === 0) return await work();
  const context = remembered.get(key);
  if (!context) return await work();
  remembered.delete(key);
  const tracer = (await loadTraceMachinery()).openTracer(context);
  if (!tracer) return await work();
  return await runWithTracer(tracer, () => {
    tracer.step(step());
    return work();
  });
}
