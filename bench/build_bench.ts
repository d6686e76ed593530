// What this teaches: what building an image costs, and what the build cache saves,
// measured side by side with the real thing. The same context (examples/web-app: eight
// instructions, two RUNs, three COPYs) is built on mini-dockerd and on a real dockerd
// 20.10 with its legacy builder (the one `DOCKER_BUILDKIT=0 docker build` uses), both
// started on temp roots by bench/daemons.ts with the same offline busybox loaded. Two
// figures per daemon: a cold build (`--no-cache`: every RUN runs a container, every step
// commits an image) and a full-cache rebuild (every step answers " ---> Using cache",
// so the cost is sending the context, hashing the COPY sources and looking up the
// cache). The real docker CLI drives both daemons, so only the daemons differ;
// mini-docker → mini-dockerd is measured too. Rounds alternate between the daemons so
// machine noise hits both alike; medians are reported with the ratio to real Docker.
// Run: deno run --allow-all bench/build_bench.ts [rounds]

import { join } from "node:path";
import { miniDockerCommand, output, REPO_ROOT, timeCommand } from "./daemons.ts";
import { withDockerStacks } from "./docker_run_bench.ts";
import { type BenchResult, median, printResults } from "./types.ts";

const CONTEXT = join(REPO_ROOT, "examples/web-app");
const TAG = "web-app:bench";

/** Cold builds and full-cache rebuilds of examples/web-app on both daemons. */
export async function benchBuild(rounds = 5): Promise<BenchResult[]> {
  return await withDockerStacks("mdbb-", async ({ mini, real }) => {
    // The real CLI, forced onto the legacy builder (no buildx here, and none on mini).
    const env = (host: string) => ({ DOCKER_HOST: host, DOCKER_BUILDKIT: "0" });
    const cold = ["build", "--no-cache", "-q", "-t", TAG, CONTEXT];
    const cached = ["build", "-q", "-t", TAG, CONTEXT];
    // Warm-up: fills both caches (and Deno's module cache for mini-docker).
    await output("docker", cold, env(real.host), 600_000);
    await output("docker", cold, env(mini.host), 600_000);
    await output(...miniDockerCommand(mini, cached));
    const samples = {
      realCold: [] as number[],
      miniCold: [] as number[],
      realCached: [] as number[],
      miniCached: [] as number[],
      miniClientCached: [] as number[],
    };
    for (let round = 0; round < rounds; round++) {
      samples.realCold.push(await timeCommand("docker", cold, env(real.host)));
      samples.miniCold.push(await timeCommand("docker", cold, env(mini.host)));
      samples.realCached.push(await timeCommand("docker", cached, env(real.host)));
      samples.miniCached.push(await timeCommand("docker", cached, env(mini.host)));
      samples.miniClientCached.push(await timeCommand(...miniDockerCommand(mini, cached)));
    }
    const coldBaseline = {
      name: "docker build --no-cache examples/web-app (dockerd 20.10, legacy builder)",
      value: median(samples.realCold),
    };
    const cachedBaseline = {
      name: "docker build examples/web-app, all cached (dockerd 20.10, legacy builder)",
      value: median(samples.realCached),
    };
    const rows: [string, number[], typeof coldBaseline][] = [
      [
        "docker build --no-cache examples/web-app (real CLI → mini-dockerd)",
        samples.miniCold,
        coldBaseline,
      ],
      [
        "docker build examples/web-app, all cached (real CLI → mini-dockerd)",
        samples.miniCached,
        cachedBaseline,
      ],
      [
        "mini-docker build examples/web-app, all cached (mini-docker → mini-dockerd)",
        samples.miniClientCached,
        cachedBaseline,
      ],
    ];
    return rows.map(([name, values, baseline]) => {
      const value = median(values);
      return { name, value, unit: "ms", baseline, ratio: value / baseline.value };
    });
  });
}

if (import.meta.main) {
  printResults(await benchBuild(Number(Deno.args[0] ?? 5)), 0);
}
