// The entry point of `mini-ctr`, the ctr-like client. Everything else is in lib/ctr/.
import { runCtr } from "../lib/ctr/main.ts";

Deno.exit(await runCtr(Deno.args));
