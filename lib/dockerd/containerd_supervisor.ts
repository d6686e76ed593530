// What this teaches: dockerd does not run containers itself; it needs a containerd.
// Given `--containerd SOCKET` it uses that one; otherwise it starts its own as a child
// process with its own root, state and socket under dockerd's directories, waits until
// it answers, and watches it: if containerd dies, dockerd logs it and starts it again
// (the containers live on in their shims and are picked up by the new containerd).
// The child's PID goes to <exec-root>/containerd/containerd.pid; a dockerd restarted
// after a crash (kill -9) finds the old containerd still alive there and adopts it
// instead of starting a second one.
// Mirrors moby's libcontainerd/supervisor/remote_daemon.go (Start, startContainerd,
// monitorDaemon, getContainerdPid) with its `--root <data-root>/containerd/daemon
// --state <exec-root>/containerd/daemon --address <exec-root>/containerd/containerd.sock`.

import { join } from "node:path";
import { ContainerdClient } from "../client/client.ts";
import { closeOnExecFrom } from "../linux/files.ts";

/** The logging the supervisor does. */
export interface SupervisorLog {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/** Where the supervised containerd keeps things. */
export interface SupervisedPaths {
  /** `--root`: `<data-root>/containerd` */
  root: string;
  /** `--state`: `<exec-root>/containerd` */
  state: string;
  /** `--address`: `<exec-root>/containerd/containerd.sock` */
  address: string;
  /** `<exec-root>/containerd/containerd.pid` */
  pidFile: string;
}

/** The paths of a supervised containerd under dockerd's data-root and exec-root. */
export function supervisedPaths(dataRoot: string, execRoot: string): SupervisedPaths {
  const state = join(execRoot, "containerd");
  return {
    root: join(dataRoot, "containerd"),
    state,
    address: join(state, "containerd.sock"),
    pidFile: join(state, "containerd.pid"),
  };
}

const PROGRAM = new URL("../../cmd/mini_containerd.ts", import.meta.url).pathname;
const START_TIMEOUT_MS = 30_000;
const HEALTH_INTERVAL_MS = 500;

/** Starts, watches and restarts one mini-containerd. */
export class ContainerdSupervisor {
  #child?: Deno.ChildProcess;
  #pid?: number;
  #stopping = false;
  #restarts = 0;
  #watch?: ReturnType<typeof setInterval>;
  #logLevel: string;

  constructor(
    readonly paths: SupervisedPaths,
    private readonly log: () => SupervisorLog,
    logLevel = "info",
  ) {
    this.#logLevel = logLevel === "fatal" ? "error" : logLevel;
  }

  /** The PID of the containerd being supervised. */
  get pid(): number | undefined {
    return this.#pid;
  }

  /** Adopts a still-running containerd from an earlier dockerd, or starts a new one; waits until it answers. */
  async start(): Promise<void> {
    await Deno.mkdir(this.paths.root, { recursive: true, mode: 0o711 });
    await Deno.mkdir(this.paths.state, { recursive: true, mode: 0o711 });
    const previous = await this.#previousPid();
    if (previous !== undefined && await this.#answers()) {
      this.log().info("libcontainerd: containerd is still running", { pid: previous });
      this.#pid = previous;
    } else {
      await this.#spawn();
    }
    this.#watchHealth();
  }

  async #previousPid(): Promise<number | undefined> {
    try {
      const pid = Number((await Deno.readTextFile(this.paths.pidFile)).trim());
      if (!Number.isInteger(pid) || pid <= 0) return undefined;
      const cmdline = await Deno.readTextFile(`/proc/${pid}/cmdline`);
      // Guards against PID reuse: it must be a mini-containerd on our socket.
      if (cmdline.includes("mini_containerd") && cmdline.includes(this.paths.address)) return pid;
    } catch { /* no file, or no such process */ }
    return undefined;
  }

  async #spawn(): Promise<void> {
    const args = [
      "run",
      "--allow-all",
      "--quiet",
      PROGRAM,
      "--root",
      this.paths.root,
      "--state",
      this.paths.state,
      "--address",
      this.paths.address,
      "--log-level",
      this.#logLevel,
    ];
    // Descriptors opened by node:http (the API socket, client connections) are not
    // close-on-exec: without this the child would inherit them, and after a dockerd
    // crash clients would connect to a listening socket that nobody accepts on.
    try {
      closeOnExecFrom(3);
    } catch (error) {
      this.log().warn("cannot mark descriptors close-on-exec", { error: String(error) });
    }
    const child = new Deno.Command(Deno.execPath(), {
      args,
      stdin: "null",
      stdout: "inherit",
      stderr: "inherit",
    }).spawn();
    this.#child = child;
    this.#pid = child.pid;
    // Through a temp file: a dockerd starting meanwhile never reads half a PID.
    const temporary = `${this.paths.pidFile}.tmp`;
    await Deno.writeTextFile(temporary, String(child.pid));
    await Deno.rename(temporary, this.paths.pidFile);
    this.log().info("started new containerd process", {
      pid: child.pid,
      address: this.paths.address,
    });
    child.status.then((status) => {
      if (this.#child !== child) return;
      this.#child = undefined;
      if (this.#stopping) return;
      this.log().error("containerd exited", {
        pid: child.pid,
        code: status.code,
        signal: status.signal ?? "",
      });
    });
    const deadline = Date.now() + START_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (await this.#answers()) return;
      if (this.#child !== child) {
        throw new Error("containerd exited during start-up: see its log above");
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(
      `containerd did not answer on ${this.paths.address} within ${START_TIMEOUT_MS / 1000} s`,
    );
  }

  async #answers(): Promise<boolean> {
    const client = new ContainerdClient(this.paths.address);
    try {
      await client.version();
      return true;
    } catch {
      return false;
    } finally {
      client.close();
    }
  }

  #alive(pid: number): boolean {
    try {
      Deno.statSync(`/proc/${pid}`);
      const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
      return !/\) Z /.test(stat); // a zombie is dead for our purposes
    } catch {
      return false;
    }
  }

  /** Checks the process regularly; a dead containerd is restarted (dockerd's monitorDaemon). */
  #watchHealth(): void {
    let checking = false;
    this.#watch = setInterval(async () => {
      if (checking || this.#stopping) return;
      checking = true;
      try {
        const pid = this.#pid;
        if (pid !== undefined && this.#alive(pid)) return;
        this.#restarts++;
        this.log().warn("containerd is not running, restarting it", { restart: this.#restarts });
        await Deno.remove(this.paths.address).catch(() => {});
        await this.#spawn();
      } catch (error) {
        this.log().error("failed restarting containerd", {
          error: error instanceof Error ? error.message : String(error),
        });
      } finally {
        checking = false;
      }
    }, HEALTH_INTERVAL_MS);
    Deno.unrefTimer(this.#watch as unknown as number);
  }

  /** Stops watching and ends containerd (SIGTERM, then SIGKILL after `timeoutMs`). */
  async stop(timeoutMs = 10_000): Promise<void> {
    this.#stopping = true;
    if (this.#watch !== undefined) clearInterval(this.#watch);
    const pid = this.#pid;
    if (pid === undefined) return;
    try {
      Deno.kill(pid, "SIGTERM");
    } catch {
      return;
    }
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline && this.#alive(pid)) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    if (this.#alive(pid)) {
      this.log().warn("containerd did not stop in time, killing it", { pid });
      try {
        Deno.kill(pid, "SIGKILL");
      } catch { /* gone */ }
    }
    if (this.#child) await this.#child.status.catch(() => {});
    await Deno.remove(this.paths.pidFile).catch(() => {});
  }
}
