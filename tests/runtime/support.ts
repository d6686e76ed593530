// Test support for mini-runc: a busybox rootfs and OCI bundles in temp directories, a
// runner for the real CLI (`deno run cmd/mini_runc.ts`, as containerd's shim would run
// it), and checks that a container left nothing behind: no state, cgroup, process or
// mount.

import { buildBusyboxRootfs } from "../helpers/busybox_rootfs.ts";
import { missingRoot, missingTool, requirements } from "../helpers/requirements.ts";
import type { ContainerRecord, Spec } from "../../lib/runtime/types.ts";
import { readMountInfo } from "../../lib/linux/mountinfo.ts";

const repoRoot = new URL("../../", import.meta.url).pathname;

/** Path of the mini-runc entry point. */
export const miniRuncEntry = `${repoRoot}cmd/mini_runc.ts`;

/** `ignore` value for tests that run containers (root + busybox). */
export function needsContainers(name: string, ...tools: string[]): boolean {
  return requirements(
    name,
    missingRoot(),
    missingTool("busybox"),
    ...tools.map((tool) => missingTool(tool)),
  );
}

/** Result of one CLI invocation. */
export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** A test's world: temp dir, --root, one shared rootfs; removed by `cleanup`. */
export class RuntimeFixture {
  private constructor(readonly base: string, readonly root: string) {}

  static async create(): Promise<RuntimeFixture> {
    const base = await Deno.makeTempDir({ prefix: "mini-runc-test-" });
    const fixture = new RuntimeFixture(base, `${base}/state`);
    await buildBusyboxRootfs(`${base}/image/rootfs`);
    return fixture;
  }

  /**
   * Runs `mini-runc --root <root> ...args`, optionally feeding stdin. With `outputFile`,
   * stdout and stderr go to that file instead of pipes: a created container inherits
   * them and would otherwise hold our pipes open until it exits (as with the shim).
   */
  async run(
    args: string[],
    options: {
      stdin?: string;
      globals?: string[];
      env?: Record<string, string>;
      outputFile?: string;
    } = {},
  ): Promise<CommandResult> {
    const argv = [
      "run",
      "--allow-all",
      "--quiet",
      miniRuncEntry,
      "--root",
      this.root,
      ...(options.globals ?? []),
      ...args,
    ];
    const viaFile = options.outputFile !== undefined;
    const child = new Deno.Command(viaFile ? "sh" : Deno.execPath(), {
      args: viaFile
        ? ["-c", `exec "$0" "$@" >>'${options.outputFile}' 2>&1`, Deno.execPath(), ...argv]
        : argv,
      stdin: options.stdin === undefined ? "null" : "piped",
      stdout: "piped",
      stderr: "piped",
      env: options.env,
    }).spawn();
    if (options.stdin !== undefined) {
      const writer = child.stdin.getWriter();
      await writer.write(new TextEncoder().encode(options.stdin));
      await writer.close();
    }
    const output = await child.output();
    const decoder = new TextDecoder();
    return {
      code: output.code,
      stdout: decoder.decode(output.stdout),
      stderr: decoder.decode(output.stderr),
    };
  }

  /**
   * A bundle made with `mini-runc spec`, edited by `edit`. Its root.path points at the
   * fixture's one busybox rootfs, shared by every bundle (runc's spec makes it read-only).
   */
  async bundle(name: string, edit: (spec: Spec) => void = () => {}): Promise<string> {
    const bundle = `${this.base}/${name}`;
    await Deno.mkdir(bundle);
    const result = await this.run(["spec", "--bundle", bundle]);
    if (result.code !== 0) throw new Error(`mini-runc spec failed: ${result.stderr}`);
    const spec = JSON.parse(await Deno.readTextFile(`${bundle}/config.json`)) as Spec;
    spec.root!.path = `${this.base}/image/rootfs`;
    spec.process!.terminal = false;
    edit(spec);
    await Deno.writeTextFile(`${bundle}/config.json`, JSON.stringify(spec, null, 2));
    return bundle;
  }

  /** The saved record of a container (to find its cgroup and init before delete). */
  async record(id: string): Promise<ContainerRecord> {
    return JSON.parse(await Deno.readTextFile(`${this.root}/${id}/state.json`));
  }

  /** Removes the temp dir (after `assertNothingLeft` for every container). */
  async cleanup(): Promise<void> {
    await Deno.remove(this.base, { recursive: true }).catch(() => {});
  }
}

/** True when `pid` exists and is not a zombie. */
export function processAlive(pid: number): boolean {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
    return state !== "Z";
  } catch {
    return false;
  }
}

/** What identifies a container's traces on the host (a ContainerRecord fits). */
export interface ContainerTraces {
  id: string;
  initPid: number;
  cgroup: { paths: Record<string, string> };
}

/** Every way a container could leak, checked against the host. Returns the leftovers. */
export function leftovers(root: string, record: ContainerTraces, bundleOrBase: string): string[] {
  const found: string[] = [];
  try {
    Deno.statSync(`${root}/${record.id}`);
    found.push(`state directory ${root}/${record.id}`);
  } catch {
    // gone, good
  }
  for (const directory of new Set(Object.values(record.cgroup.paths))) {
    try {
      Deno.statSync(directory);
      found.push(`cgroup ${directory}`);
    } catch {
      // gone, good
    }
  }
  if (processAlive(record.initPid)) found.push(`process ${record.initPid}`);
  for (const mount of readMountInfo()) {
    if (mount.mountPoint.startsWith(bundleOrBase)) found.push(`mount ${mount.mountPoint}`);
  }
  return found;
}

/**
 * Polls `condition` every 20 ms for up to `timeoutMs` (state changes are asynchronous).
 * The limit is a guard against hanging, not a speed check: one poll may start a Deno
 * process, which takes seconds on a loaded machine.
 */
export async function eventually(
  condition: () => boolean | Promise<boolean>,
  timeoutMs = 60_000,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await condition()) return true;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return await condition();
}
