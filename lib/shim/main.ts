// What this teaches: the life of a shim process, from its command line to its exit.
// It reads Go-style flags (`-namespace NS -id ID -address SOCK -workdir DIR ...`, the
// line `ps axf` shows), sends its stderr to `<bundle>/shim.log` (the daemon that
// started it may die, and a write to a dead pipe must not kill the shim), starts its
// own session with setsid() so a signal to the daemon's process group or session does
// not reach it, becomes the subreaper of the container processes, serves the task API
// on its socket, writes its address and pid into the bundle (how a restarted daemon
// finds it), announces the address on stdout and then lets go of stdout too.
// Mirrors containerd's `pkg/shim/shim.go` (run, serve) and the v1
// `cmd/containerd-shim/main_unix.go` (flags, setsid, subreaper). The entry point may
// have left the session and spawned the container's init already (prelaunch.ts).

import { Router, serveUnix } from "../api/server.ts";
import { Logger } from "../containerd/log.ts";
import { closeFile, duplicateTo, openFile, OpenFlags } from "../linux/files.ts";
import { setsid } from "../linux/identity.ts";
import { bundlePaths, shimSocketPath } from "./bundle.ts";
import { RemotePublisher } from "./publisher.ts";
import { becomeSubreaper } from "./reaper.ts";
import { InProcessMiniRunc } from "./runtime_in_process.ts";
import { registerShimService } from "./server.ts";
import { TaskService } from "./service.ts";
import type { ShimArguments } from "./types.ts";
import { traceFromEnvironment } from "../trace/hooks.ts";
import type { ShimHead } from "./prelaunch.ts";

const usage = `Usage: mini-containerd-shim -namespace NS -id ID -address SOCKET -workdir BUNDLE
                            -runtime-binary PATH -runtime-root DIR [-debug]

One shim per container, started by mini-containerd; not meant to be run by hand.`;

/** Parses the shim's Go-style flags (`-name value`, `--name value` or `-name=value`). */
export function parseShimArguments(args: readonly string[]): ShimArguments {
  const values = new Map<string, string>();
  let debug = false;
  for (let index = 0; index < args.length; index++) {
    const match = /^--?([a-z-]+)(?:=(.*))?$/s.exec(args[index]);
    if (!match) throw new Error(`unexpected argument "${args[index]}"\n\n${usage}`);
    const [, name, inline] = match;
    if (name === "debug") {
      debug = inline === undefined || inline === "true";
      continue;
    }
    const value = inline ?? args[++index];
    if (value === undefined) throw new Error(`flag -${name} needs a value\n\n${usage}`);
    values.set(name, value);
  }
  const required = (name: string) => {
    const value = values.get(name);
    if (!value) throw new Error(`flag -${name} is required\n\n${usage}`);
    return value;
  };
  const known = ["namespace", "id", "address", "workdir", "runtime-binary", "runtime-root"];
  for (const name of values.keys()) {
    if (!known.includes(name)) {
      throw new Error(`flag provided but not defined: -${name}\n\n${usage}`);
    }
  }
  return {
    namespace: required("namespace"),
    id: required("id"),
    address: required("address"),
    workdir: required("workdir"),
    runtimeBinary: required("runtime-binary"),
    runtimeRoot: required("runtime-root"),
    debug,
  };
}

/** Points a standard descriptor (1 or 2) at a file, appending. */
function redirectDescriptor(target: number, path: string): void {
  const fd = openFile(
    path,
    OpenFlags.WRONLY | OpenFlags.CREAT | OpenFlags.APPEND | OpenFlags.CLOEXEC,
    0o640,
  );
  duplicateTo(fd, target);
  closeFile(fd);
}

/** Runs the shim until the daemon asks it to shut down; returns the exit code. */
export async function runShim(argv: readonly string[], head?: ShimHead): Promise<number> {
  let args: ShimArguments;
  try {
    args = parseShimArguments(argv);
  } catch (error) {
    console.error(`mini-containerd-shim: ${error instanceof Error ? error.message : error}`);
    return 2;
  }
  const paths = bundlePaths(args.workdir);
  redirectDescriptor(2, paths.shimLog);
  const log = new Logger(args.debug ? "debug" : "info");
  if (!head?.sessionLeader) {
    try {
      setsid();
    } catch (error) {
      // Already a session leader (started by hand with setsid): nothing to detach from.
      log.warn("setsid failed", { error: String(error) });
    }
  }
  becomeSubreaper();
  const trace = await traceFromEnvironment({ consume: true }); // --trace: the daemon's request (lib/trace)
  trace?.step("setsid, child subreaper", "the shim outlives the daemon; orphans come to it");

  const publisher = new RemotePublisher(args.address, (message) => log.warn(message));
  const service = new TaskService(args, publisher, log, head?.init);
  const router = new Router();
  const stopping = new AbortController();
  registerShimService(router, service, stopping.signal);
  const socketPath = await shimSocketPath(args.address, args.namespace, args.id);
  await Deno.mkdir(socketPath.slice(0, socketPath.lastIndexOf("/")), {
    recursive: true,
    mode: 0o711,
  });
  const server = await serveUnix(router, { socketPath, mode: 0o600 });
  const address = `unix://${socketPath}`;
  await Deno.writeTextFile(paths.shimPid, `${Deno.pid}`);
  await Deno.writeTextFile(paths.address, address);
  log.info("shim serving", {
    namespace: args.namespace,
    id: args.id,
    address,
    pid: Deno.pid,
    // Milliseconds since this Deno process's runtime started: the price of a shim.
    startupMs: performance.now().toFixed(1),
  });

  trace?.step("serving the task API", `${address} (up ${performance.now().toFixed(1)} ms)`);
  // The daemon reads this one line; after it, stdout goes to the log as well.
  try {
    await Deno.stdout.write(new TextEncoder().encode(`${address}\n`));
  } catch (error) {
    log.warn("cannot announce the address (the daemon went away?)", { error: String(error) });
  }
  redirectDescriptor(1, paths.shimLog);
  if (service.runtime instanceof InProcessMiniRunc) service.runtime.preload();

  await service.shutdownRequested;
  log.info("shim shutting down");
  await service.abandonPrelaunched();
  await publisher.flush(2_000);
  stopping.abort();
  await server.shutdown();
  await Deno.remove(socketPath).catch(() => {});
  return 0;
}
