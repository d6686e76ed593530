// What this teaches: what "a container test cleans up after itself" means for a Docker
// daemon. A test starts its own mini-dockerd on temp roots (with its own supervised
// mini-containerd), loads the offline busybox image, and at the end removes every
// container through the API and then checks that nothing is left: no overlay mount
// below its directory, no shim process, no cgroup of a container, no containerd task.
// Only then is the daemon stopped and its directory removed (by tests/helpers/dockerd.ts).
// Shared by tests/dockerd/containers_*_test.ts and lab_*_test.ts.

import { join } from "node:path";
import { readMountInfo } from "../../lib/linux/mountinfo.ts";
import {
  processesMentioning,
  run,
  TestDockerd,
  type TestDockerdOptions,
} from "../helpers/dockerd.ts";
import { missingOverlay, missingRoot, missingTool, requirements } from "../helpers/requirements.ts";

/** Deno.test's `ignore` for tests that run containers under a real mini-dockerd. */
export function containerTestIgnored(name: string, ...tools: string[]): boolean {
  return requirements(
    name,
    missingRoot(),
    missingOverlay(),
    missingTool("docker"),
    ...tools.map((tool) => missingTool(tool)),
  );
}

/** Starts a daemon and loads busybox:latest into it. */
export async function startDaemon(options: TestDockerdOptions = {}): Promise<TestDockerd> {
  const daemon = await TestDockerd.start(options);
  try {
    await daemon.loadBusybox();
  } catch (error) {
    await daemon.cleanup();
    throw error;
  }
  return daemon;
}

/** Polls `check` until it returns true (or throws after `limitMs`, saying what was awaited). */
export async function eventually(
  what: string,
  check: () => boolean | Promise<boolean>,
  limitMs = 60_000,
) {
  // A hang guard, not a speed check: each check may run a CLI, slow on a loaded machine.
  const deadline = Date.now() + limitMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  if (await check()) return;
  throw new Error(`gave up waiting for: ${what}`);
}

/** Every container ID the daemon has (running or not). */
export async function containerIds(daemon: TestDockerd): Promise<string[]> {
  const response = await daemon.api("GET", "/v1.41/containers/json?all=1");
  const rows = await response.json() as { Id: string }[];
  return rows.map((row) => row.Id);
}

/** Mount points at or below the daemon's directory. */
export function mountsBelow(daemon: TestDockerd): string[] {
  return readMountInfo().map((mount) => mount.mountPoint)
    .filter((point) => point === daemon.paths.base || point.startsWith(daemon.paths.base + "/"));
}

/** Shim processes of this daemon's containerd (their command lines name its directory). */
export function shimsOf(daemon: TestDockerd): number[] {
  return processesMentioning(daemon.paths.base).filter((pid) => {
    try {
      return Deno.readTextFileSync(`/proc/${pid}/cmdline`).includes("mini_containerd_shim");
    } catch {
      return false;
    }
  });
}

/** True when a container's cgroup (pids controller, or the v2 unified tree) still exists. */
export function cgroupExists(id: string): boolean {
  for (const path of [`/sys/fs/cgroup/pids/docker/${id}`, `/sys/fs/cgroup/docker/${id}`]) {
    try {
      Deno.statSync(path);
      return true;
    } catch { /* absent */ }
  }
  return false;
}

/**
 * Removes every container, then checks that nothing of them is left (mounts, shims,
 * cgroups, containerd tasks and containers in namespace moby). Throws with what is left.
 */
export async function removeAllAndCheck(daemon: TestDockerd): Promise<void> {
  const ids = await containerIds(daemon);
  for (const id of ids) {
    const response = await daemon.api("DELETE", `/v1.41/containers/${id}?force=1`);
    await response.body?.cancel();
  }
  await assertNothingLeft(daemon, ids);
}

/** Checks that `ids` left no mount, shim, cgroup, task or containerd container behind. */
export async function assertNothingLeft(daemon: TestDockerd, ids: string[]): Promise<void> {
  const remaining = await containerIds(daemon);
  if (remaining.length > 0) throw new Error(`containers still listed: ${remaining.join(", ")}`);
  await eventually("no shims left", () => shimsOf(daemon).length === 0);
  await eventually(
    "no mounts left below the daemon's directory",
    () => mountsBelow(daemon).length === 0,
  );
  for (const id of ids) {
    if (cgroupExists(id)) throw new Error(`the cgroup of container ${id} is still there`);
    try {
      await Deno.stat(join(daemon.paths.dataRoot, "containers", id));
      throw new Error(`containers/${id} is still there`);
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
  }
  const tasks = await daemon.ctr(["-n", "moby", "tasks", "ls"]);
  const containers = await daemon.ctr(["-n", "moby", "containers", "ls"]);
  for (const id of ids) {
    if (tasks.stdout.includes(id) || containers.stdout.includes(id)) {
      throw new Error(`containerd still has ${id}:\n${tasks.stdout}\n${containers.stdout}`);
    }
  }
}

/** Removes every container, checks for leftovers, and stops the daemon (always). */
export async function finish(daemon: TestDockerd): Promise<void> {
  try {
    await removeAllAndCheck(daemon);
  } finally {
    await daemon.cleanup();
  }
}

/**
 * Runs `body` against a fresh daemon with busybox loaded. On success every container
 * is removed and the leftovers checked; on failure the daemon is cleaned up and the
 * original error is rethrown with the daemon's log.
 */
export async function withDaemon(
  options: TestDockerdOptions,
  body: (daemon: TestDockerd) => Promise<void>,
): Promise<void> {
  const daemon = await startDaemon(options);
  try {
    await body(daemon);
  } catch (error) {
    const log = daemon.log.split("\n").slice(-40).join("\n");
    await daemon.cleanup();
    if (error instanceof Error) error.message += `\n--- mini-dockerd log (last lines) ---\n${log}`;
    throw error;
  }
  await finish(daemon);
}

/** Runs a command line under `script` so the client gets a terminal (for `-t` tests). */
export async function withTerminal(
  daemon: TestDockerd,
  commandLine: string,
  input: string[],
  pauseMs = 1500,
): Promise<{ code: number; output: string }> {
  const child = new Deno.Command("script", {
    args: ["-qec", commandLine, "/dev/null"],
    env: {
      DOCKER_HOST: daemon.dockerHost,
      DOCKER_CONFIG: join(daemon.paths.base, "docker-config"),
    },
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const collected = new Response(child.stdout).arrayBuffer();
  child.stderr.cancel().catch(() => {});
  const writer = child.stdin.getWriter();
  const encoder = new TextEncoder();
  // A terminal discards input typed before the program reads it: pause between lines.
  for (const line of input) {
    await new Promise((resolve) => setTimeout(resolve, pauseMs));
    await writer.write(encoder.encode(line));
  }
  const status = await child.status;
  await writer.close().catch(() => {});
  return { code: status.code, output: new TextDecoder().decode(await collected) };
}

/** The real docker CLI's JSON output parsed (`--format '{{json .}}'` prints one object per line). */
export function jsonLines(text: string): Record<string, string>[] {
  return text.split("\n").filter((line) => line.trim() !== "").map((line) => JSON.parse(line));
}

export { run, TestDockerd };
