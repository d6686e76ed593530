// What this teaches: the mounts of an overlay snapshot are also a readable list of
// directories. "lowerdir=A:B,upperdir=U" means the stack U (writable, on top), A, B; a
// bind of D is the one-directory stack D. The differ and the applier use this to work on
// the directories themselves instead of on a mounted view: applying a layer straight into
// an upperdir, or diffing a snapshot by reading only its upperdir, is what containerd's
// overlay "fast paths" do. Mirrors containerd's plugins/diff/walking apply_linux.go
// (getOverlayPath) and continuity's fs/diff overlay detection.

import type { Mount } from "./types.ts";

/** The directories behind a set of mounts, top first. */
export interface LayerStack {
  /** The writable directory, when the mounts have one (an overlay upperdir, a rw bind). */
  writable?: string;
  /** The read-only directories below it, nearest first. */
  readonly: string[];
}

/**
 * Reads the directory stack out of mounts produced by a snapshotter: none (an empty
 * snapshot chain), one bind, or one overlay. Returns undefined for anything else (tmpfs,
 * several stacked mounts...), where only a real mount can tell what the files are.
 */
export function layerStack(mounts: readonly Mount[]): LayerStack | undefined {
  if (mounts.length === 0) return { readonly: [] };
  if (mounts.length > 1) return undefined;
  const [only] = mounts;
  if (only.type === "bind") {
    const readonly = only.options.includes("ro");
    return readonly ? { readonly: [only.source] } : { writable: only.source, readonly: [] };
  }
  if (only.type !== "overlay") return undefined;
  let writable: string | undefined;
  let lowers: string[] = [];
  for (const option of only.options) {
    if (option.startsWith("upperdir=")) writable = option.slice("upperdir=".length);
    if (option.startsWith("lowerdir=")) lowers = option.slice("lowerdir=".length).split(":");
  }
  // Relative lowerdirs only make sense from some working directory we do not know.
  if (lowers.some((dir) => !dir.startsWith("/"))) return undefined;
  return { writable, readonly: lowers };
}

/** Every directory of a stack, top first. */
export function stackDirectories(stack: LayerStack): string[] {
  return stack.writable === undefined ? [...stack.readonly] : [stack.writable, ...stack.readonly];
}
