// What this teaches: OCI hooks let other tools act at fixed points of a container's life
// (a network plugin wiring the network namespace at createRuntime, a logger at poststart,
// a cleaner at poststop). Each hook is a host program that gets the container's state
// JSON on stdin; a failing prestart/createRuntime hook aborts the container, a failing
// poststart/poststop hook is only logged. Mirrors runc's libcontainer/configs/config.go
// (Hook.Run, CommandHook) and the hook calls in process_linux.go / state_linux.go.

import type { Hook, OciState } from "./types.ts";

/** Runs one hook with `state` on stdin; throws when it fails or outlives its timeout. */
export async function runHook(kind: string, hook: Hook, state: OciState): Promise<void> {
  const args = hook.args && hook.args.length > 0 ? hook.args.slice(1) : [];
  const command = new Deno.Command(hook.path, {
    args,
    env: hook.env ? Object.fromEntries(hook.env.map(splitVariable)) : undefined,
    clearEnv: hook.env !== undefined,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  });
  let child: Deno.ChildProcess;
  try {
    child = command.spawn();
  } catch (error) {
    throw new Error(`${kind} hook ${hook.path}: cannot start: ${(error as Error).message}`);
  }
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(JSON.stringify(state))).catch(() => {});
  await writer.close().catch(() => {});
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = hook.timeout && hook.timeout > 0
    ? new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), hook.timeout! * 1000);
    })
    : undefined;
  const output = child.output();
  const result = await (timeout ? Promise.race([output, timeout]) : output);
  clearTimeout(timer);
  if (result === "timeout") {
    child.kill("SIGKILL");
    await output.catch(() => {});
    throw new Error(`${kind} hook ${hook.path} did not finish within ${hook.timeout}s`);
  }
  if (!result.success) {
    const stderr = new TextDecoder().decode(result.stderr).trim();
    throw new Error(
      `${kind} hook ${hook.path} failed with exit status ${result.code}` +
        (stderr ? `: ${stderr}` : ""),
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
