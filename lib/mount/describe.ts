// What this teaches: a Mount is exactly what you would type to mount(8). `ctr snapshots
// mounts` prints it that way, so a reader can paste the line into a shell and look at the
// snapshot by hand. Mirrors the printMounts helper of containerd's
// cmd/ctr/commands/snapshots/snapshots.go.

import type { Mount } from "./types.ts";

/** `mount -t TYPE SOURCE TARGET -o OPTIONS`, in ctr's word order. */
export function mountCommandLine(description: Mount, target: string): string {
  const options = description.options.length > 0 ? ` -o ${description.options.join(",")}` : "";
  return `mount -t ${description.type} ${description.source} ${target}${options}`;
}
