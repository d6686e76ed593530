// Support for the shim tests: one shim started the way mini-containerd starts it, on a
// bundle with a busybox rootfs bind-mounted by the shim, next to a stand-in daemon that
// records the events the shim publishes (its Events/Forward route).

import { join } from "node:path";
import { Router, serveUnix } from "../../lib/api/server.ts";
import type { Envelope } from "../../lib/events/types.ts";
import { generateSpec, withProcessArgs } from "../../lib/oci_spec/options.ts";
import type { Spec, SpecOption } from "../../lib/oci_spec/types.ts";
import { bundleDirectory, bundlePaths } from "../../lib/shim/bundle.ts";
import { ShimClient } from "../../lib/shim/client.ts";
import { type StartedShim, startShim } from "../../lib/shim/spawn.ts";
import { DEFAULT_RUNTIME_BINARY } from "../../lib/tasks/manager.ts";
import {
  buildBusyboxRootfs,
  cgroupsLeft,
  killCgroupProcesses,
  mountsUnder,
  processGone,
  removeNamespaceCgroups,
  uniqueNamespace,
  waitUntil,
} from "../tasks/support.ts";

/** A shim, its bundle, and the events it published. */
export class ShimFixture {
  readonly events: Envelope[] = [];
  shim!: StartedShim;
  client!: ShimClient;
  #server?: Deno.HttpServer;

  private constructor(
    readonly base: string,
    readonly namespace: string,
    readonly id: string,
    readonly runtimeBinary: string,
  ) {}

  get bundle(): string {
    return bundleDirectory(join(this.base, "state"), this.namespace, this.id);
  }

  get paths() {
    return bundlePaths(this.bundle);
  }

  get daemonAddress(): string {
    return join(this.base, "containerd.sock");
  }

  /** Writes a bundle whose process runs `args`, and starts its shim. */
  static async start(
    args: string[],
    options: { runtimeBinary?: string; specOptions?: SpecOption[] } = {},
  ): Promise<ShimFixture> {
    const base = await Deno.makeTempDir({ prefix: "mini-shim-test-" });
    const fixture = new ShimFixture(
      base,
      uniqueNamespace("shim"),
      "c1",
      options.runtimeBinary ?? DEFAULT_RUNTIME_BINARY,
    );
    const router = new Router();
    router.add("containerd.services.events.v1.Events", "Forward", async (context) => {
      fixture.events.push((await context.json<{ envelope: Envelope }>()).envelope);
      return {};
    });
    fixture.#server = await serveUnix(router, { socketPath: fixture.daemonAddress });
    const spec: Spec = generateSpec(
      { namespace: fixture.namespace, id: fixture.id },
      withProcessArgs(...args),
      ...(options.specOptions ?? []),
    );
    await Deno.mkdir(fixture.paths.rootfs, { recursive: true });
    await Deno.writeTextFile(fixture.paths.config, JSON.stringify(spec));
    fixture.shim = await startShim({
      namespace: fixture.namespace,
      id: fixture.id,
      address: fixture.daemonAddress,
      workdir: fixture.bundle,
      runtimeBinary: fixture.runtimeBinary,
      runtimeRoot: join(base, "runtime"),
      debug: false,
    });
    fixture.client = new ShimClient(fixture.shim.address);
    return fixture;
  }

  /**
   * The bind mount that assembles the rootfs (what a snapshotter's Mounts would return),
   * of a busybox tree built in this fixture's own directory.
   */
  async rootfsMounts() {
    const source = await buildBusyboxRootfs(join(this.base, "image"));
    return [{ type: "bind", source, options: ["rbind", "rw"] }];
  }

  /** Creates the container with the shared rootfs. */
  async create(stdio = {}): Promise<number> {
    const { pid } = await this.client.create({
      id: this.id,
      bundle: this.bundle,
      rootfs: await this.rootfsMounts(),
      stdio,
    });
    return pid;
  }

  /** Topics published so far, in order. */
  get topics(): string[] {
    return this.events.map((envelope) => envelope.topic);
  }

  /** Ends whatever still runs, shuts the shim down and checks nothing is left. */
  async cleanup(): Promise<string[]> {
    const found: string[] = [];
    try {
      const state = await this.client.state().catch(() => undefined);
      if (state) {
        if (state.status !== "stopped") {
          await this.client.kill(9, { all: true }).catch(() => {});
          await this.client.wait().catch(() => {});
        }
        await this.client.delete().catch(() => {});
      }
      await this.client.shutdown().catch(() => {});
      this.client.close();
      await waitUntil("the shim exits", () => processGone(this.shim.pid));
      for (const mount of mountsUnder(this.base)) found.push(`mount ${mount}`);
      for (const cgroup of cgroupsLeft(this.namespace, this.id)) found.push(`cgroup ${cgroup}`);
    } finally {
      if (!processGone(this.shim.pid)) Deno.kill(this.shim.pid, "SIGKILL");
      // A test that failed half-way may leave container processes: end them by pid.
      await killCgroupProcesses(this.namespace);
      for (const mount of mountsUnder(this.base).reverse()) {
        await new Deno.Command("umount", { args: ["-l", mount] }).output();
      }
      await this.#server?.shutdown();
      removeNamespaceCgroups(this.namespace);
      await Deno.remove(this.base, { recursive: true }).catch(() => {});
    }
    return found;
  }
}
