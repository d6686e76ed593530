// What this teaches: what one `docker run --rm busybox true` costs through the whole
// Docker stack, measured side by side with the real thing. Three clients run the same
// container: mini-docker → mini-dockerd, the real docker CLI → mini-dockerd, and the
// real docker CLI → a real dockerd 20.10 (with its own containerd and runc), both
// daemons started here on temp paths (`--bridge none --iptables=false`, so the host's
// network is left alone; bench/daemons.ts) and loaded with the same offline busybox
// archive. Runs alternate so machine noise hits all alike; medians are reported with
// the ratio to real Docker. (Idle memory is bench/docker_memory_bench.ts.)
// Run: deno run --allow-all bench/docker_run_bench.ts [rounds]

import { join } from "node:path";
import { writeBaseImageArchive } from "../lib/base_image/mod.ts";
import {
  type DockerStack,
  miniDockerCommand,
  output,
  startMiniDockerd,
  startRealDockerd,
  stopDockerStack,
  timeCommand,
} from "./daemons.ts";
import { type BenchResult, median, printResults } from "./types.ts";

/** Starts both stacks on temp roots with busybox loaded, runs `work`, stops them. */
export async function withDockerStacks<T>(
  prefix: string,
  work: (stacks: { mini: DockerStack; real: DockerStack }) => Promise<T>,
): Promise<T> {
  // Short: the socket paths under it must fit in a sockaddr_un (108 bytes).
  const base = await Deno.makeTempDir({ dir: "/tmp", prefix });
  let mini: DockerStack | undefined;
  let real: DockerStack | undefined;
  try {
    const archive = join(base, "busybox.tar");
    await writeBaseImageArchive(archive);
    mini = await startMiniDockerd(join(base, "mini"));
    real = await startRealDockerd(join(base, "real"));
    for (const stack of [mini, real]) {
      await output("docker", ["load", "-i", archive], { DOCKER_HOST: stack.host });
    }
    return await work({ mini, real });
  } finally {
    await stopDockerStack(mini);
    await stopDockerStack(real);
    await Deno.remove(base, { recursive: true }).catch(() => {});
  }
}

/**
 * `docker run --rm busybox true` through mini-docker and the real CLI against
 * mini-dockerd, and through the real CLI against a real dockerd: medians of `rounds`.
 */
export async function benchDockerRun(rounds = 10): Promise<BenchResult[]> {
  return await withDockerStacks("mdr-", async ({ mini, real }) => {
    const miniEnv = { DOCKER_HOST: mini.host };
    const realEnv = { DOCKER_HOST: real.host };
    const runArgs = ["run", "--rm", "busybox", "true"];
    // Warm-up: Deno compiles and caches modules on first use; dockerd loads its shim.
    await timeCommand("docker", runArgs, realEnv);
    await timeCommand("docker", runArgs, miniEnv);
    await timeCommand(...miniDockerCommand(mini, runArgs));
    const samples = { real: [] as number[], cliMini: [] as number[], miniMini: [] as number[] };
    for (let round = 0; round < rounds; round++) {
      samples.real.push(await timeCommand("docker", runArgs, realEnv));
      samples.cliMini.push(await timeCommand("docker", runArgs, miniEnv));
      samples.miniMini.push(await timeCommand(...miniDockerCommand(mini, runArgs)));
    }
    const baseline = {
      name: "docker run --rm busybox true (dockerd 20.10 + containerd + runc)",
      value: median(samples.real),
    };
    return ([
      ["mini-docker run --rm busybox true (mini-dockerd)", samples.miniMini],
      ["docker run --rm busybox true (real CLI → mini-dockerd)", samples.cliMini],
    ] as const).map(([name, values]) => {
      const value = median(values);
      return { name, value, unit: "ms", baseline, ratio: value / baseline.value };
    });
  });
}

if (import.meta.main) {
  printResults(await benchDockerRun(Number(Deno.args[0] ?? 10)));
}
