// What this teaches: a tar entry's name is untrusted input. Names like "../../etc/passwd"
// or "/etc/passwd" are how "zip slip" attacks write outside the extraction directory.
// This module turns a name into safe path components *before* anything touches the disk.
// Mirrors the name checks in containerd's pkg/archive/tar.go (applyNaive: filepath.Clean,
// the "path escapes from parent" error) and GNU tar's stripping of leading "/".

import { LayerEntryError } from "./types.ts";

/**
 * The components of an entry name, relative to the layer root. A leading "/" is dropped
 * (layers made by old tools carry absolute names; GNU tar and containerd treat them as
 * relative too), "." and empty components vanish, and ".." is refused: an honest layer
 * never needs it, and a hostile one uses it to climb out of the target. An empty result
 * means the root directory itself ("./"). `entryName` and `what` word the error when the
 * path checked is not the entry's own name (a hardlink's source).
 */
export function entryComponents(name: string, entryName = name, what = "the name"): string[] {
  if (name.includes("\0")) throw new LayerEntryError(entryName, `${what} contains a NUL byte`);
  const components: string[] = [];
  for (const component of name.split("/")) {
    if (component === "" || component === ".") continue;
    if (component === "..") {
      throw new LayerEntryError(entryName, `${what} contains "..", which would escape the target`);
    }
    components.push(component);
  }
  return components;
}

/** Joins components back into the canonical relative form ("a/b/c", "" for the root). */
export function joinComponents(components: readonly string[]): string {
  return components.join("/");
}
