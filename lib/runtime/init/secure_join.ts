// What this teaches: a path inside a container's rootfs must be resolved as the container
// would see it. A symlink "etc -> /" in an image must not send a mount to the host's /etc.
// Each component is resolved by hand, absolute symlinks restart at the rootfs, and ".."
// never climbs above it. Mirrors github.com/cyphar/filepath-securejoin, which runc uses.

const maxSymlinks = 255;

function components(path: string): string[] {
  return path.split("/").filter((part) => part !== "" && part !== ".");
}

/** `unsafePath` resolved inside `root` (symlinks followed, never escaping `root`). */
export function resolveInRoot(root: string, unsafePath: string): string {
  let pending = components(unsafePath);
  const resolved: string[] = [];
  let symlinks = 0;
  while (pending.length > 0) {
    const part = pending.shift()!;
    if (part === "..") {
      resolved.pop();
      continue;
    }
    const candidate = `${root}/${[...resolved, part].join("/")}`;
    let isSymlink = false;
    try {
      isSymlink = Deno.lstatSync(candidate).isSymlink;
    } catch {
      // Does not exist (yet): the rest is created later, as named.
    }
    if (!isSymlink) {
      resolved.push(part);
      continue;
    }
    if (++symlinks > maxSymlinks) {
      throw new Error(`too many levels of symbolic links resolving ${unsafePath} in ${root}`);
    }
    const target = Deno.readLinkSync(candidate);
    if (target.startsWith("/")) resolved.length = 0;
    pending = [...components(target), ...pending];
  }
  return resolved.length === 0 ? root : `${root}/${resolved.join("/")}`;
}
