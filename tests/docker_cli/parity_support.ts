// What this teaches: how one test drives the same daemon through two different
// clients — the real docker CLI and mini-docker — so every case in the parity table
// checks both. A client here is just "how to run a command line": a program, its
// address flag or environment, and (for -t cases) a pseudo terminal from util-linux
// `script`. Plus the host-side facts the cases check against: a container's cgroup
// files (v1 or v2, found through /proc/<pid>/cgroup), and output normalization for
// comparing the two clients' stdout (IDs and "5 seconds ago" differ between runs).
// Mirrors nothing in moby; it is the harness around docker/cli's e2e tests' idea.

import { join } from "node:path";
import { type CommandResult, REPO_ROOT, run, type TestDockerd } from "../helpers/dockerd.ts";

/** One way of talking to the daemon under test. */
export interface ParityClient {
  /** "docker" or "mini-docker". */
  name: string;
  /** A short tag for container names, so the two clients' containers never clash. */
  tag: string;
  /** Runs a command line (without the program name) and collects its output. */
  cli(args: string[], stdin?: string): Promise<CommandResult>;
  /** Runs with the daemon address given another way (flag or environment). */
  cliWith(addressArgs: string[], env: Record<string, string>, args: string[]): Promise<
    CommandResult
  >;
  /** The full argv (program first) for running it under a terminal. */
  argv(args: string[]): string[];
  /** The environment the client needs (address, private config). */
  env: Record<string, string>;
}

const miniDockerProgram = [
  Deno.execPath(),
  "run",
  "--allow-all",
  "--quiet",
  join(REPO_ROOT, "cmd/mini_docker.ts"),
];

/** The real docker CLI and mini-docker, both pointed at `daemon`. */
export function parityClients(daemon: TestDockerd): ParityClient[] {
  const encode = (stdin?: string) =>
    stdin === undefined ? {} : { stdin: new TextEncoder().encode(stdin) };
  const dockerConfig = join(daemon.paths.base, "docker-config");
  const dockerEnv = { DOCKER_HOST: daemon.dockerHost, DOCKER_CONFIG: dockerConfig };
  const miniEnv = { MINI_DOCKER_HOST: daemon.dockerHost };
  return [
    {
      name: "docker",
      tag: "d",
      cli: (args, stdin) => daemon.docker(args, encode(stdin)),
      cliWith: (addressArgs, env, args) =>
        run("docker", [...addressArgs, ...args], { env: { DOCKER_CONFIG: dockerConfig, ...env } }),
      argv: (args) => ["docker", ...args],
      env: dockerEnv,
    },
    {
      name: "mini-docker",
      tag: "m",
      cli: (args, stdin) => daemon.miniDocker(args, encode(stdin)),
      cliWith: (addressArgs, env, args) =>
        run(miniDockerProgram[0], [...miniDockerProgram.slice(1), ...addressArgs, ...args], {
          env,
        }),
      argv: (args) => [...miniDockerProgram, ...args],
      env: miniEnv,
    },
  ];
}

/** One exchange of a terminal session: wait until `waitFor` appears, then type `send`. */
export interface TerminalStep {
  waitFor: string;
  send: string;
}

function shellQuote(word: string): string {
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

/**
 * Runs `argv` on a pseudo terminal (`script -qec`), typing each step's input once its
 * prompt has appeared (a terminal drops input typed before the program reads it, and
 * waiting for the prompt avoids any sleep). Returns everything the terminal showed.
 */
export async function terminalSession(
  argv: string[],
  env: Record<string, string>,
  steps: TerminalStep[],
): Promise<{ output: string; code: number }> {
  const child = new Deno.Command("script", {
    args: ["-qec", argv.map(shellQuote).join(" "), "/dev/null"],
    env: { TERM: "xterm", ...env },
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  const reader = child.stdout.getReader();
  const decoder = new TextDecoder();
  let output = "";
  let seen = 0;
  for (const step of steps) {
    while (!output.slice(seen).includes(step.waitFor)) {
      const { value, done } = await reader.read();
      if (done) break;
      output += decoder.decode(value, { stream: true });
    }
    const at = output.indexOf(step.waitFor, seen);
    if (at < 0) break;
    seen = at + step.waitFor.length;
    await writer.write(new TextEncoder().encode(step.send));
  }
  while (true) {
    const { value, done } = await reader.read();
    if (done) break;
    output += decoder.decode(value, { stream: true });
  }
  await writer.close().catch(() => {});
  const status = await child.status;
  await child.stderr.cancel();
  return { output, code: status.code };
}

/** Which cgroup hierarchy the host runs. */
export function cgroupVersion(): 1 | 2 {
  try {
    Deno.statSync("/sys/fs/cgroup/cgroup.controllers");
    return 2;
  } catch {
    return 1;
  }
}

/**
 * The directory of `pid`'s cgroup for `controller` (v1), or its unified cgroup (v2),
 * read from /proc/<pid>/cgroup as the host sees it.
 */
export function cgroupDirectory(pid: number, controller: string): string {
  const lines = Deno.readTextFileSync(`/proc/${pid}/cgroup`).trim().split("\n");
  if (cgroupVersion() === 2) {
    const unified = lines.find((line) => line.startsWith("0::"));
    if (!unified) throw new Error(`no unified cgroup for pid ${pid}: ${lines.join(" | ")}`);
    return join("/sys/fs/cgroup", unified.slice(3));
  }
  for (const line of lines) {
    const [, controllers, path] = line.split(":");
    if (controllers.split(",").includes(controller)) {
      return join("/sys/fs/cgroup", controller, path);
    }
  }
  throw new Error(`pid ${pid} has no ${controller} cgroup: ${lines.join(" | ")}`);
}

/** The memory limit in bytes applied to `pid`'s cgroup ("max" → undefined). */
export function memoryLimit(pid: number): number | undefined {
  const directory = cgroupDirectory(pid, "memory");
  const file = cgroupVersion() === 2 ? "memory.max" : "memory.limit_in_bytes";
  const text = Deno.readTextFileSync(join(directory, file)).trim();
  return text === "max" ? undefined : Number(text);
}

/** The pids limit of `pid`'s cgroup ("max" → undefined). */
export function pidsLimit(pid: number): number | undefined {
  const text = Deno.readTextFileSync(join(cgroupDirectory(pid, "pids"), "pids.max")).trim();
  return text === "max" ? undefined : Number(text);
}

/**
 * Output with what legitimately differs between two runs blanked out: container IDs
 * (full and short), durations such as "5 seconds ago" / "Up 3 seconds", timestamps,
 * and the column padding that a longer duration changes.
 */
export function withoutRunDetails(text: string): string {
  return text
    .replace(/\b[0-9a-f]{64}\b/g, "<id>")
    .replace(/\b[0-9a-f]{12}\b/g, "<short-id>")
    .replace(
      /(Less than a second|About a minute|About an hour|\d+ (seconds?|minutes?|hours?|days?))/g,
      "<duration>",
    )
    .replace(/\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(\.\d+)?( ?[+-]\d\d:?\d\d( [A-Z]+)?|Z)?/g, "<time>")
    .replace(/ {2,}/g, "  ");
}
