// The entry point of `mini-containerd-shim`, started by mini-containerd once per
// container (`ps axf` shows it under the daemon). Everything else is in lib/shim/.
//
// The container's init is spawned before the rest of the shim is even loaded, so the
// two Deno start-ups overlap (lib/shim/prelaunch.ts explains why).
import { prelaunchShimInit } from "../lib/shim/prelaunch.ts";

const head = prelaunchShimInit(Deno.args);
// A computed specifier: Deno loads a literal `import("…")` with the entry point, before
// its first line runs, which would delay the prelaunch above by the shim's whole graph.
const shimMain = new URL("../lib/shim/main.ts", import.meta.url).href;
const { runShim }: typeof import("../lib/shim/main.ts") = await import(shimMain);
Deno.exit(await runShim(Deno.args, head));
