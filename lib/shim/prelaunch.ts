// What this teaches: the shim knows what container it is for from its first instant:
// the daemon wrote `<workdir>/config.json` before starting it. So when it runs mini-runc
// in-process (runtime_in_process.ts), it can spawn the container's init right away,
// before loading its own modules, and the two Deno start-ups (the shim's and the
// init's) overlap instead of following each other. The init only waits for its
// configuration on the sync socket, so starting it early changes nothing else; if no
// Create comes (or a terminal is asked for after all), it is killed and reaped.
// The spawn itself is mini-runc's own entry-point trick (lib/runtime/prelaunch.ts, both
// through lib/runtime/early_init.ts); this file adds what only a shim does first: leave
// the daemon's session.
// Mirrors nothing in containerd: Go shims and runc start in a few milliseconds.

import { setsid } from "../linux/identity.ts";
import type { LaunchedInit } from "../runtime/launch.ts";
import { prelaunchForBundle } from "../runtime/early_init.ts";
import { runsInProcess } from "./runtime_choice.ts";

/** What the shim's entry point did before the shim proper was loaded. */
export interface ShimHead {
  /** True once this process is the leader of its own session. */
  sessionLeader: boolean;
  /** An init spawned for the bundle's spec, with new pipes as its stdio. */
  init?: LaunchedInit;
}

/**
 * The value of Go-style flag `-name` (`-name v`, `--name v`, `-name=v`) in `args`, read
 * the way main.ts's parseShimArguments reads it (which loads too much to call here).
 */
function flagValue(args: readonly string[], name: string): string | undefined {
  for (let index = 0; index < args.length; index++) {
    const match = /^--?([a-z-]+)(?:=(.*))?$/s.exec(args[index]);
    if (match?.[1] === name) return match[2] ?? args[index + 1];
  }
  return undefined;
}

/**
 * Leaves the daemon's session first (the init must not be born in it), then spawns the
 * init when the runtime will run in-process. Anything unusual returns no init: Create
 * then spawns it the ordinary way and reports errors.
 */
export function prelaunchShimInit(args: readonly string[]): ShimHead {
  const head: ShimHead = { sessionLeader: false };
  try {
    setsid();
    head.sessionLeader = true;
  } catch { /* already a session leader (started by hand with setsid) */ }
  const workdir = flagValue(args, "workdir");
  if (!workdir || !runsInProcess(flagValue(args, "runtime-binary") ?? "")) return head;
  // stdin is a pipe either way; Create closes it when the task wants none.
  head.init = prelaunchForBundle(workdir, { stdin: true });
  return head;
}
