// The entry point of `mini-containerd-shim`, started by mini-containerd once per
// container (`ps axf` shows it under the daemon). Everything else is in lib/shim/.
import { runShim } from "../lib/shim/main.ts";

Deno.exit(await runShim(Deno.args));
