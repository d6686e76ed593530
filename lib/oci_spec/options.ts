// What this teaches: the spec options `ctr run` and `docker run` turn their flags into.
// Each is a small function that changes one part of the spec; `generateSpec` applies
// them in order over the default, so a later option (the user's command) overrides an
// earlier one (the image's CMD). Mirrors containerd's `pkg/oci/spec_opts.go`
// (WithImageConfig, WithProcessArgs, WithEnv, WithProcessCwd, WithMemoryLimit,
// WithHostNamespace, WithHostname, WithUserID, WithHostHostsFile, WithHostResolvconf).

import { invalidArgument } from "../api/errors.ts";
import type { ImageConfig } from "../images/types.ts";
import { DEFAULT_PATH_ENV, defaultSpec } from "./defaults.ts";
import type { Process, Spec, SpecOption, SpecTarget } from "./types.ts";

/** Builds a spec: the default for `target`, then every option in order. */
export function generateSpec(target: SpecTarget, ...options: SpecOption[]): Spec {
  const spec = defaultSpec(target);
  for (const option of options) option(spec);
  return spec;
}

function processOf(spec: Spec): Process {
  spec.process ??= { user: { uid: 0, gid: 0 }, args: [], cwd: "/" };
  return spec.process;
}

/**
 * Merges `KEY=value` entries into an environment: a key already present is replaced in
 * place, a new key is appended, and a bare `KEY` (no "=") removes it. This is how the
 * image's ENV lands on top of the default PATH, and `--env` on top of both.
 */
export function mergeEnv(base: readonly string[], overrides: readonly string[]): string[] {
  const result = [...base];
  for (const entry of overrides) {
    const equals = entry.indexOf("=");
    const key = equals < 0 ? entry : entry.slice(0, equals);
    const index = result.findIndex((existing) => existing.split("=", 1)[0] === key);
    if (equals < 0) {
      if (index >= 0) result.splice(index, 1);
    } else if (index >= 0) {
      result[index] = entry;
    } else {
      result.push(entry);
    }
  }
  return result;
}

/**
 * Takes what the image says about running it: ENV over the default PATH, ENTRYPOINT +
 * CMD as the arguments, WORKDIR as the working directory and USER as the identity.
 */
export function withImageConfig(image: ImageConfig): SpecOption {
  return (spec) => {
    const process = processOf(spec);
    const config = image.config ?? {};
    process.env = mergeEnv(process.env ?? [DEFAULT_PATH_ENV], config.Env ?? []);
    process.args = [...(config.Entrypoint ?? []), ...(config.Cmd ?? [])];
    process.cwd = config.WorkingDir || "/";
    if (config.User) withUser(config.User)(spec);
  };
}

/** Replaces the arguments (what `ctr run IMAGE ID CMD...` does with CMD). */
export function withProcessArgs(...args: string[]): SpecOption {
  return (spec) => {
    processOf(spec).args = [...args];
  };
}

/** Adds or replaces environment variables (`--env K=V`). */
export function withEnv(entries: readonly string[]): SpecOption {
  return (spec) => {
    const process = processOf(spec);
    process.env = mergeEnv(process.env ?? [], entries);
  };
}

/** Sets the working directory (`--cwd`); it must be absolute. */
export function withProcessCwd(cwd: string): SpecOption {
  if (!cwd.startsWith("/")) {
    throw invalidArgument(`working directory "${cwd}" must be an absolute path`);
  }
  return (spec) => {
    processOf(spec).cwd = cwd;
  };
}

/** Allocates a terminal for the process (`-t`). */
export function withTerminal(terminal = true): SpecOption {
  return (spec) => {
    processOf(spec).terminal = terminal;
  };
}

/** Sets the hostname the container sees (UTS namespace). */
export function withHostname(hostname: string): SpecOption {
  return (spec) => {
    spec.hostname = hostname;
  };
}

/** Limits memory in bytes (`--memory-limit`); an OOM kill ends the container with 137. */
export function withMemoryLimit(bytes: number): SpecOption {
  if (!Number.isSafeInteger(bytes) || bytes <= 0) {
    throw invalidArgument(`memory limit must be a positive number of bytes, got ${bytes}`);
  }
  return (spec) => {
    spec.linux ??= {};
    spec.linux.resources ??= {};
    spec.linux.resources.memory = { ...spec.linux.resources.memory, limit: bytes };
  };
}

/** Limits the number of processes (a fork bomb stops at the limit). */
export function withPidsLimit(limit: number): SpecOption {
  return (spec) => {
    spec.linux ??= {};
    spec.linux.resources ??= {};
    spec.linux.resources.pids = { limit };
  };
}

/** Shares one of the host's namespaces instead of a new one (`--net-host` → "network"). */
export function withHostNamespace(type: string): SpecOption {
  return (spec) => {
    if (!spec.linux?.namespaces) return;
    spec.linux.namespaces = spec.linux.namespaces.filter((namespace) => namespace.type !== type);
  };
}

/** Bind-mounts the host's /etc/hosts read-only (what `ctr run --net-host` adds). */
export function withHostHostsFile(): SpecOption {
  return (spec) => {
    spec.mounts = [...(spec.mounts ?? []), {
      destination: "/etc/hosts",
      type: "bind",
      source: "/etc/hosts",
      options: ["rbind", "ro"],
    }];
  };
}

/** Bind-mounts the host's /etc/resolv.conf read-only (what `ctr run --net-host` adds). */
export function withHostResolvconf(): SpecOption {
  return (spec) => {
    spec.mounts = [...(spec.mounts ?? []), {
      destination: "/etc/resolv.conf",
      type: "bind",
      source: "/etc/resolv.conf",
      options: ["rbind", "ro"],
    }];
  };
}

/** Uses a directory outside any snapshotter as the root filesystem (`ctr run --rootfs DIR`). */
export function withRootfsPath(path: string, readonly = false): SpecOption {
  if (!path.startsWith("/")) {
    throw invalidArgument(`rootfs "${path}" must be an absolute path`);
  }
  return (spec) => {
    spec.root = { path, readonly };
  };
}

/**
 * Sets the identity from USER-style text: "uid", "uid:gid", or "root". Names other
 * than root need the image's /etc/passwd: use withUserFromFiles.
 */
export function withUser(user: string): SpecOption {
  return withUserFromFiles(user, undefined, undefined);
}

/**
 * Like withUser, resolving names through the text of the image's /etc/passwd and
 * /etc/group when given ("nobody", "www-data:www-data", "1000:staff").
 */
export function withUserFromFiles(
  user: string,
  passwd: string | undefined,
  group: string | undefined,
): SpecOption {
  const [userPart, groupPart] = user.split(":", 2);
  const passwdEntry = lookupColonFile(passwd, userPart);
  let uid: number;
  let gid: number;
  if (/^\d+$/.test(userPart)) {
    uid = Number(userPart);
    gid = passwdEntry ? Number(passwdEntry[3]) : 0;
  } else if (passwdEntry) {
    uid = Number(passwdEntry[2]);
    gid = Number(passwdEntry[3]);
  } else if (userPart === "root") {
    uid = 0;
    gid = 0;
  } else {
    throw invalidArgument(
      `user "${userPart}" cannot be resolved without the image's /etc/passwd: use a numeric uid[:gid]`,
    );
  }
  if (groupPart !== undefined) {
    if (/^\d+$/.test(groupPart)) gid = Number(groupPart);
    else {
      const groupEntry = lookupColonFile(group, groupPart);
      if (!groupEntry) {
        throw invalidArgument(`group "${groupPart}" not found: use a numeric gid`);
      }
      gid = Number(groupEntry[2]);
    }
  }
  return (spec) => {
    const process = processOf(spec);
    process.user = { ...process.user, uid, gid };
  };
}

/** Finds the line of /etc/passwd or /etc/group whose first field (or, for numbers, third) matches. */
function lookupColonFile(text: string | undefined, name: string): string[] | undefined {
  if (text === undefined) return undefined;
  for (const line of text.split("\n")) {
    const fields = line.split(":");
    if (fields.length < 4) continue;
    if (fields[0] === name || (/^\d+$/.test(name) && fields[2] === name)) return fields;
  }
  return undefined;
}
