// What this teaches: the contract of `--trace`, apart from the code that implements it.
// One trace follows one request across processes (CLI → dockerd → containerd → shim →
// runtime → init). Every process appends the steps it takes, one JSON object per line,
// to one file the CLI created; the request carries the file's path from process to
// process (an HTTP header between daemons, environment variables into a child process).
// Real Docker has no such thing; the closest are OpenTelemetry spans (containerd's
// `tracing` plugin, moby's otel middleware), which need a collector. This is the
// teaching version: a file and a pretty printer.

/** One step of one process, as written to the trace file (one JSON line). */
export interface TraceRecord {
  /** When: milliseconds since the Unix epoch, with sub-millisecond precision. */
  t: number;
  /** Process id of the writer (as the writer sees it: an init in a new PID namespace is 1). */
  pid: number;
  /** Program name: "mini-docker", "mini-dockerd", "mini-containerd", ... */
  process: string;
  /** How many process hops from the CLI: 0 for the CLI, 1 for mini-dockerd, ... */
  depth: number;
  /** What happened, in a few words ("POST /containers/create", "pivot_root"). */
  step: string;
  /** Details a learner wants to see (mount options, a command line). */
  detail?: string;
  /** For a step that ends something begun earlier: how long it took, in milliseconds. */
  took?: number;
}

/** What travels from process to process: the file to append to and the receiver's depth. */
export interface TraceContext {
  file: string;
  depth: number;
}

/** What the runtime hands its init (in the init's config): the trace, if any. */
export interface InitTraceContext {
  /** The trace file; absent: print on stderr. */
  file?: string;
  depth: number;
  /** Time zero for printing on stderr (epoch ms). */
  start: number;
}

/** Where records go: a trace file, or stderr for a process traced on its own. */
export interface TraceSink {
  write(record: TraceRecord): void;
}

/** The request header that carries a TraceContext between mini's daemons. */
export const TRACE_HEADER = "mini-trace";

/** `MINI_TRACE=1`: trace this process (and, by inheritance, the processes it starts). */
export const TRACE_ENABLE_VARIABLE = "MINI_TRACE";
/** The trace file a parent hands to one child process. */
export const TRACE_FILE_VARIABLE = "MINI_TRACE_FILE";
/** The depth of the child that receives TRACE_FILE_VARIABLE. */
export const TRACE_DEPTH_VARIABLE = "MINI_TRACE_DEPTH";
/** Time zero of a trace printed on stderr (epoch ms), shared by the processes it starts. */
export const TRACE_START_VARIABLE = "MINI_TRACE_START";
/** Overrides the directory trace files must live in (read from each process's own environment). */
export const TRACE_ROOT_VARIABLE = "MINI_TRACE_ROOT";

/** The only directory a daemon accepts trace files under (see sink.ts for why). */
export const DEFAULT_TRACE_ROOT = "/run/mini-trace";
/** The name every trace file has inside its own directory under the trace root. */
export const TRACE_FILE_NAME = "trace.jsonl";
