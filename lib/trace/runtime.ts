// What this teaches: tracing an OCI runtime, which is not a daemon but a short-lived
// command (`mini-runc create ...`) started by the shim, so its trace arrives in
// MINI_TRACE_FILE/MINI_TRACE_DEPTH (or `--trace` prints on stderr, like runc's
// `--debug`). The shim may also run mini-runc as a library inside its own process
// (lib/shim/runtime_in_process.ts); its steps are then shown as a process of their own,
// "mini-runc (in-process)", one level below the shim, so the picture stays the same.
// The runtime's init is one more process: it gets the trace one level deeper again.
// Mirrors runc's `--debug`/`--log` logging (main.go, libcontainer/logs), made readable.

// mini-runc's own flag parser, so `--trace` is found exactly where mini-runc would
// accept it (a global flag before the command), never inside the container's arguments.
import { globalFlags, parseFlags } from "../runtime/cli_flags.ts";
import { currentTrace, tracingActive } from "./active.ts";
import { enableStderrTrace, loadedTraceMachinery, traceFromEnvironment } from "./hooks.ts";
import type { Tracer } from "./tracer.ts";
import { type InitTraceContext, TRACE_FILE_VARIABLE } from "./types.ts";

const RUNTIME_NAME = "mini-runc";
const libraryTracers = new WeakMap<Tracer, Tracer>();

/** True when `--trace` is among mini-runc's global flags (read by the CLI's own parser). */
function traceFlagGiven(args: string[]): boolean {
  try {
    return parseFlags(args, globalFlags, true).values.trace === true;
  } catch {
    return false; // a usage error: the command reports it, untraced
  }
}

/**
 * The entry point's hook (cmd/mini_runc.ts), before anything else runs: picks up the
 * trace from the environment, or traces on stderr with `--trace` among the global flags.
 * Loads nothing when neither is there.
 */
export async function startRuntimeTrace(args: string[]): Promise<void> {
  if (traceFlagGiven(args)) await enableStderrTrace();
  // Not MINI_TRACE=1 alone: under a shim, the runtime's stderr is the container's stderr,
  // and trace lines must not end up in `docker logs`. Only a trace file is picked up.
  else if (Deno.env.get(TRACE_FILE_VARIABLE)) {
    await traceFromEnvironment({ process: RUNTIME_NAME });
  }
}

/** The tracer for runtime steps: mini-runc's own, or one level below the shim it runs in. */
export function runtimeTrace(): Tracer | undefined {
  if (!tracingActive()) return undefined;
  const tracer = currentTrace();
  if (!tracer || tracer.process === RUNTIME_NAME) return tracer;
  let library = libraryTracers.get(tracer);
  if (!library) {
    // Whatever started this trace (hooks.ts) loaded the machinery.
    const machinery = loadedTraceMachinery();
    if (!machinery) return undefined;
    library = new machinery.Tracer(
      `${RUNTIME_NAME} (in-process)`,
      tracer.depth + 1,
      tracer.sink,
      tracer.file,
    );
    libraryTracers.set(tracer, library);
  }
  return library;
}

/**
 * The trace for the runtime's init, sent in its config over the sync socket (not in
 * its environment: the init may have been started before the trace was known).
 */
export function initTraceContext(): InitTraceContext | undefined {
  if (!tracingActive()) return undefined;
  const tracer = runtimeTrace();
  const machinery = loadedTraceMachinery();
  if (!tracer || !machinery) return undefined;
  // On stderr only for `mini-runc --trace` itself (its stderr is a terminal, not a container's).
  if (tracer.file === undefined && tracer.process !== RUNTIME_NAME) return undefined;
  return { file: tracer.file, depth: tracer.depth + 1, start: machinery.stderrTraceStart() };
}
