// What this teaches: a daemon that takes a spec from a client checks its shape before
// storing it, so a typo ("netwrok") fails at `containers create` with a message naming
// the field, not minutes later as a cryptic runtime error. The runtime checks again when
// it runs the spec (runc's libcontainer/configs/validate); this is the early, cheap
// check. Mirrors the spirit of containerd's container validation in
// `core/metadata/containers.go` (validateContainer) applied to the spec it carries.

import { invalidArgument } from "../api/errors.ts";
import type { Spec } from "./types.ts";

/** Namespace types the kernel has (runtime-spec config-linux.md). */
export const KNOWN_NAMESPACE_TYPES: readonly string[] = [
  "pid",
  "network",
  "mount",
  "ipc",
  "uts",
  "user",
  "cgroup",
  "time",
];

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === "string");
}

/**
 * Checks that `value` looks like an OCI runtime spec and returns it typed. With
 * `requireProcess` (task creation) the process must have arguments to run.
 * Throws invalid_argument naming the first bad field.
 */
export function validateSpec(value: unknown, options: { requireProcess?: boolean } = {}): Spec {
  const bad = (field: string, problem: string) =>
    invalidArgument(`invalid OCI spec: ${field} ${problem}`);
  if (!isObject(value)) throw bad("document", "must be a JSON object");
  if (typeof value.ociVersion !== "string") throw bad("ociVersion", "must be a string");
  if (value.root !== undefined) {
    if (!isObject(value.root) || typeof value.root.path !== "string" || value.root.path === "") {
      throw bad("root.path", "must be a non-empty string");
    }
  }
  const process = value.process;
  if (process !== undefined) {
    if (!isObject(process)) throw bad("process", "must be an object");
    if (!isStringArray(process.args)) throw bad("process.args", "must be an array of strings");
    if (typeof process.cwd !== "string" || !process.cwd.startsWith("/")) {
      throw bad("process.cwd", "must be an absolute path");
    }
    if (process.env !== undefined && !isStringArray(process.env)) {
      throw bad("process.env", "must be an array of KEY=value strings");
    }
    if (
      !isObject(process.user) || !Number.isInteger(process.user.uid) ||
      !Number.isInteger(process.user.gid)
    ) {
      throw bad("process.user", "must have integer uid and gid");
    }
  }
  if (options.requireProcess) {
    if (!isObject(process)) throw bad("process", "is required to start a task");
    if ((process.args as string[]).length === 0) {
      throw bad("process.args", "is empty: give a command, or use an image with CMD/ENTRYPOINT");
    }
  }
  if (value.mounts !== undefined) {
    if (!Array.isArray(value.mounts)) throw bad("mounts", "must be an array");
    value.mounts.forEach((mount, index) => {
      if (!isObject(mount) || typeof mount.destination !== "string") {
        throw bad(`mounts[${index}].destination`, "must be a string");
      }
      if (mount.options !== undefined && !isStringArray(mount.options)) {
        throw bad(`mounts[${index}].options`, "must be an array of strings");
      }
    });
  }
  const linux = value.linux;
  if (linux !== undefined) {
    if (!isObject(linux)) throw bad("linux", "must be an object");
    if (linux.namespaces !== undefined) {
      if (!Array.isArray(linux.namespaces)) throw bad("linux.namespaces", "must be an array");
      linux.namespaces.forEach((namespace, index) => {
        if (!isObject(namespace) || !KNOWN_NAMESPACE_TYPES.includes(String(namespace.type))) {
          throw bad(
            `linux.namespaces[${index}].type`,
            `${JSON.stringify(isObject(namespace) ? namespace.type : namespace)} is not a ` +
              `namespace type (use one of ${KNOWN_NAMESPACE_TYPES.join(", ")})`,
          );
        }
      });
    }
    const memory = isObject(linux.resources) ? linux.resources.memory : undefined;
    if (isObject(memory) && memory.limit !== undefined) {
      if (!Number.isInteger(memory.limit) || (memory.limit as number) < -1) {
        throw bad("linux.resources.memory.limit", "must be a whole number of bytes (or -1)");
      }
    }
  }
  return value as unknown as Spec;
}
