// What this teaches: where CNI configurations come from. A runtime reads a directory
// (by convention /etc/cni/net.d), takes the files ending in .conflist, .conf or .json
// in name order (hence names like 10-mynet.conflist), and uses the first one (or the
// first N). A .conf holds a single plugin and is treated as a list of one.
// Mirrors libcni's conf.go (ConfFiles, ConfListFromFile, ConfListFromConf).

import type { NetworkConfigList, PluginConfig } from "./types.ts";

const extensions = [".conflist", ".conf", ".json"];

/** The configuration files of `directory`, in the order a runtime considers them. */
export function configFiles(directory: string): string[] {
  let entries: Deno.DirEntry[];
  try {
    entries = [...Deno.readDirSync(directory)];
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return [];
    throw error;
  }
  return entries
    .filter((entry) => entry.isFile && extensions.some((ext) => entry.name.endsWith(ext)))
    .map((entry) => `${directory}/${entry.name}`)
    .sort();
}

function requireString(value: unknown, what: string, source: string): string {
  if (typeof value !== "string" || value === "") {
    throw new Error(`${source}: ${what} must be a non-empty string`);
  }
  return value;
}

/** Parses a configuration's text (.conflist, or a single plugin's .conf). */
export function parseConfig(text: string, source: string): NetworkConfigList {
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new Error(`${source}: not valid JSON (${(error as Error).message})`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new Error(`${source}: expected a JSON object`);
  }
  const name = requireString(parsed.name, '"name"', source);
  const cniVersion = typeof parsed.cniVersion === "string" ? parsed.cniVersion : "0.2.0";
  let plugins: PluginConfig[];
  if ("plugins" in parsed) {
    if (!Array.isArray(parsed.plugins) || parsed.plugins.length === 0) {
      throw new Error(`${source}: "plugins" must be a non-empty list`);
    }
    plugins = parsed.plugins as PluginConfig[];
  } else {
    // A single-plugin .conf: everything but the list-level keys is the plugin.
    plugins = [parsed as PluginConfig];
  }
  for (const [index, plugin] of plugins.entries()) {
    requireString(plugin?.type, `plugins[${index}].type`, source);
  }
  return {
    cniVersion,
    name,
    disableCheck: parsed.disableCheck === true,
    plugins,
    source,
  };
}

/** Loads the first `count` configurations of `directory`; throws when there are none. */
export function loadConfigs(directory: string, count = 1): NetworkConfigList[] {
  const files = configFiles(directory);
  if (files.length === 0) {
    throw new Error(
      `no CNI network configuration in ${directory}: add a .conflist file ` +
        "(see docs/course/09-networking.md for an example)",
    );
  }
  return files.slice(0, count).map((file) => parseConfig(Deno.readTextFileSync(file), file));
}

/** go-cni's loopback network: brings `lo` up in the container. */
export const loopbackNetwork: NetworkConfigList = {
  cniVersion: "0.3.1",
  name: "cni-loopback",
  plugins: [{ type: "loopback" }],
};
