// `mini-ctr <command> [<subcommand>] --help` answers with its usage and exits 0 for
// every command mini-ctr has (taken from lib/ctr/commands/mod.ts, so a new command is
// checked without editing this test), without needing a running mini-containerd.
// Runs the real program as a user would. Also: `-h` and aliases work, `--help` after
// the positionals still counts, a process's own `--help` (`tasks exec ... sh --help`,
// `run IMAGE ID sh --help`) is left to the process, and an unknown flag shows the usage.

import { join } from "node:path";
import { assert, assertEquals, assertStringIncludes } from "../helpers/assert.ts";
import { commands } from "../../lib/ctr/commands/mod.ts";

const repoRoot = new URL("../../", import.meta.url).pathname;
// No daemon answers here: help must not need one.
const nowhere = "/nonexistent/mini-ctr-help-test.sock";

interface Output {
  code: number;
  stdout: string;
  stderr: string;
}

async function miniCtr(args: string[]): Promise<Output> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", "--quiet", join(repoRoot, "cmd/mini_ctr.ts"), ...args],
    env: { MINI_CONTAINERD_ADDRESS: nowhere },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  return {
    code: output.code,
    stdout: new TextDecoder().decode(output.stdout),
    stderr: new TextDecoder().decode(output.stderr),
  };
}

/** Runs `work` over `items`, a few at a time. */
async function inBatches<T>(items: T[], work: (item: T) => Promise<void>, size = 4) {
  for (let start = 0; start < items.length; start += size) {
    await Promise.all(items.slice(start, start + size).map(work));
  }
}

/** Every command line that should print help: [the words, the usage line's start]. */
async function helpCases(): Promise<[string[], string][]> {
  const cases: [string[], string][] = [];
  for (const entry of commands) {
    const command = await entry.load();
    if (!command.subcommands) {
      cases.push([[entry.name], `Usage: mini-ctr ${entry.name}`]);
      continue;
    }
    cases.push([[entry.name], `Usage: mini-ctr ${entry.name} COMMAND`]);
    for (const sub of command.subcommands) {
      cases.push([[entry.name, sub.name], `Usage: mini-ctr ${entry.name} ${sub.name}`]);
    }
  }
  return cases;
}

Deno.test("every mini-ctr command and subcommand answers --help with its usage, exit 0", async () => {
  const cases = await helpCases();
  // Some groups have many subcommands: make sure the list really came from mod.ts.
  assert(cases.length > 40, `only ${cases.length} command lines found`);
  const failures: string[] = [];
  await inBatches(cases, async ([words, usageStart]) => {
    const result = await miniCtr([...words, "--help"]);
    const problem = result.code !== 0
      ? `exit ${result.code}`
      : !result.stdout.startsWith(usageStart)
      ? `stdout does not start with "${usageStart}"`
      : result.stderr !== ""
      ? "something on stderr"
      : undefined;
    if (problem) {
      failures.push(
        `mini-ctr ${words.join(" ")} --help: ${problem}\n${result.stdout}${result.stderr}`,
      );
    }
  });
  assertEquals(failures, []);
});

Deno.test("-h, aliases and --help after the arguments work too", async () => {
  for (
    const [args, usageStart] of [
      [["images", "ls", "-h"], "Usage: mini-ctr images list"],
      [["i", "rm", "--help"], "Usage: mini-ctr images delete"],
      [["tasks", "kill", "-s", "KILL", "some-container", "--help"], "Usage: mini-ctr tasks kill"],
      [["-n", "other", "snapshots", "tree", "--help"], "Usage: mini-ctr snapshots tree"],
      [["run", "--rm", "--help"], "Usage: mini-ctr run [options] IMAGE"],
      [["run", "--env", "A=1", "--help"], "Usage: mini-ctr run [options] IMAGE"],
    ] as [string[], string][]
  ) {
    const result = await miniCtr(args);
    assertEquals(result.code, 0, `${args.join(" ")}: ${result.stderr}`);
    assert(result.stdout.startsWith(usageStart), `${args.join(" ")}:\n${result.stdout}`);
  }
});

Deno.test("a --help that belongs to the container's command is not mini-ctr's", async () => {
  for (
    const args of [
      ["tasks", "exec", "--exec-id", "e1", "some-container", "sh", "--help"],
      ["run", "docker.io/library/busybox:latest", "some-id", "sh", "--help"],
      ["containers", "create", "docker.io/library/busybox:latest", "some-id", "ls", "-h"],
    ]
  ) {
    const result = await miniCtr(args);
    // The command really ran, so it needed the (absent) daemon.
    assertEquals(result.code, 1, `${args.join(" ")}: ${result.stdout}`);
    assertEquals(result.stdout.includes("Usage:"), false, `${args.join(" ")}: ${result.stdout}`);
    assertStringIncludes(result.stderr, "cannot reach the daemon");
  }
});

Deno.test("an unknown flag is a usage error that shows the subcommand's usage", async () => {
  for (
    const [args, usageStart] of [
      [["images", "ls", "--bogus"], "Usage: mini-ctr images list"],
      [["content", "ls", "--bogus"], "Usage: mini-ctr content list"],
      [["images", "pull", "--bogus", "busybox"], "Usage: mini-ctr images pull"],
    ] as [string[], string][]
  ) {
    const result = await miniCtr(args);
    assertEquals(result.code, 1, `${args.join(" ")}: ${result.stdout}`);
    assertStringIncludes(result.stderr, "ctr: Unknown option '--bogus'");
    assertStringIncludes(result.stderr, `\n\n${usageStart}`);
  }
});
