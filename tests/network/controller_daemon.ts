// A stand-in daemon for the crash-recovery test: opens a network controller, creates the
// sandboxes it is given (with published ports), prints them as JSON, then waits to be
// killed with SIGKILL, leaving its namespaces, veths and addresses behind.
import { NetworkController } from "../../lib/network/controller.ts";
import type { CreateSandboxRequest, NetworkDaemonConfig } from "../../lib/network/types.ts";

const config = JSON.parse(Deno.args[0]) as NetworkDaemonConfig;
const requests = JSON.parse(Deno.args[1]) as CreateSandboxRequest[];
const controller = await NetworkController.open(config);
const sandboxes = [];
for (const request of requests) sandboxes.push(await controller.createSandbox(request));
console.log(JSON.stringify(sandboxes));
await new Promise(() => {});
