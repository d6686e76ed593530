// What this teaches: what one `docker run --rm busybox true` costs through the whole
// Docker stack, and what idle containers cost in memory, measured side by side with
// the real thing. Three clients run the same container: mini-docker → mini-dockerd, the
// real docker CLI → mini-dockerd, and the real docker CLI → a real dockerd 20.10 (with
// its own containerd 1.6 and runc), both daemons started here on temp paths
// (`--bridge none --iptables=false`, so the host's network is left alone) and loaded
// with the same offline busybox archive. Runs alternate so machine noise hits all
// alike; medians are reported with the ratio to real Docker. Memory is the PSS
// (proportional set size: shared pages split among their users) of the daemons and
// their shims (not the containers' own processes) with 1, 10 and 50 idle containers.
// Run: deno run --allow-all bench/docker_run_bench.ts [rounds] [max-idle-containers (30)]

import { join } from "node:path";
import { writeBaseImageArchive } from "../lib/base_image/mod.ts";
import { type BenchResult, median } from "./types.ts";

const repoRoot = new URL("../", import.meta.url).pathname;

const containerdConfig = `version = 2
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

/** One daemon stack started for the benchmark. */
interface Stack {
  name: string;
  /** The processes started here (daemons), stopped at the end by PID. */
  processes: Deno.ChildProcess[];
  /** DOCKER_HOST for clients. */
  host: string;
  /** The containerd socket, which names the shims of this stack in their command lines. */
  containerdSocket: string;
  /** PID of the dockerd. */
  dockerdPid: number;
  /** PID of containerd (found after start for the supervised one). */
  containerdPid: () => Promise<number>;
}

async function output(
  command: string,
  args: string[],
  env: Record<string, string> = {},
  timeoutMs = 120_000,
) {
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

async function waitForPing(stack: Stack): Promise<void> {
  for (let attempt = 0; attempt < 600; attempt++) {
    const result = await new Deno.Command("docker", {
      args: ["version", "--format", "{{.Server.Version}}"],
      env: { DOCKER_HOST: stack.host },
      stdout: "null",
      stderr: "null",
    }).output();
    if (result.success) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${stack.name} did not answer on ${stack.host}`);
}

async function startMiniDockerd(base: string): Promise<Stack> {
  await Deno.mkdir(base, { recursive: true });
  await Deno.writeTextFile(join(base, "daemon.json"), "{}");
  const socket = join(base, "docker.sock");
  const execRoot = join(base, "exec");
  const process = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-all",
      "--quiet",
      join(repoRoot, "cmd/mini_dockerd.ts"),
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
  const stack: Stack = {
    name: "mini-dockerd",
    processes: [process],
    host: `unix://${socket}`,
    containerdSocket: join(execRoot, "containerd", "containerd.sock"),
    dockerdPid: process.pid,
    containerdPid: async () =>
      Number((await Deno.readTextFile(join(execRoot, "containerd", "containerd.pid"))).trim()),
  };
  await waitForPing(stack);
  return stack;
}

async function startRealDockerd(base: string): Promise<Stack> {
  await Deno.mkdir(base, { recursive: true });
  await Deno.writeTextFile(join(base, "config.toml"), containerdConfig);
  const containerdSocket = join(base, "containerd.sock");
  const containerd = new Deno.Command("containerd", {
    args: [
      "--config",
      join(base, "config.toml"),
      "--root",
      join(base, "containerd-root"),
      "--state",
      join(base, "containerd-state"),
      "--address",
      containerdSocket,
    ],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  for (let attempt = 0; attempt < 300; attempt++) {
    try {
      await Deno.stat(containerdSocket);
      break;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  const socket = join(base, "docker.sock");
  const dockerd = new Deno.Command("dockerd", {
    args: [
      "--containerd",
      containerdSocket,
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
  });
  await Deno.writeTextFile(join(base, "daemon.json"), "{}");
  const process = dockerd.spawn();
  const stack: Stack = {
    name: "dockerd 20.10",
    processes: [process, containerd],
    host: `unix://${socket}`,
    containerdSocket,
    dockerdPid: process.pid,
    containerdPid: () => Promise.resolve(containerd.pid),
  };
  await waitForPing(stack);
  return stack;
}

/** PSS in kB of one process (0 when it is gone). */
function pssKilobytes(pid: number): number {
  try {
    const text = Deno.readTextFileSync(`/proc/${pid}/smaps_rollup`);
    return Number(/^Pss:\s+(\d+) kB/m.exec(text)?.[1] ?? 0);
  } catch {
    return 0;
  }
}

/** PIDs of shims of a stack: their command lines name the stack's containerd socket. */
function shimPids(stack: Stack): number[] {
  const pids: number[] = [];
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const cmdline = Deno.readTextFileSync(`/proc/${entry.name}/cmdline`);
      if (/shim/.test(cmdline) && cmdline.includes(stack.containerdSocket)) {
        pids.push(Number(entry.name));
      }
    } catch { /* exited */ }
  }
  return pids;
}

/** PSS (MiB) of dockerd + containerd + every shim of the stack. */
async function stackPss(stack: Stack): Promise<{ total: number; shims: number }> {
  const shims = shimPids(stack);
  const kilobytes = pssKilobytes(stack.dockerdPid) + pssKilobytes(await stack.containerdPid()) +
    shims.reduce((sum, pid) => sum + pssKilobytes(pid), 0);
  return { total: kilobytes / 1024, shims: shims.length };
}

async function timeOnce(
  command: string,
  args: string[],
  env: Record<string, string>,
): Promise<number> {
  const started = performance.now();
  await output(command, args, env);
  return performance.now() - started;
}

function miniDockerArgs(stack: Stack, args: string[]): [string, string[]] {
  return [Deno.execPath(), [
    "run",
    "--allow-all",
    "--quiet",
    join(repoRoot, "cmd/mini_docker.ts"),
    "-H",
    stack.host,
    ...args,
  ]];
}

async function stopStack(stack: Stack | undefined): Promise<void> {
  if (!stack) return;
  // Remove what is left, then stop the daemons (dockerd first, then its containerd).
  const env = { DOCKER_HOST: stack.host };
  try {
    const ids = (await output("docker", ["ps", "-aq"], env)).trim().split("\n").filter(Boolean);
    if (ids.length > 0) await output("docker", ["rm", "-f", ...ids], env);
  } catch { /* the daemon is gone */ }
  for (const process of stack.processes) {
    try {
      process.kill("SIGTERM");
    } catch { /* already gone */ }
    await process.status;
  }
}

/** Starts `count` idle containers in total on a stack; returns the PSS then. */
async function idleMemory(stack: Stack, count: number, running: { count: number }) {
  const env = { DOCKER_HOST: stack.host };
  while (running.count < count) {
    await output("docker", ["run", "-d", "busybox", "sleep", "3600"], env);
    running.count++;
  }
  // Let the daemons settle (garbage collection after the burst of starts).
  await new Promise((resolve) => setTimeout(resolve, 2000));
  return await stackPss(stack);
}

/**
 * `docker run --rm busybox true` through mini-docker and the real CLI against
 * mini-dockerd, and through the real CLI against a real dockerd; then idle memory
 * with 1, 10 and `maxIdle` containers. `maxIdle` defaults to 30: mini-containerd waits
 * for each shim's exit with a blocking poll(2) on Deno's worker pool (about 32 threads),
 * so past ~31 shims it stops answering; 50 is measured when asked for, at that risk.
 */
export async function benchDockerRun(rounds = 10, maxIdle = 30): Promise<BenchResult[]> {
  const base = await Deno.makeTempDir({ dir: "/tmp", prefix: "mdb-" });
  let mini: Stack | undefined;
  let real: Stack | undefined;
  const results: BenchResult[] = [];
  try {
    const archive = join(base, "busybox.tar");
    await writeBaseImageArchive(archive);
    mini = await startMiniDockerd(join(base, "mini"));
    real = await startRealDockerd(join(base, "real"));
    for (const stack of [mini, real]) {
      await output("docker", ["load", "-i", archive], { DOCKER_HOST: stack.host });
    }
    const miniEnv = { DOCKER_HOST: mini.host };
    const realEnv = { DOCKER_HOST: real.host };
    const runArgs = ["run", "--rm", "busybox", "true"];
    // Warm-up: Deno compiles and caches modules on first use; dockerd loads its shim.
    await timeOnce("docker", runArgs, realEnv);
    await timeOnce("docker", runArgs, miniEnv);
    await timeOnce(...miniDockerArgs(mini, runArgs), {});
    const samples = { real: [] as number[], cliMini: [] as number[], miniMini: [] as number[] };
    for (let round = 0; round < rounds; round++) {
      samples.real.push(await timeOnce("docker", runArgs, realEnv));
      samples.cliMini.push(await timeOnce("docker", runArgs, miniEnv));
      samples.miniMini.push(await timeOnce(...miniDockerArgs(mini, runArgs), {}));
    }
    const baseline = {
      name: "docker run --rm busybox true (dockerd 20.10 + containerd + runc)",
      value: median(samples.real),
    };
    for (
      const [name, values] of [
        ["mini-docker run --rm busybox true (mini-dockerd)", samples.miniMini],
        ["docker run --rm busybox true (real CLI → mini-dockerd)", samples.cliMini],
      ] as const
    ) {
      const value = median(values);
      results.push({ name, value, unit: "ms", baseline, ratio: value / baseline.value });
    }

    const counts = [1, 10, maxIdle].filter((count, index, all) =>
      count > 0 && all.indexOf(count) === index
    );
    const running = { mini: { count: 0 }, real: { count: 0 } };
    for (const count of counts) {
      const realPss = await idleMemory(real, count, running.real);
      const miniPss = await idleMemory(mini, count, running.mini);
      results.push({
        name:
          `idle PSS with ${count} container(s): mini-dockerd + mini-containerd + ${miniPss.shims} shims`,
        value: miniPss.total,
        unit: "MiB",
        baseline: {
          name: `dockerd + containerd + ${realPss.shims} containerd-shim-runc-v2`,
          value: realPss.total,
        },
        ratio: miniPss.total / realPss.total,
      });
    }
    return results;
  } finally {
    await stopStack(mini);
    await stopStack(real);
    await Deno.remove(base, { recursive: true }).catch(() => {});
  }
}

if (import.meta.main) {
  const rounds = Number(Deno.args[0] ?? 10);
  const maxIdle = Number(Deno.args[1] ?? 30);
  for (const result of await benchDockerRun(rounds, maxIdle)) {
    console.log(
      `${result.name}: ${result.value.toFixed(1)} ${result.unit}` +
        (result.baseline
          ? ` | ${result.baseline.name}: ${result.baseline.value.toFixed(1)} ${result.unit}` +
            ` | ratio ${result.ratio!.toFixed(2)}`
          : ""),
    );
  }
}
