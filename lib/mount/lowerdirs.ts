// What this teaches: mount(2) copies at most one page (4096 bytes on x86_64) of option
// data into the kernel. An overlay over 128 layers, each named by an absolute path of
// ~90 characters, needs about 11 KiB: too much. Two ways out exist in the wild:
// - Docker's overlay2 gives every layer a 26-character short link `l/<ID>` and mounts with
//   its working directory at the driver root: (26 + 2 + 1) × 128 ≈ 3.7 KiB.
// - containerd keeps its long paths in the snapshotter but, only when the options would
//   not fit, rewrites the lowerdirs relative to their longest common parent directory and
//   performs the mount from inside that directory: `snapshots/` + "12/fs" is 5 characters.
// mini does what containerd does. Mirrors containerd's core/mount/mount_linux.go
// (compactLowerdirOption, longestCommonPrefix, optionsSize).

/** The kernel copies one page of mount data; containerd keeps 512 bytes of head room. */
export const PAGE_SIZE = 4096;
export const MOUNT_DATA_LIMIT = PAGE_SIZE - 512;

/** Bytes the kernel will see for `data` (the options joined by commas, NUL-terminated). */
export function mountDataSize(data: string): number {
  return new TextEncoder().encode(data).length + 1;
}

/** The result of compacting the lowerdir option of an overlay mount. */
export interface CompactedOptions {
  /** The directory to run mount(2) from; empty when nothing was rewritten. */
  workingDirectory: string;
  /** Options with lowerdir relative to `workingDirectory`. */
  options: string[];
}

/**
 * When the lowerdir paths share a parent directory, rewrites them relative to it. The
 * upperdir and workdir stay absolute (there is only one of each; they cost little).
 * Returns the options unchanged (and no working directory) when there is nothing to gain.
 */
export function compactLowerdirs(options: readonly string[]): CompactedOptions {
  const index = options.findIndex((option) => option.startsWith("lowerdir="));
  if (index < 0) return { workingDirectory: "", options: [...options] };
  const lowerdirs = options[index].slice("lowerdir=".length).split(":");
  // One lower directory has nothing to share; relative paths would not shorten anything.
  if (lowerdirs.length < 2) return { workingDirectory: "", options: [...options] };
  const common = commonParentDirectory(lowerdirs);
  if (common === "" || common === "/") return { workingDirectory: "", options: [...options] };
  const relative = lowerdirs.map((dir) => dir.slice(common.length + 1));
  const compacted = [...options];
  compacted[index] = `lowerdir=${relative.join(":")}`;
  return { workingDirectory: common, options: compacted };
}

/**
 * The deepest directory that contains every path ("/a/b/1/fs", "/a/b/2/fs" → "/a/b").
 * Works on whole path components, so "/a/b1" and "/a/b2" share "/a", not "/a/b".
 */
export function commonParentDirectory(paths: readonly string[]): string {
  if (paths.length === 0 || paths.some((path) => !path.startsWith("/"))) return "";
  const split = paths.map((path) => path.split("/").filter((part) => part !== ""));
  const shortest = Math.min(...split.map((parts) => parts.length));
  const shared: string[] = [];
  // Stop one component short of the shortest path: a lowerdir itself is never the prefix.
  for (let depth = 0; depth < shortest - 1; depth++) {
    const component = split[0][depth];
    if (!split.every((parts) => parts[depth] === component)) break;
    shared.push(component);
  }
  return "/" + shared.join("/");
}
