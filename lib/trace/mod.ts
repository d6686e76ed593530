// `--trace`: one request followed across mini's processes, step by step, with timings.
// types.ts is the contract (the record, the header, the variables); sink.ts decides
// where a process may write (and refuses hostile paths); hooks.ts holds the one-line
// calls the rest of mini makes; session.ts is the CLI's end; pretty.ts prints.
// docs/course/12-tracing-a-container.md walks through a real trace.
// Mirrors no single peer: it plays the part of `runc --debug`, containerd's and dockerd's
// debug logs and OpenTelemetry spans together, in one file per request.
export * from "./types.ts";
export * from "./tracer.ts";
export * from "./sink.ts";
export * from "./pretty.ts";
export * from "./context_header.ts";
export { currentTrace, processTrace, setProcessTracer, tracingActive } from "./active.ts";
export * from "./hooks.ts";
export * from "./session.ts";
export { setTraceProcessName, traceProcessName } from "./process_name.ts";
export * from "./describe.ts";
