// What this teaches: invoking a CNI plugin is just running a program. Its environment
// says what to do and to which container; stdin carries the network configuration
// (with `name`, `cniVersion`, `prevResult` and `runtimeConfig` filled in by the
// runtime); stdout carries the result, or an error object with a non-zero exit status.
// Mirrors libcni's api.go (buildOneConfig, injectRuntimeConfig) and pkg/invoke
// (ExecPluginWithResult, FindInPath).

import { spawnInNetworkNamespace } from "../network/sandbox/enter.ts";
import type {
  CapabilityArgs,
  CniErrorBody,
  CniResult,
  NetworkConfigList,
  PluginConfig,
} from "./types.ts";

/** The CNI operations. */
export type CniCommand = "ADD" | "DEL" | "CHECK" | "VERSION";

/** A plugin failed: its error code and message, as the spec defines them. */
export class CniPluginError extends Error {
  constructor(
    readonly plugin: string,
    readonly command: CniCommand,
    readonly code: number,
    readonly detail: string,
  ) {
    super(`CNI plugin ${plugin} ${command} failed (code ${code}): ${detail}`);
    this.name = "CniPluginError";
  }
}

/** Finds a plugin executable in `binDirs`. */
export function findPlugin(type: string, binDirs: readonly string[]): string {
  if (type.includes("/")) throw new Error(`invalid CNI plugin type "${type}"`);
  for (const directory of binDirs) {
    const path = `${directory}/${type}`;
    try {
      const info = Deno.statSync(path);
      if (info.isFile && ((info.mode ?? 0) & 0o111) !== 0) return path;
    } catch {
      // not in this directory
    }
  }
  throw new Error(
    `CNI plugin "${type}" not found in ${binDirs.join(":")} ` +
      "(Debian: apt-get install containernetworking-plugins, which installs /usr/lib/cni)",
  );
}

/**
 * The stdin configuration for one plugin of a list: the plugin's own keys plus the list's
 * name and version, the previous result, and the runtime values of the capabilities the
 * plugin declared.
 */
export function pluginStdin(
  list: NetworkConfigList,
  plugin: PluginConfig,
  previous: CniResult | undefined,
  capabilityArgs: CapabilityArgs = {},
): Record<string, unknown> {
  const config: Record<string, unknown> = {
    ...plugin,
    name: list.name,
    cniVersion: list.cniVersion,
  };
  if (previous !== undefined) config.prevResult = previous;
  const runtimeConfig: Record<string, unknown> = {};
  for (const [capability, wanted] of Object.entries(plugin.capabilities ?? {})) {
    if (wanted && capabilityArgs[capability] !== undefined) {
      runtimeConfig[capability] = capabilityArgs[capability];
    }
  }
  if (Object.keys(runtimeConfig).length > 0) config.runtimeConfig = runtimeConfig;
  return config;
}

/** What one plugin invocation needs. */
export interface Invocation {
  command: CniCommand;
  containerId: string;
  netns: string;
  ifname: string;
  binDirs: readonly string[];
  /** CNI_ARGS: "K1=V1;K2=V2". */
  args?: string;
  pluginNamespace?: string;
  timeoutMs?: number;
}

/** Runs one plugin; returns its parsed stdout (a result for ADD, nothing for DEL/CHECK). */
export async function invokePlugin(
  invocation: Invocation,
  stdinConfig: Record<string, unknown>,
): Promise<CniResult | undefined> {
  const type = String(stdinConfig.type);
  const path = findPlugin(type, invocation.binDirs);
  const options: Deno.CommandOptions = {
    args: [],
    env: {
      CNI_COMMAND: invocation.command,
      CNI_CONTAINERID: invocation.containerId,
      CNI_NETNS: invocation.netns,
      CNI_IFNAME: invocation.ifname,
      CNI_ARGS: invocation.args ?? "",
      CNI_PATH: invocation.binDirs.join(":"),
    },
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  };
  const child = invocation.pluginNamespace
    ? spawnInNetworkNamespace(invocation.pluginNamespace, path, options)
    : new Deno.Command(path, options).spawn();
  const timer = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch {
      // exited meanwhile
    }
  }, invocation.timeoutMs ?? 60_000);
  try {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(JSON.stringify(stdinConfig)));
    await writer.close();
    const output = await child.output();
    const stdout = new TextDecoder().decode(output.stdout).trim();
    if (!output.success) {
      let body: Partial<CniErrorBody> = {};
      try {
        body = JSON.parse(stdout);
      } catch {
        // not JSON: report stderr below
      }
      const detail = [body.msg, body.details, new TextDecoder().decode(output.stderr).trim()]
        .filter(Boolean).join("; ") || `exit status ${output.code}`;
      throw new CniPluginError(type, invocation.command, body.code ?? output.code, detail);
    }
    if (stdout === "") return undefined;
    return JSON.parse(stdout) as CniResult;
  } finally {
    clearTimeout(timer);
  }
}
