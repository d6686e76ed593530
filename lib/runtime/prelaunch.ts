// What this teaches: a runtime start is two program start-ups in a row (the CLI, then
// its init), and both are slow for a VM-based language. They need not be in a row: as
// soon as the command line says `create`/`run` and names the bundle, the entry point
// spawns the init (early_init.ts, shared with the shim's entry point), and loads the
// rest of the runtime while the init boots. The init waits for its configuration on the
// sync socket, so starting it early changes nothing else.
// (runc needs no such trick: Go starts fast.) Mirrors, loosely, runc's main.go entry:
// parse the global flags and the command, then hand over; here the hand-over comes first.

import { parseCommandLine } from "./cli_flags.ts";
import { prelaunchForBundle } from "./early_init.ts";
import type { LaunchedInit } from "./launch.ts";

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
    return prelaunchForBundle(typeof line.values.bundle === "string" ? line.values.bundle : ".");
  } catch {
    return undefined;
  }
}
