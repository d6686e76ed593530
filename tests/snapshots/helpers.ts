// Helpers shared by the snapshot, unpack and lab tests: mounting for a moment, reading
// trees back, and checking that no mount was left behind.

import { join } from "node:path";
import { readMountInfo } from "../../lib/linux/mountinfo.ts";
import { layerStack } from "../../lib/mount/layers.ts";
import { withTempMount } from "../../lib/mount/temp.ts";
import type { Mount } from "../../lib/mount/types.ts";
import { AssertionError } from "../helpers/assert.ts";
import { unmountBelow } from "../helpers/cleanup.ts";

let mountParent: string | undefined;

/**
 * A directory of this test process under which its temporary mounts go, so checks for
 * leftovers look only at this process's mounts (tests of other files run in parallel).
 */
export function testMountParent(): string {
  if (mountParent === undefined) {
    const parent = Deno.makeTempDirSync({ prefix: "mini-test-mounts-" });
    mountParent = parent;
    globalThis.addEventListener("unload", () => {
      try {
        Deno.removeSync(parent);
      } catch { /* not empty: a mount was left behind, and a test said so */ }
    });
  }
  return mountParent;
}

/** Mounts `mounts` on a temp dir for the duration of `work`. */
export async function withMounted<T>(mounts: Mount[], work: (root: string) => Promise<T>) {
  return await withTempMount(mounts, work, { parent: testMountParent() });
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

/** Mounts whose mount point, or whose options (an overlay's layer paths), contain `fragment`. */
export function mountsContaining(fragment: string): string[] {
  return readMountInfo()
    .filter((mount) =>
      mount.mountPoint.includes(fragment) || mount.superOptions.includes(fragment) ||
      mount.source.includes(fragment)
    )
    .map((mount) => mount.mountPoint);
}

/** Fails when a mount at, or made of directories under, a path containing `fragment` is left. */
export function assertNoMountsUnder(fragment: string): void {
  const left = mountsContaining(fragment);
  if (left.length > 0) throw new AssertionError(`mounts left behind: ${left.join(", ")}`);
}

/**
 * Removes a test's temp root, first detaching (lazily) any mount still under it, so a
 * failed assertion reports itself instead of an EBUSY from the removal. Test files run as
 * threads of one process: a child forked by another thread can hold, for a moment, a file
 * this test just read inside a mount, and then a plain unmount is refused.
 */
export async function removeTestRoot(base: string): Promise<void> {
  unmountBelow(base);
  await Deno.remove(base, { recursive: true });
}

/** Sorted names of the entries of a directory. */
export async function listNames(path: string): Promise<string[]> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(path)) names.push(entry.name);
  return names.sort();
}
