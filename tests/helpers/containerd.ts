// What this teaches: how the integration tests run a real mini-containerd: as its
// own process, on temp roots and its own socket, so several tests (and several
// daemons) run side by side, and every test ends the daemon it started, by PID.

import { join } from "node:path";
import { ContainerdClient } from "../../lib/client/client.ts";

const repoRoot = new URL("../../", import.meta.url).pathname;

/** Paths of one test daemon. */
export interface TestDaemonPaths {
  base: string;
  root: string;
  state: string;
  address: string;
}

/** A mini-containerd started for a test. */
export class TestContainerd {
  #process?: Deno.ChildProcess;
  #stderr = "";

  private constructor(readonly paths: TestDaemonPaths) {}

  /** Creates temp roots and starts the daemon; resolves once its socket answers. */
  static async start(paths?: Partial<TestDaemonPaths>): Promise<TestContainerd> {
    const base = paths?.base ?? await Deno.makeTempDir({ prefix: "mini-containerd-test-" });
    const daemon = new TestContainerd({
      base,
      root: paths?.root ?? join(base, "root"),
      state: paths?.state ?? join(base, "state"),
      address: paths?.address ?? join(base, "containerd.sock"),
    });
    await daemon.restart();
    return daemon;
  }

  get pid(): number {
    if (!this.#process) throw new Error("daemon not running");
    return this.#process.pid;
  }

  /** Whatever the daemon wrote to stderr so far (its log). */
  get log(): string {
    return this.#stderr;
  }

  /** Starts the daemon process (again) on the same paths. */
  async restart(extraArgs: string[] = []): Promise<void> {
    const { root, state, address } = this.paths;
    this.#process = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-all",
        "--quiet",
        join(repoRoot, "cmd/mini_containerd.ts"),
        "--root",
        root,
        "--state",
        state,
        "--address",
        address,
        ...extraArgs,
      ],
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    this.#collectLog(this.#process.stderr);
    await this.#waitUntilServing();
  }

  async #collectLog(stream: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    for await (const chunk of stream) this.#stderr += decoder.decode(chunk, { stream: true });
  }

  async #waitUntilServing(): Promise<void> {
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      const client = this.client();
      try {
        await client.version();
        return;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 50));
      } finally {
        client.close();
      }
      const status = await Promise.race([
        this.#process!.status,
        new Promise((resolve) => setTimeout(() => resolve(undefined), 0)),
      ]);
      if (status !== undefined) {
        throw new Error(`mini-containerd exited during start-up:\n${this.#stderr}`);
      }
    }
    throw new Error(`mini-containerd did not answer within 20 s:\n${this.#stderr}`);
  }

  /** A client on this daemon's socket (close it when done). */
  client(namespace = "default"): ContainerdClient {
    return new ContainerdClient(this.paths.address, namespace);
  }

  /** Runs mini-ctr against this daemon and returns its output and exit code. */
  async ctr(args: string[], options: { stdin?: Uint8Array } = {}) {
    const command = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-all",
        "--quiet",
        join(repoRoot, "cmd/mini_ctr.ts"),
        "--address",
        this.paths.address,
        ...args,
      ],
      stdin: options.stdin ? "piped" : "null",
      stdout: "piped",
      stderr: "piped",
    });
    const child = command.spawn();
    if (options.stdin) {
      const writer = child.stdin.getWriter();
      await writer.write(options.stdin);
      await writer.close();
    }
    const output = await child.output();
    return {
      code: output.code,
      stdout: new TextDecoder().decode(output.stdout),
      stderr: new TextDecoder().decode(output.stderr),
    };
  }

  /** Ends the daemon with a signal (SIGKILL to simulate a crash) and waits for it. */
  async kill(signal: Deno.Signal = "SIGTERM"): Promise<void> {
    if (!this.#process) return;
    try {
      this.#process.kill(signal);
    } catch { /* already gone */ }
    await this.#process.status;
    this.#process = undefined;
  }

  /** Stops the daemon and removes its temp roots. */
  async cleanup(): Promise<void> {
    await this.kill("SIGTERM");
    await Deno.remove(this.paths.base, { recursive: true }).catch(() => {});
  }
}

/** Path of the repository root, for tests that run scripts or commands. */
export const REPO_ROOT = repoRoot;
