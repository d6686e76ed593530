// What this teaches: the CLI end of a trace. `mini-docker --trace` (or MINI_TRACE=1)
// creates a fresh directory under the trace root with an empty trace.jsonl, traces
// its own steps into it, sends the file's path with every request, and meanwhile
// follows the file (like `tail -f`), printing each line any process appends. When the
// command is done it waits until the file has been quiet for a moment (the last
// processes may still be writing), prints the rest and removes the directory
// (MINI_TRACE_KEEP=1 keeps it and says where).
// No real component mirrors this; `docker --debug` only logs the CLI's own requests.

import { setProcessTracer } from "./active.ts";
import { TraceLineReader, TracePrinter, traceTitleLine } from "./pretty.ts";
import { FileSink, traceRoot } from "./sink.ts";
import { traceNow, Tracer } from "./tracer.ts";
import { TRACE_ENABLE_VARIABLE, TRACE_FILE_NAME } from "./types.ts";

/** How often the follower looks for new lines. */
const POLL_INTERVAL_MS = 15;
/** At the end: how long the file must stay unchanged before the trace is complete. */
const QUIET_PERIOD_MS = 300;
/** At the end: the longest wait for that quiet moment. */
const MAX_DRAIN_MS = 2_000;

/** A running trace of one CLI command. */
export interface TraceSession {
  readonly tracer: Tracer;
  readonly file: string;
  /** Stops following, prints what is left, removes the trace (unless kept). */
  stop(): Promise<void>;
}

/** Options of a trace session. */
export interface TraceSessionOptions {
  /** The program name shown on the CLI's own lines. */
  process: string;
  /** Where the pretty lines go (the CLI's stderr). */
  print: (line: string) => void;
  /** Keep the trace file afterwards and say where it is. */
  keep?: boolean;
  /** The command line, recorded as the trace's first step. */
  args?: readonly string[];
}

/** Creates the trace file, makes it the process's trace, and starts printing it. */
export async function startTraceSession(options: TraceSessionOptions): Promise<TraceSession> {
  const root = traceRoot();
  await Deno.mkdir(root, { recursive: true, mode: 0o700 });
  // The pid in the name says whose trace it is (`ls /run/mini-trace` while it runs).
  const directory = await Deno.makeTempDir({ dir: root, prefix: `trace-${Deno.pid}-` });
  const file = `${directory}/${TRACE_FILE_NAME}`;
  await Deno.writeFile(file, new Uint8Array(), { createNew: true, mode: 0o600 });
  const tracer = new Tracer(options.process, 0, FileSink.open(file), file);
  const start = traceNow();
  options.print(traceTitleLine());
  const reader = new TraceLineReader();
  const printer = new TracePrinter(start, options.print);
  const follower = followFile(file, (bytes) => {
    if (bytes === undefined) return printer.idle();
    for (const record of reader.push(bytes)) printer.add(record);
  });
  setProcessTracer(tracer);
  if (options.args) tracer.step([options.process, ...options.args].join(" "));
  return {
    tracer,
    file,
    async stop() {
      await follower.stop();
      printer.flush();
      setProcessTracer(undefined);
      if (options.keep) options.print(`trace kept in ${file}`);
      else await Deno.remove(directory, { recursive: true }).catch(() => {});
    },
  };
}

/** Follows a growing file, calling `onBytes` with each new chunk, until stopped. */
function followFile(
  path: string,
  /** New bytes, or undefined when the file is quiet (time to flush). */
  onBytes: (bytes: Uint8Array | undefined) => void,
): { stop(): Promise<void> } {
  let stopping = false;
  let lastGrowth = performance.now();
  const finished = (async () => {
    using file = await Deno.open(path, { read: true });
    const buffer = new Uint8Array(64 * 1024);
    let stopAsked = 0;
    while (true) {
      const count = await file.read(buffer);
      if (count !== null && count > 0) {
        onBytes(buffer.slice(0, count));
        lastGrowth = performance.now();
        continue;
      }
      onBytes(undefined);
      if (stopping) {
        stopAsked ||= performance.now();
        const now = performance.now();
        if (now - lastGrowth >= QUIET_PERIOD_MS || now - stopAsked >= MAX_DRAIN_MS) return;
      }
      await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
    }
  })();
  return {
    async stop() {
      stopping = true;
      await finished;
    },
  };
}

/** startCliTrace for a CLI that prints straight to the process's stderr (mini-ctr). */
export function startStderrCliTrace(
  flag: boolean,
  process: string,
  args?: readonly string[],
): Promise<TraceSession | undefined> {
  const encoder = new TextEncoder();
  return startCliTrace(
    flag,
    {
      env: (name) => Deno.env.get(name),
      err: { write: (text) => Deno.stderr.writeSync(encoder.encode(text)) },
    },
    process,
    args,
  );
}

/**
 * The CLIs' one-line hook: starts a session when `--trace` was given or MINI_TRACE=1 is
 * set, printing on the CLI's stderr. MINI_TRACE_KEEP=1 keeps the file.
 */
export async function startCliTrace(
  flag: boolean,
  environment: { env: (name: string) => string | undefined; err: { write(text: string): void } },
  process: string,
  args?: readonly string[],
): Promise<TraceSession | undefined> {
  if (!flag && environment.env(TRACE_ENABLE_VARIABLE) !== "1") return undefined;
  return await startTraceSession({
    process,
    args,
    print: (line) => environment.err.write(line + "\n"),
    keep: environment.env("MINI_TRACE_KEEP") === "1",
  });
}
