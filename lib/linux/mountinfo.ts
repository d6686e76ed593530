// What this teaches: the kernel's own list of what is mounted where, per mount
// namespace, is /proc/<pid>/mountinfo. Tools read it to find mount points and to
// verify cleanup. Mirrors github.com/moby/sys/mountinfo, which runc and containerd use.

/** One line of /proc/<pid>/mountinfo. */
export interface MountInfo {
  id: number;
  parentId: number;
  /** Path of the mount's root within its filesystem (not "/" for bind mounts). */
  root: string;
  /** Where it is mounted, as seen by the reading process. */
  mountPoint: string;
  options: string;
  fstype: string;
  source: string;
  superOptions: string;
}

// mountinfo escapes space, tab, newline and backslash as octal (\040 ...).
function unescape(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, octal) => String.fromCharCode(parseInt(octal, 8)));
}

/** Parses the mount table of `pid` ("self" by default). */
export function readMountInfo(pid: number | "self" = "self"): MountInfo[] {
  const text = Deno.readTextFileSync(`/proc/${pid}/mountinfo`);
  const mounts: MountInfo[] = [];
  for (const line of text.split("\n")) {
    if (line === "") continue;
    const [left, right = ""] = line.split(" - ");
    const fields = left.split(" ");
    const [fstype, source, superOptions] = right.split(" ");
    mounts.push({
      id: Number(fields[0]),
      parentId: Number(fields[1]),
      root: unescape(fields[3]),
      mountPoint: unescape(fields[4]),
      options: fields[5],
      fstype,
      source: unescape(source ?? ""),
      superOptions: superOptions ?? "",
    });
  }
  return mounts;
}

/** True when `path` (absolute, no trailing slash) is a mount point for `pid`. */
export function isMountPoint(path: string, pid: number | "self" = "self"): boolean {
  return readMountInfo(pid).some((mount) => mount.mountPoint === path);
}
