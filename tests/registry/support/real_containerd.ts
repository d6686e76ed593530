// What this teaches: the peer used to check mini's pushes: a real containerd 1.6 on
// temp paths (its own root, state and socket, CRI disabled), driven with the real
// `ctr`. Started per test, stopped by PID.

import { join } from "node:path";

/** A containerd started for a test. */
export class RealContainerd {
  #process?: Deno.ChildProcess;
  #log = "";

  private constructor(readonly directory: string) {}

  get address(): string {
    return join(this.directory, "containerd.sock");
  }

  get log(): string {
    return this.#log;
  }

  /** Starts containerd and waits until `ctr version` answers. */
  static async start(): Promise<RealContainerd> {
    const directory = await Deno.makeTempDir({ prefix: "real-containerd-test-" });
    const containerd = new RealContainerd(directory);
    const config = join(directory, "config.toml");
    await Deno.writeTextFile(
      config,
      'version = 2\ndisabled_plugins = ["io.containerd.grpc.v1.cri"]\n',
    );
    containerd.#process = new Deno.Command("containerd", {
      args: [
        "--config",
        config,
        "--root",
        join(directory, "root"),
        "--state",
        join(directory, "state"),
        "--address",
        containerd.address,
      ],
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    (async () => {
      const decoder = new TextDecoder();
      for await (const chunk of containerd.#process!.stderr) {
        containerd.#log += decoder.decode(chunk, { stream: true });
      }
    })();
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      if ((await containerd.ctr(["version"])).code === 0) return containerd;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await containerd.stop();
    throw new Error(`containerd did not start:\n${containerd.#log}`);
  }

  /** Runs the real ctr against this containerd. */
  async ctr(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    const output = await new Deno.Command("ctr", {
      args: ["--address", this.address, ...args],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    return {
      code: output.code,
      stdout: new TextDecoder().decode(output.stdout),
      stderr: new TextDecoder().decode(output.stderr),
    };
  }

  /** Stops containerd by PID, unmounts what it left and removes its paths. */
  async stop(): Promise<void> {
    if (this.#process) {
      try {
        this.#process.kill("SIGTERM");
      } catch { /* already gone */ }
      await this.#process.status;
      this.#process = undefined;
    }
    await unmountUnder(this.directory);
    await Deno.remove(this.directory, { recursive: true }).catch(() => {});
  }
}

/** Unmounts every mount point below `directory`, deepest first. */
async function unmountUnder(directory: string): Promise<void> {
  const mounts = (await Deno.readTextFile("/proc/self/mountinfo"))
    .split("\n")
    .map((line) => line.split(" ")[4])
    .filter((point) => point && point.startsWith(directory + "/"))
    .sort((a, b) => b.length - a.length);
  for (const point of mounts) {
    await new Deno.Command("umount", { args: ["-l", point], stdout: "null", stderr: "null" })
      .output();
  }
}
