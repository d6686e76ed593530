// What this teaches: what a whole container run costs end to end, the way a user pays
// it: `mini-ctr run --rm busybox true` (mini-ctr → mini-containerd → one shim → mini-runc
// → the container) against `ctr run --rm` of the same busybox image on a real containerd
// (ctr → containerd → containerd-shim-runc-v2 → runc), both daemons started side by side
// on temp paths, runs alternating so machine noise hits both alike. A second figure runs
// mini's stack with real runc underneath, to tell the runtime's share from the rest.
// Run: deno run --allow-all bench/ctr_run_bench.ts

import { join } from "node:path";
import { writeBaseImageArchive } from "../lib/base_image/mod.ts";
import { type BenchResult, median } from "./types.ts";

const repoRoot = new URL("../", import.meta.url).pathname;
const IMAGE = "docker.io/library/busybox:latest";
const NAMESPACE = "bench";

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

async function waitForClient(daemon: Daemon, what: string): Promise<void> {
  const [command, ...args] = daemon.client;
  for (let attempt = 0; attempt < 400; attempt++) {
    const output = await new Deno.Command(command, {
      args: [...args, "version"],
      stdout: "null",
      stderr: "null",
    }).output();
    if (output.success) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${what} did not start`);
}

async function startContainerd(base: string): Promise<Daemon> {
  await Deno.mkdir(base, { recursive: true });
  await Deno.writeTextFile(join(base, "config.toml"), containerdConfig);
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
  const daemon: Daemon = {
    process,
    client: ["ctr", "--address", address, "--namespace", NAMESPACE],
  };
  await waitForClient(daemon, "containerd");
  return daemon;
}

async function startMiniContainerd(base: string): Promise<Daemon> {
  const address = join(base, "mini-containerd.sock");
  const process = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-all",
      "--quiet",
      join(repoRoot, "cmd/mini_containerd.ts"),
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
  // mini-ctr as the installed `mini-ctr` wrapper runs it (scripts/install.sh).
  const daemon: Daemon = {
    process,
    client: [
      Deno.execPath(),
      "run",
      "--allow-all",
      "--quiet",
      "--no-prompt",
      "--config",
      join(repoRoot, "deno.json"),
      join(repoRoot, "cmd/mini_ctr.ts"),
      "--address",
      address,
      "--namespace",
      NAMESPACE,
    ],
  };
  await waitForClient(daemon, "mini-containerd");
  return daemon;
}

async function stop(daemon: Daemon | undefined): Promise<void> {
  if (!daemon) return;
  try {
    daemon.process.kill("SIGTERM");
  } catch { /* already gone */ }
  await daemon.process.status;
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
  try {
    const archive = join(base, "busybox.tar");
    await writeBaseImageArchive(archive);
    real = await startContainerd(join(base, "containerd"));
    mini = await startMiniContainerd(join(base, "mini"));
    for (const daemon of [real, mini]) {
      const [command, ...args] = daemon.client;
      await run(command, [...args, "images", "import", archive]);
    }
    const runcPath = new TextDecoder().decode(
      (await new Deno.Command("sh", { args: ["-c", "command -v runc"], stdout: "piped" }).output())
        .stdout,
    ).trim();
    // Warm-up: Deno compiles and caches modules on first use; containerd loads its shim.
    await timeOnce(...runArgs(real, "warm-real"));
    await timeOnce(...runArgs(mini, "warm-mini"));
    await timeOnce(...runArgs(mini, "warm-mini-runc", ["--runtime-binary", runcPath]));
    const samples = {
      real: [] as number[],
      mini: [] as number[],
      miniRunc: [] as number[],
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
      {
        name: "mini-ctr version",
        value: median(samples.miniClient),
        unit: "ms",
        baseline: clientBaseline,
        ratio: median(samples.miniClient) / clientBaseline.value,
      },
    ];
  } finally {
    await stop(mini);
    await stop(real);
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
  const rounds = Number(Deno.args[0] ?? 10);
  for (const result of await benchCtrRun(rounds)) {
    console.log(
      `${result.name}: ${result.value.toFixed(1)} ${result.unit}` +
        (result.baseline
          ? ` | ${result.baseline.name}: ${result.baseline.value.toFixed(1)} ${result.unit}` +
            ` | ratio ${result.ratio!.toFixed(2)}`
          : ""),
    );
  }
}
