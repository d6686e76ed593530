// What this teaches: OCI hooks let other tools act at fixed points of a container's life
// (a network plugin wiring the network namespace at createRuntime, a logger at poststart,
// a cleaner at poststop). Each hook is a host program that gets the container's state
// JSON on stdin; a failing prestart/createRuntime hook aborts the container, a failing
// poststart/poststop hook is only logged. Mirrors runc's libcontainer/configs/config.go
// (Hook.Run, CommandHook) and the hook calls in process_linux.go / state_linux.go.

import type { Hook, OciState } from "./types.ts";

/** How a hook process ended. */
interface HookExit {
  code: number | null;
  signal: string | null;
  stderr: string;
  timedOut: boolean;
}

/**
 * Runs one hook with `state` on stdin; throws when it fails or outlives its timeout.
 * The hook's args[0] is its argv[0], as with execve: Docker's libnetwork-setkey hook,
 * for one, is dockerd re-executed under another name. Deno.Command cannot set argv[0],
 * node:child_process can (loaded only when a spec has hooks, to keep start-up small).
 */
export async function runHook(kind: string, hook: Hook, state: OciState): Promise<void> {
  const { spawn } = await import("node:child_process");
  const args = hook.args && hook.args.length > 0 ? hook.args.slice(1) : [];
  const exit = await new Promise<HookExit>((resolve, reject) => {
    const child = spawn(hook.path, args, {
      argv0: hook.args?.[0] ?? hook.path,
      env: hook.env ? Object.fromEntries(hook.env.map(splitVariable)) : undefined,
      stdio: ["pipe", "ignore", "pipe"],
    });
    let stderr = "";
    let timedOut = false;
    const timer = hook.timeout && hook.timeout > 0
      ? setTimeout(() => {
        timedOut = true;
        child.kill("SIGKILL");
      }, hook.timeout * 1000)
      : undefined;
    child.stderr!.on("data", (chunk: Uint8Array) => stderr += new TextDecoder().decode(chunk));
    child.on("error", (error: Error) => {
      clearTimeout(timer);
      reject(new Error(`${kind} hook ${hook.path}: cannot start: ${error.message}`));
    });
    child.on("close", (code: number | null, signal: string | null) => {
      clearTimeout(timer);
      resolve({ code, signal, stderr: stderr.trim(), timedOut });
    });
    child.stdin!.on("error", () => {}); // a hook that ignores stdin may close it early
    child.stdin!.end(JSON.stringify(state));
  });
  if (exit.timedOut) {
    throw new Error(`${kind} hook ${hook.path} did not finish within ${hook.timeout}s`);
  }
  if (exit.code !== 0) {
    const status = exit.signal ? `signal ${exit.signal}` : `exit status ${exit.code}`;
    throw new Error(
      `${kind} hook ${hook.path} failed with ${status}` + (exit.stderr ? `: ${exit.stderr}` : ""),
    );
  }
}

function splitVariable(entry: string): [string, string] {
  const equals = entry.indexOf("=");
  return equals < 0 ? [entry, ""] : [entry.slice(0, equals), entry.slice(equals + 1)];
}

/** Runs the hooks of one kind in order; stops at the first failure (which it throws). */
export async function runHooks(kind: string, hooks: Hook[] | undefined, state: OciState) {
  for (const hook of hooks ?? []) await runHook(kind, hook, state);
}
