// What this teaches: the read-only commands: which containers exist (`list`), which host
// processes belong to one (`ps`: the PIDs in its cgroup, shown with the host's `ps`), and
// what this runtime supports (`features`, which lets callers such as containerd check
// before they ask). Mirrors runc's list.go, ps.go and features.go.

import { capabilityNames } from "../linux/capabilities.ts";
import { cgroupManagerAt, isCgroup2UnifiedMode } from "./cgroups/mod.ts";
import type { RuntimeOptions } from "./container.ts";
import { listContainerIds, loadRecord, ociState } from "./state.ts";
import type { OciState } from "./types.ts";
import { ociVersion } from "./types.ts";

/** States of every container under --root (unreadable ones skipped, as runc does). */
export function listContainers(runtime: RuntimeOptions): OciState[] {
  const states: OciState[] = [];
  for (const id of listContainerIds(runtime.root)) {
    try {
      states.push(ociState(runtime.root, loadRecord(runtime.root, id)));
    } catch (error) {
      runtime.logger.warn(`list: skipping ${id}: ${(error as Error).message}`);
    }
  }
  return states;
}

/** Pads columns like Go's text/tabwriter (minwidth 12, padding 1), as `runc list` prints. */
export function formatTable(rows: string[][]): string {
  const widths = rows[0].map((_, column) =>
    Math.max(12, ...rows.map((row) => (row[column] ?? "").length + 1))
  );
  return rows.map((row) =>
    row.map((cell, column) => column === row.length - 1 ? cell : cell.padEnd(widths[column]))
      .join("")
  ).join("\n") + "\n";
}

/** `list` output: a table, JSON, or IDs only (`--quiet`). */
export function renderList(states: OciState[], format: string, quiet: boolean): string {
  if (quiet) return states.map((state) => state.id + "\n").join("");
  if (format === "json") return JSON.stringify(states) + "\n";
  const rows = [["ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"]];
  for (const state of states) {
    rows.push([
      state.id,
      String(state.pid),
      state.status,
      state.bundle,
      state.created,
      state.owner || "root",
    ]);
  }
  return formatTable(rows);
}

/** Host PIDs of every process in the container's cgroup. */
export function containerPids(runtime: RuntimeOptions, id: string): number[] {
  return cgroupManagerAt(loadRecord(runtime.root, id).cgroup).pids();
}

/** `ps` output: JSON PIDs, or the host's `ps <options>` filtered to the container. */
export async function renderPs(
  runtime: RuntimeOptions,
  id: string,
  format: string,
  psOptions: string[],
): Promise<string> {
  const pids = containerPids(runtime, id);
  if (format === "json") return JSON.stringify(pids) + "\n";
  const output = await new Deno.Command("ps", {
    args: psOptions.length > 0 ? psOptions : ["-ef"],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  if (!output.success) throw new Error(`ps ${psOptions.join(" ")} failed`);
  const lines = new TextDecoder().decode(output.stdout).split("\n");
  const pidColumn = lines[0].trim().split(/\s+/).indexOf("PID");
  if (pidColumn < 0) throw new Error(`ps output has no PID column: ${lines[0]}`);
  const wanted = new Set(pids);
  const selected = lines.slice(1).filter((line) => {
    const fields = line.trim().split(/\s+/);
    return line.trim() !== "" && wanted.has(Number(fields[pidColumn]));
  });
  return [lines[0], ...selected].join("\n") + "\n";
}

/** `features`: what this runtime implements, in runc's features JSON format. */
export function features(): Record<string, unknown> {
  return {
    ociVersionMin: "1.0.0",
    ociVersionMax: ociVersion,
    hooks: ["prestart", "createRuntime", "poststart", "poststop"],
    mountOptions: [
      "async",
      "atime",
      "bind",
      "defaults",
      "dev",
      "diratime",
      "dirsync",
      "exec",
      "mand",
      "noatime",
      "nodev",
      "nodiratime",
      "noexec",
      "nomand",
      "norelatime",
      "nostrictatime",
      "nosuid",
      "nosymfollow",
      "private",
      "rbind",
      "relatime",
      "remount",
      "ro",
      "rprivate",
      "rshared",
      "rslave",
      "runbindable",
      "rw",
      "shared",
      "silent",
      "slave",
      "strictatime",
      "suid",
      "sync",
      "unbindable",
    ],
    linux: {
      namespaces: ["cgroup", "ipc", "mount", "network", "pid", "uts"],
      capabilities: [...capabilityNames],
      cgroup: {
        v1: true,
        v2: true,
        systemd: false,
        systemdUser: false,
        current: isCgroup2UnifiedMode() ? "v2" : "v1",
      },
      seccomp: { enabled: false },
      apparmor: { enabled: false },
      selinux: { enabled: false },
    },
    annotations: {
      "org.opencontainers.runc.version": "mini-runc 0.1.0 (runc-compatible command line)",
    },
  };
}
