// What this teaches: what a whole container run costs end to end, the way a user pays
// it: `mini-ctr run --rm busybox true` (mini-ctr → mini-containerd → one shim → mini-runc
// → the container) against `ctr run --rm` of the same busybox image on a real containerd
// (ctr → containerd → containerd-shim-runc-v2 → runc), both daemons started side by side
// on temp paths, runs alternating so machine noise hits both alike. A second figure runs
// mini's stack with real runc underneath, to tell the runtime's share from the rest; a
// third, a mini-containerd whose shims exec the mini-runc binary for every step
// (MINI_SHIM_RUNTIME_IN_PROCESS=0), shows what running it in-process saves.
// Run: deno run --allow-all bench/ctr_run_bench.ts

import { join } from "node:path";
import { writeBaseImageArchive } from "../lib/base_image/mod.ts";
import {
  commandPath,
  miniCtrCommand,
  startContainerd,
  startMiniContainerd,
  stopDaemon,
} from "./daemons.ts";
import { IN_PROCESS_VARIABLE } from "../lib/shim/runtime_choice.ts";
import { type BenchResult, median, printResults } from "./types.ts";

const IMAGE = "docker.io/library/busybox:latest";
const NAMESPACE = "bench";

interface Daemon {
  process: Deno.ChildProcess;
  /** The client command line up to (and including) the namespace flag. */
  client: [string, ...string[]];
}

async function run(command: string, args: string[]): Promise<void> {
  const output = await new Deno.Command(command, {
    args,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!output.success) {
    throw new Error(`${command} ${args.join(" ")}: ${new TextDecoder().decode(output.stderr)}`);
  }
}

async function timeOnce(command: string, args: string[]): Promise<number> {
  const started = performance.now();
  await run(command, args);
  return performance.now() - started;
}

async function startRealDaemon(base: string): Promise<Daemon> {
  const { process, address } = await startContainerd(base);
  return { process, client: ["ctr", "--address", address, "--namespace", NAMESPACE] };
}

async function startMiniDaemon(base: string, env: Record<string, string> = {}): Promise<Daemon> {
  const { process, address } = await startMiniContainerd(base, env);
  const [command, args] = miniCtrCommand(address, NAMESPACE, []);
  return { process, client: [command, ...args] };
}

/** `ctr run --rm IMAGE ID true` (plus extra flags) against one daemon. */
function runArgs(daemon: Daemon, id: string, extra: string[] = []): [string, string[]] {
  const [command, ...args] = daemon.client;
  return [command, [...args, "run", "--rm", ...extra, IMAGE, id, "true"]];
}

/**
 * `mini-ctr run --rm busybox true` against `ctr run --rm busybox true`, medians of
 * `rounds` alternating runs after one warm-up each.
 */
export async function benchCtrRun(rounds = 10): Promise<BenchResult[]> {
  const base = await Deno.makeTempDir({ prefix: "mini-ctr-run-bench-" });
  let real: Daemon | undefined;
  let mini: Daemon | undefined;
  let miniBinary: Daemon | undefined;
  try {
    const archive = join(base, "busybox.tar");
    await writeBaseImageArchive(archive);
    real = await startRealDaemon(join(base, "containerd"));
    mini = await startMiniDaemon(join(base, "mini"));
    miniBinary = await startMiniDaemon(join(base, "mini-binary"), {
      [IN_PROCESS_VARIABLE]: "0",
    });
    for (const daemon of [real, mini, miniBinary]) {
      const [command, ...args] = daemon.client;
      await run(command, [...args, "images", "import", archive]);
    }
    const runcPath = await commandPath("runc");
    if (!runcPath) throw new Error("runc is needed (Debian: runc)");
    // Warm-up: Deno compiles and caches modules on first use; containerd loads its shim.
    await timeOnce(...runArgs(real, "warm-real"));
    await timeOnce(...runArgs(mini, "warm-mini"));
    await timeOnce(...runArgs(mini, "warm-mini-runc", ["--runtime-binary", runcPath]));
    await timeOnce(...runArgs(miniBinary, "warm-mini-binary"));
    const samples = {
      real: [] as number[],
      mini: [] as number[],
      miniRunc: [] as number[],
      miniBinary: [] as number[],
      realClient: [] as number[],
      miniClient: [] as number[],
    };
    const versionArgs = (daemon: Daemon): [string, string[]] => {
      const [command, ...args] = daemon.client;
      return [command, [...args, "version"]];
    };
    for (let round = 0; round < rounds; round++) {
      samples.real.push(await timeOnce(...runArgs(real, `real-${round}`)));
      samples.mini.push(await timeOnce(...runArgs(mini, `mini-${round}`)));
      samples.miniRunc.push(
        await timeOnce(...runArgs(mini, `mini-runc-${round}`, ["--runtime-binary", runcPath])),
      );
      samples.miniBinary.push(await timeOnce(...runArgs(miniBinary, `mini-binary-${round}`)));
      // The client alone: start-up plus one call, the floor under every command.
      samples.realClient.push(await timeOnce(...versionArgs(real)));
      samples.miniClient.push(await timeOnce(...versionArgs(mini)));
    }
    const baseline = {
      name: "ctr run --rm busybox true (containerd + runc)",
      value: median(samples.real),
    };
    const result = (name: string, values: number[]): BenchResult => {
      const value = median(values);
      return { name, value, unit: "ms", baseline, ratio: value / baseline.value };
    };
    const clientBaseline = { name: "ctr version", value: median(samples.realClient) };
    return [
      result("mini-ctr run --rm busybox true (mini-containerd + mini-runc)", samples.mini),
      result("mini-ctr run --rm busybox true (mini-containerd + runc)", samples.miniRunc),
      result(
        "mini-ctr run --rm busybox true (mini-runc as a binary per step, the old path)",
        samples.miniBinary,
      ),
      {
        name: "mini-ctr version",
        value: median(samples.miniClient),
        unit: "ms",
        baseline: clientBaseline,
        ratio: median(samples.miniClient) / clientBaseline.value,
      },
    ];
  } finally {
    await stopDaemon(mini?.process);
    await stopDaemon(miniBinary?.process);
    await stopDaemon(real?.process);
    await Deno.remove(base, { recursive: true }).catch(() => {});
    removeEmptyNamespaceCgroups();
  }
}

/** Both stacks put containers in `/<namespace>/<id>` cgroups; the emptied parent goes too. */
function removeEmptyNamespaceCgroups(): void {
  const directories = ["/sys/fs/cgroup"];
  try {
    for (const entry of Deno.readDirSync("/sys/fs/cgroup")) {
      if (entry.isDirectory) directories.push(join("/sys/fs/cgroup", entry.name));
    }
  } catch { /* no cgroup filesystem */ }
  for (const directory of directories) {
    // rmdir(2) only removes an empty cgroup, so nothing in use can be harmed.
    try {
      Deno.removeSync(join(directory, NAMESPACE));
    } catch { /* not there, or still in use */ }
  }
}

if (import.meta.main) {
  printResults(await benchCtrRun(Number(Deno.args[0] ?? 10)));
}
