// What this teaches: `exec` starts one more process inside a container that already
// runs. No new namespaces and no rootfs work: the new init is born in the container's PID
// namespace (we setns before spawning it), joins the other namespaces and the cgroup,
// takes the process's identity and privileges, and execve()s.
// Mirrors runc's exec.go and libcontainer/process_linux.go (setnsProcess) with
// setns_init_linux.go.

import { closeFile } from "../linux/files.ts";
import { cgroupManagerAt } from "./cgroups/mod.ts";
import { exitCodeOf, forwardSignals, type RuntimeOptions } from "./container.ts";
import { abandonInit, type LaunchedInit, launchInit } from "./launch.ts";
import { SpecError } from "./spec.ts";
import { containerStatus, loadRecord, writeFileAtomic } from "./state.ts";
import { proxyTerminal, receiveTerminal } from "./terminal_proxy.ts";
import type { InitConfig, Process } from "./types.ts";
import { initTraceContext } from "../trace/runtime.ts";
import { connectUnix } from "../linux/terminal.ts";
import { socketPair } from "../linux/files.ts";

/** Options of `mini-runc exec`. */
export interface ExecOptions {
  detach: boolean;
  pidFile?: string;
  consoleSocket?: string;
  preserveFds?: number;
}

function absolutePath(path: string): string {
  return path.startsWith("/") ? path : `${Deno.cwd()}/${path}`;
}

/** Checks an exec process description (from --process or built from flags). */
export function validateExecProcess(process: Process): void {
  if (!Array.isArray(process.args) || process.args.length === 0) {
    throw new SpecError("exec: process.args must name the program to run");
  }
  if (typeof process.cwd !== "string" || !process.cwd.startsWith("/")) {
    throw new SpecError(`exec: process.cwd must be an absolute path`);
  }
  if (!process.user || !Number.isInteger(process.user.uid) || !Number.isInteger(process.user.gid)) {
    throw new SpecError(`exec: process.user needs numeric "uid" and "gid"`);
  }
}

/**
 * `mini-runc exec`: runs `process` in container `id`. Returns the exit status (0 right
 * away with `detach`: the process then belongs to whoever reaps orphans, the shim).
 */
export async function execInContainer(
  runtime: RuntimeOptions,
  id: string,
  process: Process,
  options: ExecOptions,
): Promise<number> {
  validateExecProcess(process);
  const record = loadRecord(runtime.root, id);
  const status = containerStatus(runtime.root, record);
  if (status === "stopped") throw new Error(`cannot exec in a stopped container`);
  if (status === "paused") throw new Error(`cannot exec in a paused container`);

  let toInit: number | undefined;
  let ours: number | undefined;
  if (process.terminal) {
    if (options.consoleSocket) toInit = connectUnix(absolutePath(options.consoleSocket));
    else if (!options.detach) [ours, toInit] = socketPair();
    else {
      throw new SpecError(
        "cannot allocate tty if mini-runc will detach without setting console socket",
      );
    }
  } else if (options.consoleSocket) {
    throw new SpecError("--console-socket was given but the process has no terminal");
  }

  const launched: LaunchedInit = launchInit({
    pidNamespace: record.namespaces.includes("pid") ? `/proc/${record.initPid}/ns/pid` : null,
    consoleSocketFd: toInit,
  });
  if (toInit !== undefined) closeFile(toInit);
  try {
    const config: InitConfig = {
      mode: "exec",
      id,
      bundle: record.bundle,
      rootfs: record.rootfs,
      containerPid: record.initPid,
      spec: record.spec,
      process,
      namespaces: record.namespaces.map((type) => ({ type })),
      cgroup: record.cgroup,
      noPivot: false,
      preserveFds: options.preserveFds ?? 0,
      runtimeHooks: false,
      trace: initTraceContext(), // --trace: the exec's init records its steps (lib/trace)
    };
    launched.channel.send({ type: "config", config });
    cgroupManagerAt(record.cgroup).apply(launched.child.pid);
    launched.channel.send({ type: "go" });
    launched.channel.expect("ready", "the exec init");
    launched.channel.close();
  } catch (error) {
    await abandonInit(launched);
    if (ours !== undefined) closeFile(ours);
    throw error;
  }
  if (options.pidFile) writeFileAtomic(absolutePath(options.pidFile), String(launched.child.pid));
  const terminal = ours === undefined ? undefined : receiveTerminal(ours);
  if (options.detach) {
    launched.child.unref();
    return 0;
  }
  const stopForwarding = forwardSignals(launched.child.pid);
  const proxy = terminal === undefined ? undefined : proxyTerminal(terminal);
  const exit = await launched.child.status;
  await proxy;
  stopForwarding();
  return exitCodeOf(exit);
}
