// What this teaches: a trace context must cross process boundaries as plain text: an
// HTTP header between daemons (`mini-trace: depth=2; file=/run/mini-trace/t-1/trace.jsonl`)
// and environment variables into child processes. W3C's `traceparent` header and
// containerd's OpenTelemetry propagation do the same job with span ids instead of a file.

import { TRACE_DEPTH_VARIABLE, TRACE_FILE_VARIABLE, type TraceContext } from "./types.ts";

/** The deepest hop accepted (a guard against nonsense headers, not a real limit). */
const MAX_DEPTH = 32;

/** Encodes a context as a header value. */
export function encodeTraceHeader(context: TraceContext): string {
  return `depth=${context.depth}; file=${context.file}`;
}

/** Decodes a header value; undefined when it is malformed (a bad header never fails a request). */
export function decodeTraceHeader(value: string | null | undefined): TraceContext | undefined {
  if (!value) return undefined;
  const match = /^depth=(\d{1,2}); file=(\/.+)$/.exec(value.trim());
  if (!match) return undefined;
  const depth = Number(match[1]);
  if (depth > MAX_DEPTH) return undefined;
  return { depth, file: match[2] };
}

/** The environment variables that hand a context to a child process. */
export function traceEnvironment(context: TraceContext): Record<string, string> {
  return {
    [TRACE_FILE_VARIABLE]: context.file,
    [TRACE_DEPTH_VARIABLE]: String(context.depth),
  };
}

/** Reads a context from environment variables; undefined when absent or malformed. */
export function contextFromEnvironment(
  read: (name: string) => string | undefined,
): TraceContext | undefined {
  const file = read(TRACE_FILE_VARIABLE);
  if (!file || !file.startsWith("/")) return undefined;
  const depth = Number(read(TRACE_DEPTH_VARIABLE) ?? "0");
  if (!Number.isInteger(depth) || depth < 0 || depth > MAX_DEPTH) return undefined;
  return { file, depth };
}
