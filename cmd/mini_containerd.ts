// The entry point of `mini-containerd`, the daemon that mirrors containerd.
// Only flag parsing lives here; the daemon itself is lib/containerd/daemon.ts.

import { parseArgs } from "node:util";
import {
  type DaemonConfig,
  DEFAULT_CONFIG,
  loadConfigFile,
  parseLogLevel,
} from "../lib/containerd/config.ts";
import { ContainerdDaemon } from "../lib/containerd/daemon.ts";
import { takeDaemonTraceFlag } from "../lib/trace/hooks.ts";

const usage = `Usage: mini-containerd [options]

Options:
  --root DIR         persistent data (default ${DEFAULT_CONFIG.root})
  --state DIR        runtime state (default ${DEFAULT_CONFIG.state})
  --address, -a SOCK API socket (default ${DEFAULT_CONFIG.address})
  --config, -c FILE  containerd-style TOML config (root, state, [grpc] address/gid, [debug] level)
  --log-level, -l L  debug, info, warn or error (default info)
  --trace            print every request's steps on stderr (MINI_TRACE=1 too)
  --help, -h         show this help`;

async function main(): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: await takeDaemonTraceFlag(Deno.args), // --trace: lib/trace
      options: {
        root: { type: "string" },
        state: { type: "string" },
        address: { type: "string", short: "a" },
        config: { type: "string", short: "c" },
        "log-level": { type: "string", short: "l" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
    });
  } catch (error) {
    console.error(`mini-containerd: ${error instanceof Error ? error.message : error}\n\n${usage}`);
    return 2;
  }
  const { values } = parsed;
  if (values.help) {
    console.log(usage);
    return 0;
  }
  let daemon: ContainerdDaemon;
  try {
    const fromFile = values.config ? await loadConfigFile(values.config) : {};
    const config: DaemonConfig = { ...DEFAULT_CONFIG, ...fromFile };
    if (values.root) config.root = values.root;
    if (values.state) config.state = values.state;
    if (values.address) config.address = values.address;
    if (values["log-level"]) config.logLevel = parseLogLevel(values["log-level"]);
    daemon = await ContainerdDaemon.start(config);
  } catch (error) {
    console.error(`mini-containerd: ${error instanceof Error ? error.message : error}`);
    return 1;
  }
  const stopped = Promise.withResolvers<void>();
  const stop = () => stopped.resolve();
  Deno.addSignalListener("SIGTERM", stop);
  Deno.addSignalListener("SIGINT", stop);
  await stopped.promise;
  await daemon.stop();
  return 0;
}

Deno.exit(await main());
