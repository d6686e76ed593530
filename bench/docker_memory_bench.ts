// What this teaches: what idle containers cost the machine in daemon memory. For 1, 10
// and 50 `docker run -d busybox sleep` containers, the PSS (proportional set size:
// each shared page split among the processes mapping it, so the figures add up) of
// dockerd + containerd + one shim per container, mini's stack against Debian's
// dockerd 20.10 + containerd + containerd-shim-runc-v2, both started side by side on
// temp roots (bench/daemons.ts). The containers' own processes are not counted: they
// are the same busybox on both sides.
// Run: deno run --allow-all bench/docker_memory_bench.ts [counts, e.g. 1,10,50]

import { type DockerStack, output } from "./daemons.ts";
import { withDockerStacks } from "./docker_run_bench.ts";
import { type BenchResult, printResults } from "./types.ts";

/** PSS in kB of one process from /proc/<pid>/smaps_rollup (0 when it is gone). */
export function pssKilobytes(pid: number): number {
  try {
    const text = Deno.readTextFileSync(`/proc/${pid}/smaps_rollup`);
    return Number(/^Pss:\s+(\d+) kB/m.exec(text)?.[1] ?? 0);
  } catch {
    return 0;
  }
}

/** PIDs of a stack's shims: their command lines name the stack's containerd socket. */
function shimPids(stack: DockerStack): number[] {
  const pids: number[] = [];
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const commandLine = Deno.readTextFileSync(`/proc/${entry.name}/cmdline`);
      if (/shim/.test(commandLine) && commandLine.includes(stack.containerdSocket)) {
        pids.push(Number(entry.name));
      }
    } catch { /* exited */ }
  }
  return pids;
}

/** PSS in MiB of dockerd, containerd and the shims of a stack. */
async function stackPss(stack: DockerStack) {
  const shims = shimPids(stack).map(pssKilobytes);
  const dockerd = pssKilobytes(stack.dockerdPid) / 1024;
  const containerd = pssKilobytes(await stack.containerdPid()) / 1024;
  const shimTotal = shims.reduce((sum, value) => sum + value, 0) / 1024;
  return {
    total: dockerd + containerd + shimTotal,
    dockerd,
    containerd,
    shims: shims.length,
    perShim: shims.length === 0 ? 0 : shimTotal / shims.length,
  };
}

/** Runs idle containers on a stack until it has `count`; returns the PSS then. */
async function idleMemory(stack: DockerStack, count: number, running: { count: number }) {
  const env = { DOCKER_HOST: stack.host };
  while (running.count < count) {
    await output("docker", ["run", "-d", "busybox", "sleep", "3600"], env);
    running.count++;
  }
  // Let the daemons settle (garbage collection after the burst of starts).
  await new Promise((resolve) => setTimeout(resolve, 3000));
  return await stackPss(stack);
}

const mib = (value: number) => value.toFixed(1);

/** Idle PSS of both stacks with each of `counts` containers running. */
export async function benchDockerMemory(counts = [1, 10, 50]): Promise<BenchResult[]> {
  return await withDockerStacks("mdm-", async ({ mini, real }) => {
    const results: BenchResult[] = [];
    const running = { mini: { count: 0 }, real: { count: 0 } };
    for (const count of counts) {
      const realPss = await idleMemory(real, count, running.real);
      const miniPss = await idleMemory(mini, count, running.mini);
      results.push({
        name: `idle PSS, ${count} container(s): mini-dockerd ${mib(miniPss.dockerd)} + ` +
          `mini-containerd ${mib(miniPss.containerd)} + ${miniPss.shims} shims × ` +
          `${mib(miniPss.perShim)}`,
        value: miniPss.total,
        unit: "MiB",
        baseline: {
          name: `dockerd ${mib(realPss.dockerd)} + containerd ${mib(realPss.containerd)} + ` +
            `${realPss.shims} containerd-shim-runc-v2 × ${mib(realPss.perShim)}`,
          value: realPss.total,
        },
        ratio: miniPss.total / realPss.total,
      });
    }
    return results;
  });
}

if (import.meta.main) {
  printResults(await benchDockerMemory((Deno.args[0] ?? "1,10,50").split(",").map(Number)));
}
