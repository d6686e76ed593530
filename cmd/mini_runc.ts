// mini-runc: an OCI runtime with runc's command line (see lib/runtime/cli.ts).
// Mirrors runc's main.go. Run: deno run --allow-all cmd/mini_runc.ts --help
//
// For `create`/`run` the init is spawned before the rest of the runtime is even loaded,
// so the two start-ups overlap (lib/runtime/prelaunch.ts explains why).
import { prelaunchInit } from "../lib/runtime/prelaunch.ts";
import { abandonInit } from "../lib/runtime/launch.ts";
import { startRuntimeTrace } from "../lib/trace/runtime.ts";

await startRuntimeTrace(Deno.args); // --trace, or the trace the shim handed over (lib/trace)
const prelaunched = prelaunchInit(Deno.args);
// A computed specifier, so the runtime's graph loads after the prelaunch, not before it.
const runtimeCli = new URL("../lib/runtime/cli.ts", import.meta.url).href;
const { main }: typeof import("../lib/runtime/cli.ts") = await import(runtimeCli);
const status = await main(Deno.args, prelaunched);
if (prelaunched && !prelaunched.adopted) await abandonInit(prelaunched);
Deno.exit(status);
