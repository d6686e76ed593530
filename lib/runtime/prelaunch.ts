// What this teaches: a runtime start is two program start-ups in a row (the CLI, then
// its init), and both are slow for a VM-based language. They need not be in a row: as
// soon as the command line says `create`/`run` and config.json says whether a new PID
// namespace is wanted, the entry point spawns the init, and loads the rest of the
// runtime while the init boots. The init waits for its configuration on the sync socket,
// so starting it early changes nothing else. (runc needs no such trick: Go starts fast.)

import { parseCommandLine } from "./cli_flags.ts";
import { type LaunchedInit, launchInit } from "./launch.ts";

/**
 * Spawns the init for a `create`/`run` command line, or returns undefined (any other
 * command, a terminal, or anything unusual: the full command then does it, and reports
 * errors properly).
 */
export function prelaunchInit(args: string[]): LaunchedInit | undefined {
  try {
    const line = parseCommandLine(args);
    if (line.command !== "create" && line.command !== "run") return undefined;
    if (line.globals["systemd-cgroup"] || line.globals.help || line.globals.version) {
      return undefined;
    }
    const bundle = typeof line.values.bundle === "string" ? line.values.bundle : ".";
    const spec = JSON.parse(Deno.readTextFileSync(`${bundle}/config.json`));
    // A terminal needs the console socket connected before the spawn: not here.
    if (spec?.process?.terminal) return undefined;
    const namespaces: unknown[] = Array.isArray(spec?.linux?.namespaces)
      ? spec.linux.namespaces
      : [];
    const pid = namespaces.find((namespace) => (namespace as { type?: unknown })?.type === "pid") as
      | { path?: unknown }
      | undefined;
    const path = typeof pid?.path === "string" && pid.path !== "" ? pid.path : undefined;
    return launchInit({ pidNamespace: pid ? (path ?? "new") : null });
  } catch {
    return undefined;
  }
}
