// What this teaches: `--filter key=value` flags travel to the daemon as one JSON query
// parameter, `filters={"status":{"exited":true},"label":{"a=b":true}}`: each key maps
// to the set of accepted values. Mirrors docker/cli's opts/filter.go and moby's
// api/types/filters (ToJSON).

import type { FlagSpec } from "../flags.ts";

/** The `-f/--filter` flag as list commands declare it. */
export const FILTER_FLAG: FlagSpec = {
  name: "filter",
  short: "f",
  kind: "list",
  valueName: "filter",
  description: "Filter output based on conditions provided",
};

/** Turns `key=value` filters into the daemon's JSON form; undefined when there are none. */
export function filtersQuery(
  filters: string[],
  extra: Record<string, string[]> = {},
): string | undefined {
  const result: Record<string, Record<string, boolean>> = {};
  const add = (key: string, value: string) => ((result[key] ??= {})[value] = true);
  for (const filter of filters) {
    const equals = filter.indexOf("=");
    if (equals === -1) throw new Error(`bad format of filter (expected name=value)`);
    add(filter.slice(0, equals).trim().toLowerCase(), filter.slice(equals + 1).trim());
  }
  for (const [key, values] of Object.entries(extra)) for (const value of values) add(key, value);
  return Object.keys(result).length === 0 ? undefined : JSON.stringify(result);
}
