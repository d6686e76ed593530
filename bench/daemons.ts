// What this teaches: a side-by-side benchmark is only fair if both stacks start the
// same way: on their own temp roots and sockets, with the real containerd trimmed of
// plugins it would otherwise load (CRI, snapshotters this kernel lacks, tracing), and
// stopped by PID at the end. Every daemon the benchmarks need (containerd,
// mini-containerd, dockerd, mini-dockerd) is started here, once.
// Mirrors nothing in containerd or moby: it is the test rig around them.

import { join } from "node:path";

/** The repository root (the benchmarks run the `cmd/` entry points from here). */
export const REPO_ROOT = new URL("../", import.meta.url).pathname;

/** A containerd config for temp roots: no CRI, no snapshotters this host lacks, no tracing. */
export const CONTAINERD_CONFIG = `version = 2
disabled_plugins = [
  "io.containerd.grpc.v1.cri",
  "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.zfs",
  "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.snapshotter.v1.aufs",
  "io.containerd.tracing.processor.v1.otlp",
  "io.containerd.internal.v1.tracing",
]
`;

/** Deno flags for running one of the repository's programs (as the `mini-*` wrappers do). */
export const DENO_RUN = ["run", "--allow-all", "--quiet", "--no-prompt"];

/** A daemon process started for a benchmark, and its socket. */
export interface BenchDaemon {
  process: Deno.ChildProcess;
  address: string;
}

const sleep = (milliseconds: number) => new Promise((resolve) => setTimeout(resolve, milliseconds));

/** Runs a command to completion; throws with its stderr when it fails. Returns stdout. */
export async function output(
  command: string,
  args: string[],
  env: Record<string, string> = {},
  timeoutMs = 120_000,
): Promise<string> {
  const result = await new Deno.Command(command, {
    args,
    env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(timeoutMs),
  }).output();
  if (!result.success) {
    throw new Error(
      `${command} ${args.join(" ")} failed: ${new TextDecoder().decode(result.stderr).trim()}`,
    );
  }
  return new TextDecoder().decode(result.stdout);
}

/** The wall-clock milliseconds of one command run to completion. */
export async function timeCommand(
  command: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<number> {
  const started = performance.now();
  await output(command, args, env);
  return performance.now() - started;
}

/** Repeats `command` until it succeeds (a daemon answering its client), or throws. */
export async function waitUntilAnswers(
  what: string,
  command: string,
  args: string[],
  env: Record<string, string> = {},
  attempts = 400,
): Promise<void> {
  for (let attempt = 0; attempt < attempts; attempt++) {
    const result = await new Deno.Command(command, {
      args,
      env,
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).output();
    if (result.success) return;
    await sleep(50);
  }
  throw new Error(`${what} did not answer`);
}

/** The path of a program on PATH, or undefined. */
export async function commandPath(name: string): Promise<string | undefined> {
  const result = await new Deno.Command("sh", {
    args: ["-c", `command -v ${name}`],
    stdout: "piped",
  }).output();
  return result.success ? new TextDecoder().decode(result.stdout).trim() : undefined;
}

/** Real containerd on `base`/{root,state}, its socket `base`/containerd.sock. */
export async function startContainerd(base: string): Promise<BenchDaemon> {
  await Deno.mkdir(base, { recursive: true });
  await Deno.writeTextFile(join(base, "config.toml"), CONTAINERD_CONFIG);
  const address = join(base, "containerd.sock");
  const process = new Deno.Command("containerd", {
    args: [
      "--config",
      join(base, "config.toml"),
      "--root",
      join(base, "root"),
      "--state",
      join(base, "state"),
      "--address",
      address,
    ],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  await waitUntilAnswers("containerd", "ctr", ["--address", address, "version"]);
  return { process, address };
}

/**
 * mini-containerd on `base`/{root,state}, its socket `base`/mini-containerd.sock; `env`
 * is added to its environment (and so to its shims').
 */
export async function startMiniContainerd(
  base: string,
  env: Record<string, string> = {},
): Promise<BenchDaemon> {
  const address = join(base, "mini-containerd.sock");
  const process = new Deno.Command(Deno.execPath(), {
    args: [
      ...DENO_RUN,
      join(REPO_ROOT, "cmd/mini_containerd.ts"),
      "--root",
      join(base, "root"),
      "--state",
      join(base, "state"),
      "--address",
      address,
    ],
    env,
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  await waitUntilAnswers("mini-containerd", ...miniCtrCommand(address, "default", ["version"]));
  return { process, address };
}

/** A `mini-ctr` command line, as the installed wrapper runs it (scripts/install.sh). */
export function miniCtrCommand(
  address: string,
  namespace: string,
  args: string[],
): [string, string[]] {
  return [Deno.execPath(), [
    ...DENO_RUN,
    "--config",
    join(REPO_ROOT, "deno.json"),
    join(REPO_ROOT, "cmd/mini_ctr.ts"),
    "--address",
    address,
    "--namespace",
    namespace,
    ...args,
  ]];
}

/** Ends a daemon started here (SIGTERM, by PID) and waits for it. */
export async function stopDaemon(process: Deno.ChildProcess | undefined): Promise<void> {
  if (!process) return;
  try {
    process.kill("SIGTERM");
  } catch { /* already gone */ }
  await process.status;
}

/** One Docker stack started for a benchmark: its daemons and how clients reach it. */
export interface DockerStack {
  name: string;
  /** The daemons started here, stopped at the end by PID (dockerd first). */
  processes: Deno.ChildProcess[];
  /** DOCKER_HOST for clients. */
  host: string;
  /** The containerd socket, which names the shims of this stack in their command lines. */
  containerdSocket: string;
  dockerdPid: number;
  /** PID of containerd (read after start for mini-dockerd's supervised one). */
  containerdPid: () => Promise<number>;
}

async function waitForDocker(stack: DockerStack): Promise<void> {
  await waitUntilAnswers(
    `${stack.name} on ${stack.host}`,
    "docker",
    ["version", "--format", "{{.Server.Version}}"],
    { DOCKER_HOST: stack.host },
    600,
  );
}

/**
 * mini-dockerd on temp roots, supervising its own mini-containerd; `"bridge": "none"`
 * as the real one gets `--bridge none` (no bridge, no address range taken).
 */
export async function startMiniDockerd(base: string): Promise<DockerStack> {
  await Deno.mkdir(base, { recursive: true });
  await Deno.writeTextFile(join(base, "daemon.json"), JSON.stringify({ bridge: "none" }));
  const socket = join(base, "docker.sock");
  const execRoot = join(base, "exec");
  const process = new Deno.Command(Deno.execPath(), {
    args: [
      ...DENO_RUN,
      join(REPO_ROOT, "cmd/mini_dockerd.ts"),
      "--config-file",
      join(base, "daemon.json"),
      "--data-root",
      join(base, "data"),
      "--exec-root",
      execRoot,
      "-H",
      `unix://${socket}`,
      "--pidfile",
      join(base, "docker.pid"),
    ],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  const stack: DockerStack = {
    name: "mini-dockerd",
    processes: [process],
    host: `unix://${socket}`,
    containerdSocket: join(execRoot, "containerd", "containerd.sock"),
    dockerdPid: process.pid,
    containerdPid: async () =>
      Number((await Deno.readTextFile(join(execRoot, "containerd", "containerd.pid"))).trim()),
  };
  await waitForDocker(stack);
  return stack;
}

/**
 * Debian's dockerd 20.10 with its own containerd on temp roots, kept off the host's
 * network (`--bridge none --iptables=false`), as ../shared/notes/peers.md says.
 */
export async function startRealDockerd(base: string): Promise<DockerStack> {
  const containerd = await startContainerd(join(base, "containerd"));
  await Deno.writeTextFile(join(base, "daemon.json"), "{}");
  const socket = join(base, "docker.sock");
  const process = new Deno.Command("dockerd", {
    args: [
      "--containerd",
      containerd.address,
      "--data-root",
      join(base, "data"),
      "--exec-root",
      join(base, "exec"),
      "-H",
      `unix://${socket}`,
      "--pidfile",
      join(base, "docker.pid"),
      "--bridge",
      "none",
      "--iptables=false",
      "--ip6tables=false",
      "--storage-driver",
      "overlay2",
      "--config-file",
      join(base, "daemon.json"),
    ],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  const stack: DockerStack = {
    name: "dockerd 20.10",
    processes: [process, containerd.process],
    host: `unix://${socket}`,
    containerdSocket: containerd.address,
    dockerdPid: process.pid,
    containerdPid: () => Promise.resolve(containerd.process.pid),
  };
  await waitForDocker(stack);
  return stack;
}

/** Removes every container of a stack, then stops its daemons (dockerd first). */
export async function stopDockerStack(stack: DockerStack | undefined): Promise<void> {
  if (!stack) return;
  const env = { DOCKER_HOST: stack.host };
  try {
    const ids = (await output("docker", ["ps", "-aq"], env)).trim().split("\n").filter(Boolean);
    if (ids.length > 0) await output("docker", ["rm", "-f", ...ids], env, 300_000);
  } catch { /* the daemon is gone */ }
  for (const process of stack.processes) await stopDaemon(process);
}

/** A `mini-docker` command line against a stack. */
export function miniDockerCommand(stack: DockerStack, args: string[]): [string, string[]] {
  return [Deno.execPath(), [
    ...DENO_RUN,
    join(REPO_ROOT, "cmd/mini_docker.ts"),
    "-H",
    stack.host,
    ...args,
  ]];
}
