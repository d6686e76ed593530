// What this teaches: the OCI runtime contract is a command line, but nothing forbids a
// shim from linking its runtime as a library when both are written in the same
// language. Each `mini-runc` invocation is a whole Deno start-up (~60-100 ms here,
// against a few ms for Go's runc), and a container's life needs four of them (create,
// start, delete, plus state/kill/ps as asked). When the configured runtime is this
// repository's mini-runc, the shim calls the same functions the CLI calls
// (lib/runtime/container.ts) inside its own process: same state directory, same log
// file, same errors. Any other runtime (runc, crun, a mini-runc elsewhere) is still
// run as a binary, so the command-line contract stays the one real containerd uses.
//
// Safety of doing `create` here, in a long-lived process: the runtime never enters the
// container's namespaces itself. It only points its next child into a new PID
// namespace (unshare(CLONE_NEWPID), spawn, setns back: lib/runtime/launch.ts) and the
// init does the rest in its own process; every descriptor the shim holds is
// close-on-exec, and the init closes whatever is left before it execs the command.
// The init itself is usually spawned at shim start-up already (prelaunch.ts). A
// terminal or an `exec` still go through the binary (rarer, and their console-socket
// and pid-file hand-offs stay as they are).
// Mirrors no single containerd file: containerd's shim always execs runc
// (go-runc); crun's libcrun is the real-world example of a runtime used as a library.

import type { LaunchedInit } from "../runtime/launch.ts";
import { currentTrace } from "../trace/active.ts";
import { OciRuntime, RuntimeError } from "./runtime.ts";
import { runsInProcess } from "./runtime_choice.ts";

export { IN_PROCESS_VARIABLE, MINI_RUNC_ENTRY_POINT } from "./runtime_choice.ts";

type RuntimeLibrary = typeof import("../runtime/container.ts");
type InspectLibrary = typeof import("../runtime/inspect.ts");
type LoggerClass = typeof import("../runtime/log.ts").Logger;

/** mini-runc's library, loaded on first use (not on the shim's start-up path). */
let loaded: Promise<{ container: RuntimeLibrary; inspect: InspectLibrary; Logger: LoggerClass }>;

function runtimeLibrary() {
  // Computed specifiers: Deno would load literal `import("…")` targets at shim start-up.
  const module = (name: string) => import(new URL(`../runtime/${name}`, import.meta.url).href);
  loaded ??= Promise.all([module("container.ts"), module("inspect.ts"), module("log.ts")])
    .then(([container, inspect, log]) => ({
      container: container as RuntimeLibrary,
      inspect: inspect as InspectLibrary,
      Logger: (log as typeof import("../runtime/log.ts")).Logger,
    }));
  return loaded;
}

/** mini-runc driven as a library: the same calls as its CLI, without the process. */
export class InProcessMiniRunc extends OciRuntime {
  /**
   * Starts loading mini-runc's modules now (the shim calls it once it has announced its
   * address, so the load overlaps the daemon's Create round trip instead of following it).
   */
  preload(): void {
    runtimeLibrary().catch(() => {/* reported by the first real call */});
  }

  async #call<T>(
    command: string,
    work: (
      library: Awaited<ReturnType<typeof runtimeLibrary>>,
      options: { root: string; logger: InstanceType<LoggerClass> },
    ) => T | Promise<T>,
  ): Promise<T> {
    const library = await runtimeLibrary();
    currentTrace()?.step(`mini-runc ${command} (in-process)`, `--root ${this.root}`); // --trace
    const logger = new library.Logger({ path: this.logPath, format: "json", debug: false });
    try {
      return await work(library, { root: this.root, logger });
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      // As the CLI would: the error goes to the runtime's JSON log too.
      logger.error(message);
      throw new RuntimeError(command, `${this.binary} ${command} failed: ${message}`);
    }
  }

  /**
   * `create` without a process of its own: the init is our child, with new pipes as
   * its stdio (the returned handle's streams, as with a spawned `runtime create`).
   * `prelaunched` is an init the shim spawned at start-up (prelaunch.ts); it has a
   * stdin pipe whatever `stdin` says.
   */
  async createInProcess(
    id: string,
    bundle: string,
    pidFile: string,
    stdin: boolean,
    prelaunched?: LaunchedInit,
  ): Promise<Deno.ChildProcess> {
    return await this.#call("create", async ({ container }, options) => {
      const created = await container.createContainer(options, id, {
        bundle,
        pidFile,
        pipes: { stdin },
        prelaunched,
      });
      return created.child;
    });
  }

  /** The exit status of an init created here (it is our direct child). */
  async initExitStatus(child: Deno.ChildProcess): Promise<number> {
    const { container } = await runtimeLibrary();
    return container.exitCodeOf(await child.status);
  }

  override async start(id: string): Promise<void> {
    await this.#call("start", ({ container }, options) => container.startContainer(options, id));
  }

  override async kill(id: string, signal: number, all = false): Promise<void> {
    await this.#call(
      "kill",
      ({ container }, options) => container.killContainer(options, id, signal, all),
    );
  }

  override async delete(id: string, force = false): Promise<void> {
    await this.#call(
      "delete",
      ({ container }, options) => container.deleteContainer(options, id, force),
    );
  }

  override async pause(id: string): Promise<void> {
    await this.#call(
      "pause",
      ({ container }, options) => container.pauseContainer(options, id, true),
    );
  }

  override async resume(id: string): Promise<void> {
    await this.#call(
      "resume",
      ({ container }, options) => container.pauseContainer(options, id, false),
    );
  }

  override async ps(id: string): Promise<number[]> {
    return await this.#call("ps", ({ inspect }, options) => inspect.containerPids(options, id));
  }

  override async state(id: string): Promise<{ status: string; pid: number }> {
    return await this.#call(
      "state",
      ({ container }, options) => container.containerState(options, id),
    );
  }
}

/**
 * The runtime a shim drives: mini-runc in-process when the binary is this repository's
 * mini-runc (unless MINI_SHIM_RUNTIME_IN_PROCESS=0), else the binary through its CLI.
 */
export function openRuntime(binary: string, root: string, logPath: string): OciRuntime {
  if (runsInProcess(binary)) {
    return new InProcessMiniRunc(binary, root, logPath);
  }
  return new OciRuntime(binary, root, logPath);
}
