// What this teaches: the last steps before the container's command runs, in the order
// that keeps them possible: limits first, then drop the bounding set while still root,
// switch groups and user (keeping capabilities across the switch), set the final
// capability sets, forbid new privileges, reset signals, mark every inherited descriptor
// close-on-exec, and execve. Mirrors runc's libcontainer/init_linux.go (finalizeNamespace,
// setupUser) and standard_init_linux.go / setns_init_linux.go (the exec at the end).

import {
  capabilityNumber,
  dropBoundingSet,
  lastCapability,
  setAmbientCapabilities,
  setCapabilities,
  setKeepCapabilities,
  setNoNewPrivileges,
} from "../../linux/capabilities.ts";
import { Errno, LinuxError } from "../../linux/errors.ts";
import { execve } from "../../linux/exec.ts";
import { closeOnExecFrom } from "../../linux/files.ts";
import { setgroups, setresgid, setresuid, umask } from "../../linux/identity.ts";
import { rlimitNumbers, setResourceLimit } from "../../linux/rlimits.ts";
import { resetSignals } from "../../linux/signals.ts";
import type { Process } from "../types.ts";

const defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

function environmentValue(env: readonly string[], name: string): string | undefined {
  const entry = env.find((item) => item.startsWith(`${name}=`));
  return entry?.slice(name.length + 1);
}

function isExecutableFile(path: string): boolean {
  try {
    const info = Deno.statSync(path);
    return info.isFile && ((info.mode ?? 0) & 0o111) !== 0;
  } catch {
    return false;
  }
}

/**
 * Finds the program the way execvp would, on the container's PATH, as seen from inside
 * the container. Done before `start` so a typo fails `create` with a clear message.
 */
export function lookPath(name: string, env: readonly string[]): string {
  if (name.includes("/")) {
    if (isExecutableFile(name)) return name;
    throw new Error(`exec: "${name}": no such executable file (or it is not executable)`);
  }
  const searchPath = environmentValue(env, "PATH") ?? defaultPath;
  for (const directory of searchPath.split(":")) {
    const candidate = `${directory || "."}/${name}`;
    if (isExecutableFile(candidate)) return candidate;
  }
  throw new Error(`exec: "${name}": executable file not found in $PATH`);
}

/** The environment with HOME filled in from the container's /etc/passwd, as runc does. */
export function environmentWithHome(process: Process): string[] {
  const env = [...(process.env ?? [])];
  if (environmentValue(env, "HOME") !== undefined) return env;
  let home = "/";
  try {
    for (const line of Deno.readTextFileSync("/etc/passwd").split("\n")) {
      const fields = line.split(":");
      if (fields.length >= 6 && Number(fields[2]) === process.user.uid) {
        home = fields[5] || "/";
        break;
      }
    }
  } catch {
    // No /etc/passwd in the image: "/" it is.
  }
  env.push(`HOME=${home}`);
  return env;
}

function capabilitySet(names: readonly string[] | undefined): Set<number> {
  const last = lastCapability();
  const numbers = new Set<number>();
  for (const name of names ?? []) {
    const number = capabilityNumber(name);
    if (number !== undefined && number <= last) numbers.add(number);
  }
  return numbers;
}

/** Applies rlimits, credentials, capabilities and no_new_privs to the calling process. */
export function applyProcessSettings(process: Process): void {
  for (const limit of process.rlimits ?? []) {
    const resource = rlimitNumbers[limit.type];
    if (resource === undefined) throw new Error(`unknown rlimit type "${limit.type}"`);
    setResourceLimit(resource, BigInt(limit.soft), BigInt(limit.hard));
  }
  const capabilities = process.capabilities;
  if (capabilities) dropBoundingSet(capabilitySet(capabilities.bounding));

  const { uid, gid, additionalGids = [] } = process.user;
  setKeepCapabilities(true);
  setgroups(additionalGids);
  setresgid(gid, gid, gid);
  setresuid(uid, uid, uid);
  setKeepCapabilities(false);

  if (capabilities) {
    setCapabilities({
      effective: capabilitySet(capabilities.effective),
      permitted: capabilitySet(capabilities.permitted),
      inheritable: capabilitySet(capabilities.inheritable),
    });
    setAmbientCapabilities(capabilitySet(capabilities.ambient));
  }
  if (process.noNewPrivileges) setNoNewPrivileges();
  umask(process.user.umask ?? 0o022);
}

/**
 * Becomes the container's command. `preserveFds` descriptors after stdio stay open;
 * every other inherited descriptor is closed by execve. Never returns: on failure it
 * exits 127 (not found) or 126 (found but not runnable), like a shell.
 */
export function execProcess(program: string, args: string[], env: string[], preserveFds = 0) {
  resetSignals();
  closeOnExecFrom(3 + preserveFds);
  try {
    execve(program, args, env);
  } catch (error) {
    const notFound = error instanceof LinuxError && error.errno === Errno.ENOENT;
    console.error(`mini-runc init: exec ${JSON.stringify(program)}: ${(error as Error).message}`);
    Deno.exit(notFound ? 127 : 126);
  }
}
