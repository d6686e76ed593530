// What this teaches: how the daemon starts a shim, the v1 way. The shim is the daemon's
// own child (`ps axf` draws it under mini-containerd), started with arguments a reader
// recognizes; it detaches into its own session by itself, so killing the daemon, even
// with SIGKILL, leaves it and its container running (it is then re-parented to init).
// The daemon reads one line from the shim's stdout, its socket address, and lets go.
//
// containerd's v2 shims do a start-then-exit dance instead: `containerd-shim-runc-v2
// start` spawns the real shim and exits at once, so the shim is re-parented to init
// from the first moment and never is containerd's child (docs/course/05-the-shim.md).
// Mirrors the v1 `runtime/v1/shim/client/client.go` (WithStart, newCommand) and, for
// the handshake, `core/runtime/v2/binary.go` (Start: read the address, then connect).

import { fileURLToPath } from "node:url";
import { ApiError } from "../api/errors.ts";
import { raceTimeout, TIMED_OUT } from "./timeouts.ts";
import type { ShimArguments } from "./types.ts";
import { currentTrace } from "../trace/active.ts";
import { childTraceEnvironment } from "../trace/hooks.ts";

/** The shim's entry point, run with the same Deno as the daemon. */
export const SHIM_ENTRY_POINT = fileURLToPath(
  new URL("../../cmd/mini_containerd_shim.ts", import.meta.url),
);

/** How long a new shim may take to announce its address. */
const SHIM_START_TIMEOUT_MS = 30_000;

/** A started shim: its address, its pid, and the child handle (the daemon is its parent). */
export interface StartedShim {
  address: string;
  pid: number;
  child: Deno.ChildProcess;
}

/** The shim's command line, in the order `ps axf` shows it. */
export function shimCommandLine(args: ShimArguments): string[] {
  return [
    "run",
    "--allow-all",
    "--quiet",
    "--no-prompt",
    SHIM_ENTRY_POINT,
    "-namespace",
    args.namespace,
    "-id",
    args.id,
    "-address",
    args.address,
    "-workdir",
    args.workdir,
    "-runtime-binary",
    args.runtimeBinary,
    "-runtime-root",
    args.runtimeRoot,
    ...(args.debug ? ["-debug"] : []),
  ];
}

/** The shim's own flags (`-namespace ... -runtime-root ...`), for the trace. */
function shimFlags(args: ShimArguments): string[] {
  const line = shimCommandLine(args);
  return line.slice(line.indexOf("-namespace"));
}

/** Starts a shim and waits for it to announce its socket address. */
export async function startShim(args: ShimArguments): Promise<StartedShim> {
  const child = new Deno.Command(Deno.execPath(), {
    args: shimCommandLine(args),
    env: childTraceEnvironment("mini-containerd-shim", () => shimFlags(args)), // --trace
    cwd: args.workdir,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  // The daemon must not wait for its shims when it stops.
  child.unref();
  const stderr = collectText(child.stderr);
  const reader = child.stdout.getReader();
  const firstLine = (async () => {
    const decoder = new TextDecoder();
    let text = "";
    while (!text.includes("\n")) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
    return text;
  })();
  const line = await raceTimeout(firstLine, SHIM_START_TIMEOUT_MS);
  reader.releaseLock();
  await child.stdout.cancel().catch(() => {});
  if (line === TIMED_OUT || !line.includes("\n")) {
    if (line === TIMED_OUT) {
      try {
        child.kill("SIGKILL");
      } catch { /* already gone */ }
    }
    const status = await child.status;
    const message = await raceTimeout(stderr, 1_000);
    throw new ApiError(
      "internal",
      `mini-containerd-shim for ${args.namespace}/${args.id} ${
        line === TIMED_OUT ? "did not start in time" : `exited with status ${status.code}`
      }: ${
        message === TIMED_OUT ? "" : message.trim() || "no output"
      } (see ${args.workdir}/shim.log)`,
    );
  }
  await child.stderr.cancel().catch(() => {});
  currentTrace()?.step("shim announced its address", `${line.trim()} (pid ${child.pid})`); // --trace
  return { address: line.trim(), pid: child.pid, child };
}

async function collectText(stream: ReadableStream<Uint8Array>): Promise<string> {
  let text = "";
  const decoder = new TextDecoder();
  try {
    for await (const chunk of stream) text += decoder.decode(chunk, { stream: true });
  } catch { /* cancelled once the shim is up */ }
  return text;
}
