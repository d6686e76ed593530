// What this teaches: how the integration tests run a real mini-dockerd: as its own
// process on temp roots and its own socket (so tests run side by side), letting it
// start its own mini-containerd child exactly as in production, and talking to it the
// way users do: through the real docker CLI (`DOCKER_HOST=unix://…`), mini-docker, or
// raw Engine API requests. Cleanup (tests/helpers/cleanup.ts) ends everything the test
// started *by PID* (dockerd, its containerd, and any shim whose command line names this
// test's directory) and unmounts whatever is still mounted below the test's directory. Unless a test sets
// daemon.json's "bridge" itself, its daemon gets a default bridge of its own (a unique
// name and a /24 no route overlaps) instead of the stock `mini0`, so daemons running
// side by side never share one, and cleanup deletes it: the host is left as it was.

import { join } from "node:path";
import { writeBaseImageArchive } from "../../lib/base_image/build.ts";
import { formatIPv4 } from "../../lib/network/ipv4.ts";
import { pickTestSubnet, testTag } from "../network/support.ts";
import { deleteLinkNamed, endProcesses, sweepAndRemove } from "./cleanup.ts";

// Older tests import these from here; they live in ./cleanup.ts.
export { processesMentioning, unmountBelow } from "./cleanup.ts";

const repoRoot = new URL("../../", import.meta.url).pathname;

/** The paths of one test daemon. */
export interface TestDockerdPaths {
  base: string;
  dataRoot: string;
  execRoot: string;
  socket: string;
  pidfile: string;
  configFile: string;
  /** The supervised mini-containerd's socket. */
  containerdSocket: string;
}

/** Options of TestDockerd.start(). */
export interface TestDockerdOptions {
  /**
   * daemon.json contents (an object is JSON-encoded; a string is written as is). Default `{}`.
   * An object without "bridge" gets this test's own default bridge added.
   */
  config?: Record<string, unknown> | string;
  /** Extra command-line flags. */
  args?: string[];
  /** Use this mini-containerd socket instead of a supervised child (`--containerd`). */
  containerd?: string;
  /** Reuse the directory of an earlier daemon (restart tests). */
  base?: string;
}

/** The output of a command run by a test. */
export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

let baseImageArchive: Promise<string> | undefined;

/** The offline busybox image as an OCI archive (built once per test process). */
export function busyboxArchive(): Promise<string> {
  baseImageArchive ??= (async () => {
    const dir = await Deno.makeTempDir({ prefix: "mini-busybox-" });
    const path = join(dir, "busybox.tar");
    await writeBaseImageArchive(path);
    return path;
  })();
  return baseImageArchive;
}

/**
 * How long one client command may run. No test command needs minutes; one that hangs
 * (a lost exit, a stream never closed) must fail the test with the daemon's log
 * instead of stalling the whole suite.
 */
const COMMAND_TIMEOUT_MS = 240_000;

/** A command of a test that did not finish in time (it was killed). */
export class CommandTimedOut extends Error {}

/** Runs a program and collects its output; kills it and throws CommandTimedOut if it hangs. */
export async function run(
  program: string,
  args: string[],
  options: { stdin?: Uint8Array; env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<CommandResult> {
  const child = new Deno.Command(program, {
    args,
    env: options.env,
    stdin: options.stdin ? "piped" : "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const timeoutMs = options.timeoutMs ?? COMMAND_TIMEOUT_MS;
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    try {
      child.kill("SIGKILL");
    } catch { /* it just ended */ }
  }, timeoutMs);
  let output: Deno.CommandOutput | undefined;
  try {
    if (options.stdin) {
      const writer = child.stdin.getWriter();
      await writer.write(options.stdin);
      await writer.close();
    }
    output = await child.output();
  } catch (error) {
    // Killed while we still wrote its stdin: report the timeout, not the broken pipe.
    if (!timedOut) throw error;
  } finally {
    clearTimeout(timer);
  }
  if (timedOut || output === undefined) {
    throw new CommandTimedOut(
      `\`${program} ${args.join(" ")}\` did not finish within ${timeoutMs / 1000} s (killed)`,
    );
  }
  return {
    code: output.code,
    stdout: new TextDecoder().decode(output.stdout),
    stderr: new TextDecoder().decode(output.stderr),
  };
}

/** A mini-dockerd started for a test. */
export class TestDockerd {
  #process?: Deno.ChildProcess;
  #log = "";
  #http?: Deno.HttpClient;
  /** The default bridge created for this test (deleted by cleanup). */
  #ownBridge?: string;

  private constructor(readonly paths: TestDockerdPaths, private options: TestDockerdOptions) {}

  /** The paths a daemon on `base` uses. */
  static pathsFor(base: string): TestDockerdPaths {
    return {
      base,
      dataRoot: join(base, "data"),
      execRoot: join(base, "exec"),
      socket: join(base, "docker.sock"),
      pidfile: join(base, "docker.pid"),
      configFile: join(base, "daemon.json"),
      containerdSocket: join(base, "exec", "containerd", "containerd.sock"),
    };
  }

  /** Creates temp roots, writes daemon.json and starts the daemon; resolves once /_ping answers. */
  static async start(options: TestDockerdOptions = {}): Promise<TestDockerd> {
    // Short paths: Unix socket paths are limited to 108 bytes.
    const base = options.base ?? await Deno.makeTempDir({ dir: "/tmp", prefix: "mdk-" });
    const daemon = new TestDockerd(TestDockerd.pathsFor(base), options);
    try {
      await daemon.#writeConfig(options.config);
      await daemon.restart();
    } catch (error) {
      await daemon.cleanup();
      throw error;
    }
    return daemon;
  }

  /**
   * Starts a daemon that is expected to refuse to start (bad daemon.json, bad flags):
   * returns its exit code and output, and removes its directory.
   */
  static async startExpectingFailure(options: TestDockerdOptions = {}): Promise<CommandResult> {
    const base = await Deno.makeTempDir({ dir: "/tmp", prefix: "mdk-" });
    const daemon = new TestDockerd(TestDockerd.pathsFor(base), options);
    try {
      await daemon.#writeConfig(options.config);
      const result = await run(Deno.execPath(), daemon.#commandLine(), {});
      return result;
    } finally {
      await daemon.cleanup();
    }
  }

  async #writeConfig(config: TestDockerdOptions["config"]): Promise<void> {
    if (typeof config === "string") {
      await Deno.writeTextFile(this.paths.configFile, config);
      return;
    }
    const settings = { ...(config ?? {}) };
    if (!("bridge" in settings)) {
      const subnet = pickTestSubnet();
      this.#ownBridge = `${testTag()}b`;
      settings.bridge = this.#ownBridge;
      settings.bip = `${formatIPv4(subnet.network + 1)}/${subnet.prefixLength}`;
    }
    await Deno.writeTextFile(this.paths.configFile, JSON.stringify(settings));
  }

  #commandLine(extraArgs: string[] = []): string[] {
    return [
      "run",
      "--allow-all",
      "--quiet",
      join(repoRoot, "cmd/mini_dockerd.ts"),
      "--config-file",
      this.paths.configFile,
      "--data-root",
      this.paths.dataRoot,
      "--exec-root",
      this.paths.execRoot,
      "-H",
      `unix://${this.paths.socket}`,
      "--pidfile",
      this.paths.pidfile,
      ...(this.options.containerd ? ["--containerd", this.options.containerd] : []),
      ...(this.options.args ?? []),
      ...extraArgs,
    ];
  }

  /** The daemon's PID. */
  get pid(): number {
    if (!this.#process) throw new Error("mini-dockerd is not running");
    return this.#process.pid;
  }

  /** The PID of the supervised mini-containerd, from its pid file. */
  async containerdPid(): Promise<number | undefined> {
    try {
      return Number(
        (await Deno.readTextFile(join(this.paths.execRoot, "containerd", "containerd.pid"))).trim(),
      );
    } catch {
      return undefined;
    }
  }

  /** The socket mini-containerd serves (the supervised one, or the one given). */
  get containerdSocket(): string {
    return this.options.containerd ?? this.paths.containerdSocket;
  }

  /** Everything the daemon (and its containerd child) wrote to stderr/stdout so far. */
  get log(): string {
    return this.#log;
  }

  /** `DOCKER_HOST=unix://…` for the real docker CLI. */
  get dockerHost(): string {
    return `unix://${this.paths.socket}`;
  }

  /** Starts the daemon process (again) on the same paths. */
  async restart(extraArgs: string[] = []): Promise<void> {
    this.#process = new Deno.Command(Deno.execPath(), {
      args: this.#commandLine(extraArgs),
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.#collect(this.#process.stdout);
    this.#collect(this.#process.stderr);
    await this.#waitUntilServing();
  }

  async #collect(stream: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    try {
      for await (const chunk of stream) this.#log += decoder.decode(chunk, { stream: true });
    } catch { /* process gone */ }
  }

  async #waitUntilServing(): Promise<void> {
    const process = this.#process!;
    let exited = false;
    process.status.then(() => exited = true);
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      if (exited) throw new Error(`mini-dockerd exited during start-up:\n${this.#log}`);
      try {
        const response = await this.api("GET", "/_ping", undefined, {}, AbortSignal.timeout(2000));
        await response.body?.cancel();
        if (response.ok) return;
      } catch { /* not yet */ }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`mini-dockerd did not answer within 60 s:\n${this.#log}`);
  }

  /** One Engine API request over the socket (the path may omit the /v1.41 prefix). */
  async api(
    method: string,
    path: string,
    body?: BodyInit | Record<string, unknown> | unknown[],
    headers: Record<string, string> = {},
    signal?: AbortSignal,
  ): Promise<Response> {
    this.#http ??= Deno.createHttpClient({ proxy: { transport: "unix", path: this.paths.socket } });
    const isJson = body !== undefined && typeof body === "object" &&
      !(body instanceof Uint8Array) &&
      !(body instanceof ReadableStream) && !(body instanceof Blob) && !(body instanceof FormData) &&
      !(body instanceof URLSearchParams) && !(body instanceof ArrayBuffer);
    return await fetch(`http://api.moby.localhost${path}`, {
      method,
      body: isJson ? JSON.stringify(body) : body as BodyInit | undefined,
      headers: isJson ? { "Content-Type": "application/json", ...headers } : headers,
      client: this.#http,
      signal,
    });
  }

  /** Runs the real docker CLI against this daemon. */
  async docker(args: string[], options: { stdin?: Uint8Array } = {}): Promise<CommandResult> {
    return await this.#withLogOnTimeout(() =>
      run("docker", args, {
        stdin: options.stdin,
        env: {
          DOCKER_HOST: this.dockerHost,
          DOCKER_CONFIG: join(this.paths.base, "docker-config"),
        },
      })
    );
  }

  /** Runs mini-docker (cmd/mini_docker.ts) against this daemon. */
  async miniDocker(args: string[], options: { stdin?: Uint8Array } = {}): Promise<CommandResult> {
    return await this.#withLogOnTimeout(() =>
      run(
        Deno.execPath(),
        [
          "run",
          "--allow-all",
          "--quiet",
          join(repoRoot, "cmd/mini_docker.ts"),
          "-H",
          this.dockerHost,
          ...args,
        ],
        { stdin: options.stdin },
      )
    );
  }

  /** A hung client command fails with the daemon's recent log, to show where it stuck. */
  async #withLogOnTimeout(command: () => Promise<CommandResult>): Promise<CommandResult> {
    try {
      return await command();
    } catch (error) {
      if (!(error instanceof CommandTimedOut)) throw error;
      const recent = this.#log.split("\n").slice(-80).join("\n");
      throw new CommandTimedOut(`${error.message}\nmini-dockerd's last log lines:\n${recent}`);
    }
  }

  /** Runs mini-ctr against this daemon's mini-containerd. */
  async ctr(args: string[]): Promise<CommandResult> {
    return await run(Deno.execPath(), [
      "run",
      "--allow-all",
      "--quiet",
      join(repoRoot, "cmd/mini_ctr.ts"),
      "--address",
      this.containerdSocket,
      ...args,
    ]);
  }

  /** Loads the offline busybox image (busybox:latest) through the API; returns its image ID. */
  async loadBusybox(): Promise<string> {
    const archive = await busyboxArchive();
    const file = await Deno.open(archive);
    const response = await this.api("POST", "/v1.41/images/load?quiet=1", file.readable, {
      "Content-Type": "application/x-tar",
    });
    const text = await response.text();
    if (!response.ok || text.includes("errorDetail")) {
      throw new Error(`loading busybox failed: ${text}`);
    }
    const inspect = await this.api("GET", "/v1.41/images/busybox:latest/json");
    return (await inspect.json()).Id;
  }

  /** Sends `signal` to the daemon and waits for it to exit (SIGKILL simulates a crash). */
  async kill(signal: Deno.Signal = "SIGTERM"): Promise<Deno.CommandStatus | undefined> {
    const process = this.#process;
    if (!process) return undefined;
    this.#http?.close();
    this.#http = undefined;
    try {
      process.kill(signal);
    } catch { /* gone already */ }
    const timeout = setTimeout(() => {
      try {
        process.kill("SIGKILL");
      } catch { /* gone */ }
    }, 60_000);
    const status = await process.status;
    clearTimeout(timeout);
    this.#process = undefined;
    return status;
  }

  /** Sends SIGHUP (configuration reload). */
  reload(): void {
    this.#process?.kill("SIGHUP");
  }

  /**
   * Stops everything this test started, by PID: dockerd, its mini-containerd, and
   * processes (shims, containers' runtimes) whose command line names this test's
   * directory; then unmounts what is left below it and removes it.
   */
  async cleanup(): Promise<void> {
    await this.kill("SIGTERM");
    const containerd = await this.containerdPid();
    if (containerd !== undefined) await endProcesses([containerd], this.paths.base);
    await sweepAndRemove(this.paths.base);
    if (this.#ownBridge) deleteLinkNamed(this.#ownBridge);
  }
}

/** Path of the repository root. */
export const REPO_ROOT = repoRoot;
