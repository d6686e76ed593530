// Shared helpers for mini-docker's tests: twin fake engines (one for the real docker
// CLI, one for mini-docker, same state and same clock), running both CLIs as
// processes, and normalizing the program name so outputs can be compared.

import { join } from "node:path";
import { type FakeEngine, type SeedContainer, startFakeEngine } from "./fake_engine.ts";
import { missingTool } from "../helpers/requirements.ts";

const repoRoot = new URL("../../", import.meta.url).pathname;

/** What a CLI run produced. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a program with optional stdin, returning its output. */
async function runProgram(
  program: string,
  args: string[],
  env: Record<string, string>,
  stdin?: string,
): Promise<CliResult> {
  const child = new Deno.Command(program, {
    args,
    env,
    stdin: stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(stdin));
    await writer.close();
  }
  const output = await child.output();
  return {
    code: output.code,
    stdout: new TextDecoder().decode(output.stdout),
    stderr: new TextDecoder().decode(output.stderr),
  };
}

/** Runs mini-docker (cmd/mini_docker.ts) against a socket, as a separate process. */
export function runMiniDocker(socket: string, args: string[], stdin?: string): Promise<CliResult> {
  return runProgram(
    Deno.execPath(),
    ["run", "--allow-all", "--quiet", join(repoRoot, "cmd/mini_docker.ts"), ...args],
    { MINI_DOCKER_HOST: `unix://${socket}` },
    stdin,
  );
}

/** Runs the real docker CLI against a socket, with a private config directory. */
export function runRealDocker(
  socket: string,
  configDir: string,
  args: string[],
  stdin?: string,
): Promise<CliResult> {
  return runProgram(
    "docker",
    args,
    { DOCKER_HOST: `unix://${socket}`, DOCKER_CONFIG: configDir },
    stdin,
  );
}

/** Why the real docker 28 CLI cannot be compared against here, or undefined when it can. */
export function missingDocker28(): string | undefined {
  const missing = missingTool("docker");
  if (missing) return missing;
  const output = new Deno.Command("docker", {
    args: ["--version"],
    stdout: "piped",
    stderr: "null",
  })
    .outputSync();
  const text = new TextDecoder().decode(output.stdout);
  return /version 28\./.test(text)
    ? undefined
    : `the comparisons need the docker 28 CLI (found: ${text.trim() || "nothing"})`;
}

/**
 * The server half of `docker info`/`version` output. docker 28 prints the runtimes in Go
 * map order, which changes from run to run (mini sorts them): that line is compared as a
 * sorted set of names.
 */
export function serverHalf(text: string): string {
  return text.slice(text.indexOf("Server:")).replace(
    /^( Runtimes: )(.*)$/m,
    (_line, label: string, names: string) => label + names.split(" ").sort().join(" "),
  );
}

/** mini-docker names itself in messages; docker says "docker". */
export function normalize(text: string): string {
  return text.replaceAll("mini-docker", "docker");
}

/** Two fake engines with the same clock, seed and seeded containers. */
export interface TwinEngines {
  dir: string;
  /** The engine the real docker CLI talks to. */
  real: FakeEngine;
  /** The engine mini-docker talks to. */
  mini: FakeEngine;
  configDir: string;
  close(): Promise<void>;
}

/** Starts twin engines and seeds both with the same containers. */
export async function startTwins(containers: SeedContainer[] = []): Promise<TwinEngines> {
  const dir = await Deno.makeTempDir({ dir: "/tmp", prefix: "mdcli-" });
  const now = Date.now();
  const real = await startFakeEngine(join(dir, "real.sock"), { now });
  const mini = await startFakeEngine(join(dir, "mini.sock"), { now });
  for (const spec of containers) {
    await real.seedContainer(spec);
    await mini.seedContainer(spec);
  }
  const configDir = join(dir, "docker-config");
  await Deno.mkdir(configDir);
  return {
    dir,
    real,
    mini,
    configDir,
    async close() {
      await real.close();
      await mini.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

/** Runs the same command with both CLIs, each against its twin engine. */
export async function runBoth(
  twins: TwinEngines,
  args: string[],
  stdin?: string,
): Promise<{ real: CliResult; mini: CliResult }> {
  const real = await runRealDocker(twins.real.socketPath, twins.configDir, args, stdin);
  const mini = await runMiniDocker(twins.mini.socketPath, args, stdin);
  return {
    real,
    mini: { ...mini, stdout: normalize(mini.stdout), stderr: normalize(mini.stderr) },
  };
}
