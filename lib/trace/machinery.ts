// What this teaches: the part of `--trace` only a traced process needs: opening trace
// files (with sink.ts's checks), building tracers, naming the process. hooks.ts loads
// it with a dynamic import the first time a trace shows up (a flag, an environment
// variable, a request header), so a program that is never traced never loads it: the
// "zero cost when off" of tracing is one boolean test per hook and not one module more.
// Mirrors the way OpenTelemetry's no-op tracer provider stays in place until an SDK is
// configured (containerd only registers its tracing plugin when tracing is set up).

import { processTrace, setProcessTracer } from "./active.ts";
import { traceProcessName } from "./process_name.ts";
import { FileSink, StderrSink, stderrTraceStart, TracePathRefused } from "./sink.ts";
import { Tracer } from "./tracer.ts";
import { TRACE_ENABLE_VARIABLE, type TraceContext } from "./types.ts";

export { stderrTraceStart, Tracer };

/** Opens a tracer for a context received from elsewhere; undefined (and a warning) if refused. */
export function openTracer(
  context: TraceContext,
  process = traceProcessName(),
): Tracer | undefined {
  try {
    return new Tracer(process, context.depth, FileSink.open(context.file), context.file);
  } catch (error) {
    if (!(error instanceof TracePathRefused)) throw error;
    // A finished trace (its file removed) is normal; anything else deserves a word.
    if (!error.missing) console.error(`${process}: not tracing: ${error.message}`);
    return undefined;
  }
}

/** A tracer that prints this process's steps on its stderr, `depth` hops from the CLI. */
export function stderrTracer(depth: number, process = traceProcessName()): Tracer {
  return new Tracer(process, depth, new StderrSink());
}

/** Traces this whole process on stderr (`--trace` of a daemon or of mini-runc). */
export function enableStderrTrace(): Tracer {
  Deno.env.set(TRACE_ENABLE_VARIABLE, "1");
  const existing = processTrace();
  if (existing) return existing;
  const tracer = stderrTracer(0);
  setProcessTracer(tracer); // the sink set MINI_TRACE_START: children print on our clock
  return tracer;
}
