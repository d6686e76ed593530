// What this teaches: how the tests run the real thing: Debian's `docker-registry`
// (distribution 2.8) on 127.0.0.1, a free port, storage in a temp dir, and one of
// three auth set-ups: none, htpasswd (Basic), or token (Bearer tokens from an issuer
// the test runs, as Docker Hub's auth.docker.io). Each test starts its own registry
// and stops it by PID. Also: small wrappers for skopeo, the independent client.

import { join } from "node:path";

/** How the registry authenticates clients. */
export type RegistryAuth =
  | { kind: "none" }
  | { kind: "htpasswd"; users: Record<string, string> }
  | { kind: "token"; realm: string; service: string; issuer: string; rootCertBundle: string };

/** A running docker-registry. */
export class TestRegistry {
  #process?: Deno.ChildProcess;
  #log = "";

  private constructor(readonly directory: string, readonly port: number) {}

  /** `127.0.0.1:<port>`, the domain references use. */
  get host(): string {
    return `127.0.0.1:${this.port}`;
  }

  get log(): string {
    return this.#log;
  }

  /** The blobs and repositories on disk, for tests that look at storage. */
  get storageDir(): string {
    return join(this.directory, "storage");
  }

  /** Starts a registry with the given auth and waits until `/v2/` answers. */
  static async start(auth: RegistryAuth = { kind: "none" }): Promise<TestRegistry> {
    const directory = await Deno.makeTempDir({ prefix: "mini-registry-test-" });
    const registry = new TestRegistry(directory, freePort());
    await registry.#writeConfig(auth);
    registry.#process = new Deno.Command("docker-registry", {
      args: ["serve", join(directory, "config.yml")],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    registry.#collect(registry.#process.stdout);
    registry.#collect(registry.#process.stderr);
    await registry.#waitUntilServing();
    return registry;
  }

  async #writeConfig(auth: RegistryAuth): Promise<void> {
    const lines = [
      "version: 0.1",
      "log:",
      "  level: warn",
      "  accesslog:",
      "    disabled: true",
      "storage:",
      "  filesystem:",
      `    rootdirectory: ${this.storageDir}`,
      "  delete:",
      "    enabled: true",
      "http:",
      `  addr: 127.0.0.1:${this.port}`,
      `  secret: mini-test-secret-${crypto.randomUUID()}`,
    ];
    if (auth.kind === "htpasswd") {
      const htpasswdPath = join(this.directory, "htpasswd");
      const entries: string[] = [];
      for (const [user, password] of Object.entries(auth.users)) {
        const output = await new Deno.Command("htpasswd", {
          args: ["-nbB", user, password],
          stdout: "piped",
          stderr: "piped",
        }).output();
        if (!output.success) {
          throw new Error(`htpasswd failed: ${new TextDecoder().decode(output.stderr)}`);
        }
        entries.push(new TextDecoder().decode(output.stdout).trim());
      }
      await Deno.writeTextFile(htpasswdPath, entries.join("\n") + "\n");
      lines.push(
        "auth:",
        "  htpasswd:",
        "    realm: mini-test-registry",
        `    path: ${htpasswdPath}`,
      );
    } else if (auth.kind === "token") {
      lines.push(
        "auth:",
        "  token:",
        `    realm: ${auth.realm}`,
        `    service: ${auth.service}`,
        `    issuer: ${auth.issuer}`,
        `    rootcertbundle: ${auth.rootCertBundle}`,
      );
    }
    await Deno.writeTextFile(join(this.directory, "config.yml"), lines.join("\n") + "\n");
  }

  async #collect(stream: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    for await (const chunk of stream) this.#log += decoder.decode(chunk, { stream: true });
  }

  async #waitUntilServing(): Promise<void> {
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline) {
      try {
        const response = await fetch(`http://${this.host}/v2/`);
        await response.body?.cancel();
        if (response.status === 200 || response.status === 401) return;
      } catch { /* not listening yet */ }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await this.stop();
    throw new Error(`docker-registry did not answer on ${this.host}:\n${this.#log}`);
  }

  /** Stops the registry (by PID) and removes its storage. */
  async stop(): Promise<void> {
    if (this.#process) {
      try {
        this.#process.kill("SIGTERM");
      } catch { /* already gone */ }
      await this.#process.status;
      this.#process = undefined;
    }
    await Deno.remove(this.directory, { recursive: true }).catch(() => {});
  }
}

/** A port that was free a moment ago (the kernel picks it). */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** Runs skopeo with arguments; throws with its stderr on failure; returns stdout. */
export async function skopeo(args: string[]): Promise<string> {
  const output = await new Deno.Command("skopeo", {
    args,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(output.stderr);
  if (!output.success) throw new Error(`skopeo ${args.join(" ")} failed:\n${stderr}`);
  return new TextDecoder().decode(output.stdout);
}

/** Copies an OCI layout (`oci:DIR:TAG`) into the registry as `repository:tag`. */
export async function skopeoPushLayout(
  layoutDir: string,
  layoutTag: string,
  destination: string,
  options: { credentials?: string; all?: boolean } = {},
): Promise<void> {
  const args = ["copy", "--quiet", "--dest-tls-verify=false"];
  if (options.all) args.push("--all");
  if (options.credentials) args.push("--dest-creds", options.credentials);
  args.push(`oci:${layoutDir}:${layoutTag}`, `docker://${destination}`);
  await skopeo(args);
}
