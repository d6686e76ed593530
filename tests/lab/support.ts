// What this teaches: how a lab script becomes a test. The script prints each command
// as `$ command` followed by its output indented by two spaces; the test runs the
// script in a lab directory of its own (LAB_DIR, kept afterwards so the test can look
// at the files), splits the transcript into (command, output) steps, and asserts what
// the lesson claims about them. Shared by tests/lab/*_lab_test.ts.

import { join } from "node:path";
import { assertEquals } from "../helpers/assert.ts";
import { REPO_ROOT } from "../helpers/containerd.ts";
import { assertNothingLeftBehind, deleteLinkNamed, sweepAndRemove } from "../helpers/cleanup.ts";
import { missingOverlay, missingRoot, missingTool, requirements } from "../helpers/requirements.ts";

/** The two docker clients a Docker-side lesson runs with. */
export const DOCKER_CLIENTS = ["mini-docker", "docker"] as const;

/** One printed command and the output printed under it. */
export interface LabStep {
  command: string;
  output: string;
}

/** What a lab script printed, and where it worked. */
export interface LabRun {
  /** The whole transcript (stdout). */
  output: string;
  /** The lab directory (LAB_DIR); removed by `finish`. */
  lab: string;
  steps: LabStep[];
}

/** Deno.test's `ignore` for a lesson that runs containers under mini-dockerd. */
export function labIgnored(name: string, ...tools: string[]): boolean {
  return requirements(
    name,
    missingRoot(),
    missingOverlay(),
    missingTool("bash"),
    missingTool("curl"),
    ...tools.map((tool) => missingTool(tool)),
  );
}

/** Splits a transcript into steps: `$ command` lines and the indented lines below them. */
export function parseTranscript(output: string): LabStep[] {
  const steps: LabStep[] = [];
  for (const line of output.split("\n")) {
    if (line.startsWith("$ ")) {
      steps.push({ command: line.slice(2), output: "" });
    } else if (line.startsWith("  ") && steps.length > 0) {
      const step = steps[steps.length - 1];
      step.output += (step.output ? "\n" : "") + line.slice(2);
    }
  }
  return steps;
}

/** Runs examples/lab/<script> with the given client; fails with the transcript if it fails. */
export async function runLab(script: string, docker?: string): Promise<LabRun> {
  const lab = await Deno.makeTempDir({ dir: "/tmp", prefix: "mlt-" });
  const environment: Record<string, string> = {
    PATH: Deno.env.get("PATH") ?? "/usr/sbin:/usr/bin:/sbin:/bin",
    HOME: Deno.env.get("HOME") ?? "/root",
    LAB_DIR: lab,
    DENO: Deno.execPath(),
    NO_COLOR: "1",
  };
  if (docker) environment.DOCKER = docker;
  const result = await new Deno.Command("bash", {
    args: [join(REPO_ROOT, "examples/lab", script)],
    env: environment,
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const output = new TextDecoder().decode(result.stdout);
  const errors = new TextDecoder().decode(result.stderr);
  if (result.code !== 0) {
    let log = "";
    try {
      log = await Deno.readTextFile(join(lab, "dockerd.log"));
    } catch { /* no daemon log */ }
    await finish(lab).catch(() => {});
    throw new Error(`${script} failed (${result.code}):\n${output}\n${errors}\n${log}`);
  }
  return { output, lab, steps: parseTranscript(output) };
}

/** Every step whose command starts with `prefix` (the client name is part of it). */
export function stepsStartingWith(run: LabRun, prefix: string): LabStep[] {
  return run.steps.filter((step) => step.command.startsWith(prefix));
}

/** The one step whose command starts with `prefix`; fails when there is none or several. */
export function step(run: LabRun, prefix: string): LabStep {
  const found = stepsStartingWith(run, prefix);
  assertEquals(found.length, 1, `expected one step "${prefix}…", found ${found.length}`);
  return found[0];
}

/**
 * Deletes a link a lab left behind, by the exact name the lab printed (a test's own
 * clean-up; the lab is meant to delete it itself). Returns whether one was there.
 */
export function deleteLinkLeftBehind(name: string): boolean {
  return deleteLinkNamed(name);
}

/**
 * Checks that the lab left no mount and no process behind (ending any it left, by PID,
 * and unmounting what it left mounted), then removes its directory.
 */
export async function finish(lab: string): Promise<void> {
  assertNothingLeftBehind("the lab", await sweepAndRemove(lab));
}
