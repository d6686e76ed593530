// What this teaches: the one step both early spawns share (mini-runc's entry point,
// prelaunch.ts, and the shim's, lib/shim/prelaunch.ts): read the bundle's config.json,
// decide the PID namespace, spawn the init. It imports nothing but launch.ts, because
// both callers run it before loading anything else: every module loaded first delays
// the init it spawns. (runc needs no such trick: Go starts fast.)
// Mirrors nothing in runc; the closest is runc's nsexec, which also starts the init's
// work before the Go runtime of `runc init` is up (libcontainer/nsenter/nsexec.c).

import { type LaunchedInit, launchInit, type LaunchOptions } from "./launch.ts";

/**
 * Spawns the init for the spec in `bundle`/config.json, or returns undefined when the
 * spec wants a terminal (the console socket must be connected before the spawn: not
 * here) or anything is unusual: the full command then spawns it and reports errors.
 */
export function prelaunchForBundle(
  bundle: string,
  pipes?: LaunchOptions["pipes"],
): LaunchedInit | undefined {
  try {
    const spec = JSON.parse(Deno.readTextFileSync(`${bundle}/config.json`));
    if (spec?.process?.terminal) return undefined;
    const namespaces: { type?: unknown; path?: unknown }[] = Array.isArray(spec?.linux?.namespaces)
      ? spec.linux.namespaces
      : [];
    const pid = namespaces.find((namespace) => namespace?.type === "pid");
    const path = typeof pid?.path === "string" && pid.path !== "" ? pid.path : undefined;
    return launchInit({ pidNamespace: pid ? (path ?? "new") : null, pipes });
  } catch {
    return undefined;
  }
}
