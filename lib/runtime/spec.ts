// What this teaches: the OCI bundle's config.json: the default one `mini-runc spec`
// writes (the same as `runc spec`), and the checks a runtime makes before it touches the
// kernel, so a bad spec fails early with a message that says what to fix instead of an
// EINVAL from deep inside the init. Mirrors runc's libcontainer/specconv/example.go
// (Example), utils.go (loadSpec) and libcontainer/configs/validate/validator.go.

import { capabilityNumber } from "../linux/capabilities.ts";
import { isNamespaceType } from "../linux/namespaces.ts";
import { rlimitNumbers } from "../linux/rlimits.ts";
import {
  DEFAULT_MASKED_PATHS,
  DEFAULT_PATH_ENV,
  DEFAULT_READONLY_PATHS,
  DEFAULT_ROOTFS_PATH,
  deviceAndSysMounts,
} from "../oci_spec/defaults.ts";
import { ociVersion, type Spec } from "./types.ts";

const defaultCapabilities = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"];

/**
 * The spec `mini-runc spec` writes: runc's example, field for field. The pieces it shares
 * with containerd's default (lib/oci_spec/defaults.ts) come from there; what differs is
 * runc's: a terminal running `sh`, three capabilities, a read-only root, a hostname,
 * /proc without options, a read-only /sys/fs/cgroup and no /run.
 */
export function defaultSpec(): Spec {
  return {
    ociVersion,
    process: {
      terminal: true,
      user: { uid: 0, gid: 0 },
      args: ["sh"],
      env: [DEFAULT_PATH_ENV, "TERM=xterm"],
      cwd: "/",
      capabilities: {
        bounding: [...defaultCapabilities],
        effective: [...defaultCapabilities],
        permitted: [...defaultCapabilities],
        ambient: [...defaultCapabilities],
      },
      rlimits: [{ type: "RLIMIT_NOFILE", hard: 1024, soft: 1024 }],
      noNewPrivileges: true,
    },
    root: { path: DEFAULT_ROOTFS_PATH, readonly: true },
    hostname: "mini-runc",
    mounts: [
      { destination: "/proc", type: "proc", source: "proc" },
      ...deviceAndSysMounts(),
      {
        destination: "/sys/fs/cgroup",
        type: "cgroup",
        source: "cgroup",
        options: ["nosuid", "noexec", "nodev", "relatime", "ro"],
      },
    ],
    linux: {
      resources: { devices: [{ allow: false, access: "rwm" }] },
      // runc's example lists the namespaces in this order (containerd's differs).
      namespaces: [
        { type: "pid" },
        { type: "network" },
        { type: "ipc" },
        { type: "uts" },
        { type: "mount" },
      ],
      maskedPaths: [...DEFAULT_MASKED_PATHS],
      readonlyPaths: [...DEFAULT_READONLY_PATHS],
    },
  };
}

/** A spec the runtime cannot run, with the reason in words. */
export class SpecError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SpecError";
  }
}

/** Reads and parses `<bundle>/config.json`. */
export function loadSpec(bundle: string): Spec {
  const path = `${bundle}/config.json`;
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new SpecError(
        `${path} does not exist: is ${bundle} an OCI bundle? (try mini-runc spec)`,
      );
    }
    throw error;
  }
  try {
    return JSON.parse(text) as Spec;
  } catch (error) {
    throw new SpecError(`${path} is not valid JSON: ${(error as Error).message}`);
  }
}

function isInteger(value: unknown): value is number {
  return typeof value === "number" && Number.isInteger(value);
}

function checkLimit(name: string, value: number | undefined): void {
  if (value === undefined) return;
  if (!isInteger(value) || value < -1) {
    throw new SpecError(`${name} must be a byte count or -1 (unlimited), not ${value}`);
  }
}

/** Rejects what the kernel would reject later, or what mini-runc cannot do. */
function validateResources(spec: Spec): void {
  const resources = spec.linux?.resources;
  if (!resources) return;
  const memory = resources.memory;
  if (memory) {
    checkLimit("linux.resources.memory.limit", memory.limit);
    checkLimit("linux.resources.memory.reservation", memory.reservation);
    checkLimit("linux.resources.memory.swap", memory.swap);
    if (memory.limit !== undefined && memory.limit !== -1 && memory.limit < 4096) {
      throw new SpecError(
        `linux.resources.memory.limit ${memory.limit} is below one page (4096 bytes)`,
      );
    }
    if (
      memory.swap !== undefined && memory.swap > 0 && memory.limit !== undefined &&
      memory.limit > 0 && memory.swap < memory.limit
    ) {
      throw new SpecError(
        `linux.resources.memory.swap (${memory.swap}) counts memory plus swap: ` +
          `it must not be smaller than memory.limit (${memory.limit})`,
      );
    }
    if (
      memory.swappiness !== undefined && memory.swappiness !== null &&
      (!isInteger(memory.swappiness) || memory.swappiness < 0 || memory.swappiness > 100)
    ) {
      throw new SpecError(`linux.resources.memory.swappiness must be 0..100`);
    }
  }
  const cpu = resources.cpu;
  if (cpu) {
    if (cpu.shares !== undefined && (!isInteger(cpu.shares) || cpu.shares < 0)) {
      throw new SpecError(`linux.resources.cpu.shares must be a positive integer`);
    }
    if (
      cpu.period !== undefined &&
      (!isInteger(cpu.period) || cpu.period < 1000 || cpu.period > 1000000)
    ) {
      throw new SpecError(
        `linux.resources.cpu.period must be 1000..1000000 microseconds, not ${cpu.period}`,
      );
    }
    if (
      cpu.quota !== undefined &&
      (!isInteger(cpu.quota) || (cpu.quota > 0 && cpu.quota < 1000) || cpu.quota < -1)
    ) {
      throw new SpecError(
        `linux.resources.cpu.quota must be -1 (no limit) or at least 1000 microseconds, not ${cpu.quota}`,
      );
    }
  }
  const pids = resources.pids;
  if (pids && (!isInteger(pids.limit) || pids.limit < -1)) {
    throw new SpecError(
      `linux.resources.pids.limit must be -1 (no limit) or a count, not ${pids.limit}`,
    );
  }
}

/**
 * Checks a spec before anything is created. Returns warnings for things mini-runc skips
 * (unknown capabilities), throws a SpecError for things it cannot run.
 */
export function validateSpec(spec: Spec): string[] {
  const warnings: string[] = [];
  if (typeof spec.ociVersion !== "string") {
    throw new SpecError(`config.json has no "ociVersion": is this an OCI runtime spec?`);
  }
  const process = spec.process;
  if (!process) throw new SpecError(`config.json has no "process": nothing to run`);
  if (!Array.isArray(process.args) || process.args.length === 0) {
    throw new SpecError(`process.args must name the program to run`);
  }
  if (typeof process.cwd !== "string" || !process.cwd.startsWith("/")) {
    throw new SpecError(`process.cwd must be an absolute path, not ${JSON.stringify(process.cwd)}`);
  }
  if (!process.user || !isInteger(process.user.uid) || !isInteger(process.user.gid)) {
    throw new SpecError(`process.user needs numeric "uid" and "gid"`);
  }
  if (!spec.root?.path) throw new SpecError(`config.json has no "root.path": where is the rootfs?`);

  const seen = new Set<string>();
  for (const namespace of spec.linux?.namespaces ?? []) {
    if (!isNamespaceType(namespace.type)) {
      throw new SpecError(
        `unknown namespace type "${namespace.type}": use pid, network, mount, ipc, uts, cgroup`,
      );
    }
    if (seen.has(namespace.type)) {
      throw new SpecError(`namespace "${namespace.type}" is listed twice`);
    }
    seen.add(namespace.type);
    if (namespace.type === "user") {
      throw new SpecError(
        `user namespaces are not supported by mini-runc: a multithreaded runtime cannot ` +
          `unshare(CLONE_NEWUSER); remove the "user" namespace (and uid/gid mappings)`,
      );
    }
    if (namespace.type === "time") {
      throw new SpecError(`time namespaces are not supported by mini-runc`);
    }
    if (namespace.path !== undefined && !namespace.path.startsWith("/")) {
      throw new SpecError(`namespace "${namespace.type}" path must be absolute`);
    }
  }
  if (!seen.has("mount")) {
    throw new SpecError(`mini-runc needs a "mount" namespace to set up the rootfs`);
  }
  if (spec.hostname && !seen.has("uts")) {
    throw new SpecError(`unable to set hostname without a private UTS namespace`);
  }
  for (const entry of spec.mounts ?? []) {
    if (typeof entry.destination !== "string" || !entry.destination.startsWith("/")) {
      throw new SpecError(`mount destination ${JSON.stringify(entry.destination)} is not absolute`);
    }
  }
  for (const limit of process.rlimits ?? []) {
    if (!(limit.type in rlimitNumbers)) {
      throw new SpecError(`unknown rlimit type "${limit.type}" (e.g. RLIMIT_NOFILE)`);
    }
  }
  const capabilities = process.capabilities ?? {};
  for (const names of Object.values(capabilities) as (string[] | undefined)[]) {
    for (const name of names ?? []) {
      if (capabilityNumber(name) === undefined) {
        warnings.push(`ignoring unknown capability ${name}`);
      }
    }
  }
  validateResources(spec);
  // Security features mini-runc does not implement: say so rather than pretend.
  if (spec.linux?.seccomp) {
    warnings.push("linux.seccomp is not supported by mini-runc: no seccomp filter is applied");
  }
  if (process.apparmorProfile) {
    warnings.push(`process.apparmorProfile "${process.apparmorProfile}" is ignored (no AppArmor)`);
  }
  if (process.selinuxLabel) {
    warnings.push(`process.selinuxLabel is ignored (no SELinux support)`);
  }
  return warnings;
}
