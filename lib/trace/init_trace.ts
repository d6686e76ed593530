// What this teaches: the last process of the chain, the runtime's init, builds the
// container (namespaces, mounts, pivot_root) and then execve()s the user's command.
// It can trace its own steps, with three constraints: it learns about the trace from
// its config (it may have been started before anyone knew a trace was wanted); after
// pivot_root the host's trace file can no longer be opened by path, so the init opens
// it first and keeps the descriptor (close-on-exec: the container's command never
// inherits it); and it only makes synchronous calls (namespaces belong to the calling
// thread), so records are written with a plain write(2) through the libc calls it
// already uses. This file imports nothing heavy: the init must start fast, traced or not.
// Mirrors the debug messages runc's nsexec.c and init send back to `runc --debug`.

import { openFile, OpenFlags, writeAll } from "../linux/files.ts";
import { formatTraceRecord } from "./pretty.ts";
import type { InitTraceContext, TraceRecord } from "./types.ts";

const encoder = new TextEncoder();

/** The init's tracer: records go to a descriptor opened before the root changed. */
export class InitTracer {
  constructor(readonly fd: number, readonly context: InitTraceContext) {}

  /** Records one step (a failed write is ignored: tracing never breaks a container). */
  step(step: string, detail?: string): void {
    const record: TraceRecord = {
      t: performance.timeOrigin + performance.now(),
      pid: Deno.pid,
      process: "mini-runc init",
      depth: this.context.depth,
      step,
    };
    if (detail) record.detail = detail;
    const line = this.context.file === undefined
      ? formatTraceRecord(record, this.context.start)
      : JSON.stringify(record);
    try {
      writeAll(this.fd, encoder.encode(line + "\n"));
    } catch { /* the trace is gone */ }
  }
}

let tracer: InitTracer | undefined;

/** Opens the init's trace when its config carries one; call before pivot_root. */
export function openInitTrace(context: InitTraceContext | undefined): InitTracer | undefined {
  if (context === undefined) return undefined;
  try {
    const fd = context.file === undefined ? 2 : openFile(
      context.file,
      OpenFlags.WRONLY | OpenFlags.APPEND | OpenFlags.NOFOLLOW | OpenFlags.CLOEXEC,
    );
    tracer = new InitTracer(fd, context);
  } catch {
    tracer = undefined;
  }
  return tracer;
}

/** The init's tracer, once opened; undefined when untraced. */
export function initTrace(): InitTracer | undefined {
  return tracer;
}
