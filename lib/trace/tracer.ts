// What this teaches: a tracer is what one process holds for one trace: where to write,
// who it is (program name, pid) and how deep it sits. `step()` records something
// happening now; `begin()` records the start of something and returns the function
// that records its end with the time it took. Call sites write `trace?.step(...)`, so
// when tracing is off not even the message is built.
// Mirrors the role of an OpenTelemetry span (containerd's `tracing.StartSpan`), minus
// the collector.

import type { TraceContext, TraceRecord, TraceSink } from "./types.ts";

/** Ends a step begun with `begin()`; `outcome` is shown with the time it took. */
export type EndStep = (outcome?: string) => void;

/** The current time in epoch milliseconds, with sub-millisecond precision. */
export function traceNow(): number {
  return performance.timeOrigin + performance.now();
}

/** One process's handle on one trace. */
export class Tracer {
  constructor(
    readonly process: string,
    readonly depth: number,
    readonly sink: TraceSink,
    /** The trace file, when records go to one (what is passed on to other processes). */
    readonly file?: string,
  ) {}

  /** Records one step. */
  step(step: string, detail?: string): void {
    const record: TraceRecord = {
      t: traceNow(),
      pid: Deno.pid,
      process: this.process,
      depth: this.depth,
      step,
    };
    if (detail !== undefined && detail !== "") record.detail = detail;
    this.sink.write(record);
  }

  /** Records the start of `step` and returns the function that records its end. */
  begin(step: string, detail?: string): EndStep {
    const started = traceNow();
    this.step(step, detail);
    return (outcome?: string) => {
      const record: TraceRecord = {
        t: traceNow(),
        pid: Deno.pid,
        process: this.process,
        depth: this.depth,
        step: `done ${step}`,
        took: traceNow() - started,
      };
      if (outcome) record.detail = outcome;
      this.sink.write(record);
    };
  }

  /** The context to hand to a process this one calls or starts (one level deeper). */
  childContext(): TraceContext | undefined {
    return this.file === undefined ? undefined : { file: this.file, depth: this.depth + 1 };
  }
}
