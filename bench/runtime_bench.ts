// What this teaches: what a container start costs, measured the way a user pays it:
// `mini-runc run` against `runc run` on the same bundle (busybox, `true`), each a fresh
// process from spawn to exit status, alternating so machine noise hits both alike.
// mini-runc pays for two Deno start-ups (the CLI, then the init) where runc pays for two
// Go ones (runc, then `runc init`).
// Run: deno run --allow-all bench/runtime_bench.ts

import { type BenchResult, median } from "./types.ts";
import { defaultSpec } from "../lib/runtime/spec.ts";

const entry = new URL("../cmd/mini_runc.ts", import.meta.url).pathname;

async function commandPath(name: string): Promise<string | undefined> {
  const output = await new Deno.Command("sh", {
    args: ["-c", `command -v ${name}`],
    stdout: "piped",
  }).output();
  return output.success ? new TextDecoder().decode(output.stdout).trim() : undefined;
}

/** A bundle with a busybox rootfs whose process is `args`. */
async function makeBundle(directory: string, args: string[]): Promise<string> {
  const rootfs = `${directory}/rootfs`;
  for (const sub of ["bin", "proc", "sys", "dev", "etc", "tmp"]) {
    await Deno.mkdir(`${rootfs}/${sub}`, { recursive: true });
  }
  const busybox = await commandPath("busybox");
  if (!busybox) throw new Error("busybox is needed (Debian: busybox-static)");
  await Deno.copyFile(busybox, `${rootfs}/bin/busybox`);
  for (const applet of ["sh", "true"]) await Deno.symlink("busybox", `${rootfs}/bin/${applet}`);
  const spec = defaultSpec();
  spec.process!.terminal = false;
  spec.process!.args = args;
  await Deno.writeTextFile(`${directory}/config.json`, JSON.stringify(spec, null, 2));
  return directory;
}

async function timeOnce(command: string, args: string[]): Promise<number> {
  const started = performance.now();
  const output = await new Deno.Command(command, {
    args,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).output();
  const elapsed = performance.now() - started;
  if (!output.success) {
    throw new Error(`${command} ${args.join(" ")}: ${new TextDecoder().decode(output.stderr)}`);
  }
  return elapsed;
}

function figure(name: string, samples: number[], baseline?: [string, number[]]): BenchResult {
  const value = median(samples);
  const result: BenchResult = { name, value: Math.round(value * 10) / 10, unit: "ms" };
  if (baseline) {
    const baselineValue = median(baseline[1]);
    result.baseline = { name: baseline[0], value: Math.round(baselineValue * 10) / 10 };
    result.ratio = Math.round((value / baselineValue) * 100) / 100;
  }
  return result;
}

/**
 * `mini-runc run` vs `runc run` of `true` in the same bundle (medians of `rounds` runs),
 * and the bare start-up of a Deno program vs a Go one, the floor under both.
 */
export async function benchRuntime(rounds = 10): Promise<BenchResult[]> {
  const runc = await commandPath("runc");
  const base = await Deno.makeTempDir({ prefix: "mini-runc-bench-" });
  try {
    const bundle = await makeBundle(`${base}/bundle`, ["true"]);
    const miniArgs = (id: string) => [
      "run",
      "--allow-all",
      "--quiet",
      entry,
      "--root",
      `${base}/mini-state`,
      "run",
      "--bundle",
      bundle,
      id,
    ];
    const runcArgs = (
      id: string,
    ) => ["--root", `${base}/runc-state`, "run", "--bundle", bundle, id];
    // One warm-up each: Deno compiles and caches the modules on first use.
    await timeOnce(Deno.execPath(), miniArgs("warm-mini"));
    if (runc) await timeOnce(runc, runcArgs("warm-runc"));
    const mini: number[] = [];
    const real: number[] = [];
    for (let round = 0; round < rounds; round++) {
      mini.push(await timeOnce(Deno.execPath(), miniArgs(`mini-${round}`)));
      if (runc) real.push(await timeOnce(runc, runcArgs(`runc-${round}`)));
    }
    // The floor under both: one bare start-up of each language's program.
    const empty = `${base}/empty.ts`;
    await Deno.writeTextFile(empty, "");
    const denoFloor: number[] = [];
    const goFloor: number[] = [];
    for (let round = 0; round < rounds; round++) {
      denoFloor.push(await timeOnce(Deno.execPath(), ["run", "--quiet", "--no-config", empty]));
      if (runc) goFloor.push(await timeOnce(runc, ["--version"]));
    }
    return [
      figure("mini-runc run (busybox true)", mini, runc ? ["runc run", real] : undefined),
      figure(
        "start-up floor: deno run (empty module)",
        denoFloor,
        runc ? ["runc --version", goFloor] : undefined,
      ),
    ];
  } finally {
    await Deno.remove(base, { recursive: true }).catch(() => {});
  }
}

if (import.meta.main) console.table(await benchRuntime());
