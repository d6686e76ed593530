// Helpers shared by the snapshot, unpack and lab tests: mounting for a moment, reading
// trees back, and checking that no mount was left behind.

import { join } from "node:path";
import { readMountInfo } from "../../lib/linux/mountinfo.ts";
import { layerStack } from "../../lib/mount/layers.ts";
import { withTempMount } from "../../lib/mount/temp.ts";
import type { Mount } from "../../lib/mount/types.ts";
import { AssertionError } from "../helpers/assert.ts";

/** Mounts `mounts` on a temp dir for the duration of `work`. */
export async function withMounted<T>(mounts: Mount[], work: (root: string) => Promise<T>) {
  return await withTempMount(mounts, work);
}

/** Writes files (path → content) under `root`, creating parent directories. */
export async function writeFiles(root: string, files: Record<string, string>): Promise<void> {
  for (const [path, content] of Object.entries(files)) {
    const full = join(root, path);
    await Deno.mkdir(join(full, ".."), { recursive: true });
    await Deno.writeTextFile(full, content);
  }
}

/** Writes straight into the writable directory behind an Active snapshot's mounts. */
export async function writeIntoSnapshot(mounts: Mount[], files: Record<string, string>) {
  const writable = layerStack(mounts)?.writable;
  if (!writable) throw new AssertionError(`no writable directory in ${JSON.stringify(mounts)}`);
  await writeFiles(writable, files);
}

/** Reads a text file, or undefined when it does not exist. */
export async function readOptional(path: string): Promise<string | undefined> {
  try {
    return await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
}

/** Mount points of this process whose path contains `fragment`. */
export function mountsContaining(fragment: string): string[] {
  return readMountInfo().map((mount) => mount.mountPoint).filter((point) =>
    point.includes(fragment)
  );
}

/** Fails when a mount whose path contains `fragment` is still there. */
export function assertNoMountsUnder(fragment: string): void {
  const left = mountsContaining(fragment);
  if (left.length > 0) throw new AssertionError(`mounts left behind: ${left.join(", ")}`);
}

/** Sorted names of the entries of a directory. */
export async function listNames(path: string): Promise<string[]> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(path)) names.push(entry.name);
  return names.sort();
}
