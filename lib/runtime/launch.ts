// What this teaches: how a runtime written for a multithreaded VM starts a process inside
// a new PID namespace. It cannot fork itself, so it asks the kernel to put its *next
// child* in the namespace: unshare(CLONE_NEWPID) (or setns into an existing one) on the
// thread that spawns, spawn the init program, and step back. The child is born as PID 1
// of the new namespace, with one end of a socket pair to talk to its parent.
// Mirrors runc's libcontainer/process_linux.go (initProcess.start, setnsProcess.start)
// together with the clone dance of libcontainer/nsenter/nsexec.c.

import { CloneFlags, joinNamespace, openNamespace, setns, unshare } from "../linux/namespaces.ts";
import { closeFile, duplicate, socketPair } from "../linux/files.ts";
import { SyncChannel } from "./init/sync.ts";
import { consoleSocketVariable, initPipeVariable } from "./init/environment.ts";

/** The init program, run by the same Deno that runs mini-runc. */
export const initModule = new URL("./init/main.ts", import.meta.url);

/** How to start an init process. */
export interface LaunchOptions {
  /** Create a new PID namespace ("new"), join one (a path), or stay in ours (null). */
  pidNamespace: "new" | string | null;
  /** A connected console socket to hand down (terminal: true), or undefined. */
  consoleSocketFd?: number;
  /**
   * New pipes for the init's stdio, read by the caller through the child handle (a shim
   * that runs the runtime in-process). Without it the init inherits our own stdio,
   * which for the CLI are the pipes its caller gave it.
   */
  pipes?: { stdin: boolean };
}

/** A freshly spawned init: its process handle and our end of the sync socket. */
export interface LaunchedInit {
  child: Deno.ChildProcess;
  channel: SyncChannel;
  /** Set once a command took charge of it (the entry point ends unadopted inits). */
  adopted?: boolean;
}

/**
 * Deno flags for the init: no config file, lock file or type check to look for, and
 * nothing to prompt about. The init's whole job is to start fast and execve.
 */
const denoFlags = ["run", "--allow-all", "--no-config", "--no-lock", "--quiet"];

/** Spawns the init (stdio inherited from our caller) with its sync socket end. */
export function launchInit(options: LaunchOptions): LaunchedInit {
  const [parentEnd, childEndCloseOnExec] = socketPair();
  // dup() drops close-on-exec: only this copy travels to the child.
  const childEnd = duplicate(childEndCloseOnExec);
  closeFile(childEndCloseOnExec);
  const inheritedConsole = options.consoleSocketFd === undefined
    ? undefined
    : duplicate(options.consoleSocketFd);

  const env: Record<string, string> = {
    [initPipeVariable]: String(childEnd),
    DENO_NO_UPDATE_CHECK: "1",
  };
  if (inheritedConsole !== undefined) env[consoleSocketVariable] = String(inheritedConsole);

  let ownPidNamespace: number | undefined;
  let child: Deno.ChildProcess;
  try {
    if (options.pidNamespace !== null) {
      ownPidNamespace = openNamespace("self", "pid");
      if (options.pidNamespace === "new") unshare(CloneFlags.NEWPID);
      else joinNamespace(options.pidNamespace, "pid");
    }
    child = new Deno.Command(Deno.execPath(), {
      args: [...denoFlags, initModule.pathname],
      env,
      stdin: options.pipes ? (options.pipes.stdin ? "piped" : "null") : "inherit",
      stdout: options.pipes ? "piped" : "inherit",
      stderr: options.pipes ? "piped" : "inherit",
    }).spawn();
  } finally {
    if (ownPidNamespace !== undefined) {
      // Our own later children (hooks, ps) belong in our namespace again.
      setns(ownPidNamespace, CloneFlags.NEWPID);
      closeFile(ownPidNamespace);
    }
    closeFile(childEnd);
    if (inheritedConsole !== undefined) closeFile(inheritedConsole);
  }
  return { child, channel: new SyncChannel(parentEnd) };
}

/** Ends an init that will not be used: close its socket (it sees EOF), kill, reap. */
export async function abandonInit(launched: LaunchedInit): Promise<void> {
  launched.channel.close();
  try {
    launched.child.kill("SIGKILL");
  } catch {
    // Already gone.
  }
  await launched.child.status;
}
