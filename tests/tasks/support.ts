// Test support for the shim, task and `mini-ctr run` tests: a mini-containerd with the
// busybox base image imported, a unique containerd namespace per test (so cgroups
// `/<namespace>/<id>` never collide between parallel tests), and checks that a
// container left nothing behind: no mount, no cgroup, no process.

import { join } from "node:path";
import { writeBaseImageArchive } from "../../lib/base_image/mod.ts";
import { cgroupManagerFor } from "../../lib/runtime/cgroups/mod.ts";
import { bundleDirectory, bundlePaths } from "../../lib/shim/bundle.ts";
import { TestContainerd } from "../helpers/containerd.ts";
import { mountsBelow as mountsUnder } from "../helpers/cleanup.ts";
export { buildBusyboxRootfs } from "../helpers/busybox_rootfs.ts";
/** Mount points at or below a directory (the shared cleanup's helper). */
export { mountsUnder };
import { missingOverlay, missingRoot, missingTool, requirements } from "../helpers/requirements.ts";

/** The name the base image archive carries. */
export const BUSYBOX = "docker.io/library/busybox:latest";

/** `ignore` value for tests that run containers: root, overlayfs and busybox. */
export function needsContainers(name: string, ...tools: string[]): boolean {
  return requirements(
    name,
    missingRoot(),
    missingOverlay(),
    missingTool("busybox"),
    ...tools.map((tool) => missingTool(tool)),
  );
}

/** A fresh containerd namespace name, unique to one test. */
export function uniqueNamespace(prefix = "t"): string {
  return `${prefix}${crypto.randomUUID().replaceAll("-", "").slice(0, 10)}`;
}

/** Writes the busybox base image as an OCI archive into `directory` (a fraction of a second). */
export async function busyboxArchive(directory: string): Promise<string> {
  const path = join(directory, "busybox.tar");
  await writeBaseImageArchive(path);
  return path;
}

/** Starts mini-containerd and imports the busybox image into `namespace`. */
export async function daemonWithBusybox(namespace: string): Promise<TestContainerd> {
  const daemon = await TestContainerd.start();
  try {
    const archive = await busyboxArchive(daemon.paths.base);
    const imported = await daemon.ctr(["-n", namespace, "images", "import", archive]);
    if (imported.code !== 0) throw new Error(`images import failed: ${imported.stderr}`);
  } catch (error) {
    await daemon.cleanup();
    throw error;
  }
  return daemon;
}

/** The cgroup directories of container `namespace/id` that still exist. */
export function cgroupsLeft(namespace: string, id: string): string[] {
  const paths = cgroupManagerFor(id, `/${namespace}/${id}`).location.paths;
  return [...new Set(Object.values(paths))].filter((directory) => exists(directory));
}

/** Removes the (empty) per-namespace parent cgroups a test's containers used. */
export function removeNamespaceCgroups(namespace: string): void {
  const paths = cgroupManagerFor("x", `/${namespace}/x`).location.paths;
  for (const directory of new Set(Object.values(paths))) {
    try {
      Deno.removeSync(directory.slice(0, directory.lastIndexOf("/")));
    } catch { /* not there, or not empty (a leak the test reports itself) */ }
  }
}

/** True when `pid` has ended (no such process, or a zombie nobody reaped yet). */
export function processGone(pid: number): boolean {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z");
  } catch {
    return true;
  }
}

/** Fields of /proc/<pid>/stat after the command name: [state, ppid, pgrp, session, ...]. */
export function procStat(pid: number): string[] {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
}

/** The command line of `pid` as its arguments. */
export function commandLine(pid: number): string[] {
  return Deno.readTextFileSync(`/proc/${pid}/cmdline`).split("\0").filter((part) => part !== "");
}

export function exists(path: string): boolean {
  try {
    Deno.lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Polls `check` until it returns true. Not a timing assertion: the deadline only turns
 * a hang into a failure with a message.
 */
export async function waitUntil(
  what: string,
  check: () => boolean | Promise<boolean>,
  deadlineMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`gave up waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The bundle of task `namespace/id` in a test daemon. */
export function bundleOf(daemon: TestContainerd, namespace: string, id: string) {
  return bundlePaths(bundleDirectory(daemon.paths.state, namespace, id));
}

/** The pid of the shim of `namespace/id`, from its bundle. */
export function shimPidOf(daemon: TestContainerd, namespace: string, id: string): number {
  return Number(Deno.readTextFileSync(bundleOf(daemon, namespace, id).shimPid).trim());
}

/** Kills a process by pid, ignoring "already gone". */
export function killQuietly(pid: number, signal: Deno.Signal = "SIGKILL"): void {
  if (pid <= 0) return;
  try {
    Deno.kill(pid, signal);
  } catch { /* already gone */ }
}

/**
 * Checks that a finished container left nothing: no mount under the daemon's state
 * directory, no cgroup, no bundle. Returns what it found, for one assertion.
 */
export function leftovers(daemon: TestContainerd, namespace: string, id: string): string[] {
  const found: string[] = [];
  for (const mount of mountsUnder(daemon.paths.base)) found.push(`mount ${mount}`);
  for (const cgroup of cgroupsLeft(namespace, id)) found.push(`cgroup ${cgroup}`);
  const bundle = bundleDirectory(daemon.paths.state, namespace, id);
  if (exists(bundle)) found.push(`bundle ${bundle}`);
  return found;
}

/** A WritableStream that keeps what is written, readable as text. */
export class TextSink {
  #text = "";
  readonly #decoder = new TextDecoder();
  readonly stream = new WritableStream<Uint8Array>({
    write: (chunk) => {
      this.#text += this.#decoder.decode(chunk, { stream: true });
    },
  });

  get text(): string {
    return this.#text;
  }
}

/**
 * Ends every task of `namespace` (SIGKILL, wait, delete), removes its containers and
 * their snapshots, stops the daemon, removes its directories and the namespace's
 * parent cgroups. Safe to call when the test already cleaned up.
 */
export async function cleanupDaemon(daemon: TestContainerd, namespace: string): Promise<void> {
  // A test that failed while its daemon was down: bring it back, it finds its shims.
  try {
    daemon.pid;
  } catch {
    await daemon.restart().catch(() => {});
  }
  const client = daemon.client(namespace);
  try {
    for (const task of await client.tasks.list().catch(() => [])) {
      if (task.status !== "stopped") {
        const exited = client.tasks.wait(task.id).catch(() => {});
        await client.tasks.kill(task.id, 9, { all: true }).catch(() => {});
        await exited;
      }
      await client.tasks.delete(task.id).catch(() => {});
    }
    for (const container of await client.containers.list().catch(() => [])) {
      await client.containers.delete(container.id).catch(() => {});
      if (container.snapshotKey) {
        await client.snapshots(container.snapshotter).remove(container.snapshotKey).catch(() => {});
      }
    }
  } finally {
    client.close();
    // Last resort for a test that failed half-way: end every shim of this daemon and
    // every process left in the namespace's cgroups, by pid.
    killShimsOf(daemon.paths.address);
    await killCgroupProcesses(namespace);
    // Never remove a directory through a live mount.
    for (const mount of mountsUnder(daemon.paths.base).reverse()) {
      await new Deno.Command("umount", { args: ["-l", mount] }).output().catch(() => {});
    }
    await daemon.cleanup();
    removeNamespaceCgroups(namespace);
  }
}

/** Kills every mini-containerd-shim started for the daemon at `address`. */
function killShimsOf(address: string): void {
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const argv = commandLine(Number(entry.name));
      if (
        argv.some((part) => part.includes("mini_containerd_shim")) &&
        argv[argv.indexOf("-address") + 1] === address
      ) {
        killQuietly(Number(entry.name));
      }
    } catch { /* exited meanwhile */ }
  }
}

/** Kills what is left in `/<namespace>/*` cgroups and removes those cgroups. */
export async function killCgroupProcesses(namespace: string): Promise<void> {
  const parents = new Set(
    Object.values(cgroupManagerFor("x", `/${namespace}/x`).location.paths).map((directory) =>
      directory.slice(0, directory.lastIndexOf("/"))
    ),
  );
  for (const parent of parents) {
    let children: string[] = [];
    try {
      children = [...Deno.readDirSync(parent)].filter((entry) => entry.isDirectory).map((entry) =>
        join(parent, entry.name)
      );
    } catch {
      continue;
    }
    for (const child of children) {
      try {
        for (const pid of Deno.readTextFileSync(join(child, "cgroup.procs")).split("\n")) {
          if (pid !== "") killQuietly(Number(pid));
        }
      } catch { /* gone */ }
    }
    for (const child of children) {
      await waitUntil(`${child} is empty`, () => {
        try {
          Deno.removeSync(child);
          return true;
        } catch {
          return !exists(child);
        }
      }, 5_000).catch(() => {});
    }
  }
}

/**
 * Awaits `work`, or fails after `deadlineMs` with `what()` (say how far it got). Not a
 * timing assertion: the deadline is far beyond any normal run and only turns a hang
 * (a daemon that stopped answering) into a failure with a message.
 */
export async function withinDeadline<T>(
  what: () => string,
  work: Promise<T>,
  deadlineMs = 600_000,
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`gave up waiting: ${what()}`)), deadlineMs);
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
