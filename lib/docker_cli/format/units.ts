// What this teaches: the sizes and ages mini-docker prints come from go-units, shared
// with mini-dockerd and mini-ctr in lib/units/; the CLI only adds the " ago" that
// `docker ps` and `docker images` put after an age. Mirrors docker/cli's use of
// docker/go-units in cli/command/formatter.

import { humanDuration } from "../../units/mod.ts";

export {
  bytesSize,
  formatGoG,
  humanDuration,
  humanSize,
  humanSizeWithPrecision,
  ramInBytes,
} from "../../units/mod.ts";

/** "N units ago" for a unix timestamp in seconds, as `docker ps` and `docker images` show it. */
export function humanSince(unixSeconds: number, now: number = Date.now()): string {
  return `${humanDuration(now - unixSeconds * 1000)} ago`;
}
