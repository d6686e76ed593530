// What this teaches: the shim knows what container it is for from its first instant:
// the daemon wrote `<workdir>/config.json` before starting it. So when it runs mini-runc
// in-process (runtime_in_process.ts), it can spawn the container's init right away,
// before loading its own modules, and the two Deno start-ups (the shim's and the
// init's) overlap instead of following each other. The init only waits for its
// configuration on the sync socket, so starting it early changes nothing else; if no
// Create comes (or a terminal is asked for after all), it is killed and reaped.
// The same trick as mini-runc's own entry point (lib/runtime/prelaunch.ts).
// Mirrors nothing in containerd: Go shims and runc start in a few milliseconds.

import { setsid } from "../linux/identity.ts";
import { type LaunchedInit, launchInit } from "../runtime/launch.ts";
import { runsInProcess } from "./runtime_choice.ts";

/** What the shim's entry point did before the shim proper was loaded. */
export interface ShimHead {
  /** True once this process is the leader of its own session. */
  sessionLeader: boolean;
  /** An init spawned for the bundle's spec, with new pipes as its stdio. */
  init?: LaunchedInit;
}

/** The value of Go-style flag `-name` (`-name v`, `--name v`, `-name=v`) in `args`. */
function flagValue(args: readonly string[], name: string): string | undefined {
  for (let index = 0; index < args.length; index++) {
    const match = /^--?([a-z-]+)(?:=(.*))?$/s.exec(args[index]);
    if (match?.[1] === name) return match[2] ?? args[index + 1];
  }
  return undefined;
}

/**
 * Leaves the daemon's session first (the init must not be born in it), then spawns the
 * init when the runtime will run in-process and the spec needs no terminal. Anything
 * unusual returns no init: Create then spawns it the ordinary way and reports errors.
 */
export function prelaunchShimInit(args: readonly string[]): ShimHead {
  const head: ShimHead = { sessionLeader: false };
  try {
    setsid();
    head.sessionLeader = true;
  } catch { /* already a session leader (started by hand with setsid) */ }
  try {
    const workdir = flagValue(args, "workdir");
    if (!workdir || !runsInProcess(flagValue(args, "runtime-binary") ?? "")) return head;
    const spec = JSON.parse(Deno.readTextFileSync(`${workdir}/config.json`));
    if (spec?.process?.terminal) return head;
    const namespaces: { type?: unknown; path?: unknown }[] = Array.isArray(spec?.linux?.namespaces)
      ? spec.linux.namespaces
      : [];
    const pid = namespaces.find((namespace) => namespace?.type === "pid");
    const path = typeof pid?.path === "string" && pid.path !== "" ? pid.path : undefined;
    head.init = launchInit({
      pidNamespace: pid ? (path ?? "new") : null,
      // stdin is a pipe either way; Create closes it when the task wants none.
      pipes: { stdin: true },
    });
  } catch { /* no init: Create does it */ }
  return head;
}
