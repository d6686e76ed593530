// What this teaches: what a minimal Linux root filesystem needs. Besides the binary,
// a container expects the standard directories (the runtime mounts /proc, /sys and
// /dev over them), a world-writable sticky /tmp, and /etc/passwd and /etc/group so
// that user names resolve (`id`, `ls -l`, `USER root` in a Dockerfile).
// Applets are hardlinks: in a tar the first path of an inode carries the bytes and
// every later path is a link entry pointing back at it, which is why the entries are
// sorted first and the busybox bytes land on the first applet name ("bin/[").
// Mirrors the layout of the official busybox image (docker-library/busybox).

import type { RootfsEntry } from "./types.ts";

/** The official image's /etc/passwd, trimmed to the accounts a container uses. */
const passwd = [
  "root:x:0:0:root:/root:/bin/sh",
  "daemon:x:1:1:daemon:/usr/sbin:/bin/false",
  "bin:x:2:2:bin:/bin:/bin/false",
  "sys:x:3:3:sys:/dev:/bin/false",
  "sync:x:4:100:sync:/bin:/bin/sync",
  "mail:x:8:8:mail:/var/spool/mail:/bin/false",
  "www-data:x:33:33:www-data:/var/www:/bin/false",
  "operator:x:37:37:Operator:/var:/bin/false",
  "nobody:x:65534:65534:nobody:/home:/bin/false",
].join("\n") + "\n";

/** The official image's /etc/group, trimmed likewise. */
const group = [
  "root:x:0:",
  "daemon:x:1:",
  "bin:x:2:",
  "sys:x:3:",
  "adm:x:4:",
  "tty:x:5:",
  "disk:x:6:",
  "mail:x:8:",
  "wheel:x:10:root",
  "www-data:x:33:",
  "operator:x:37:",
  "users:x:100:",
  "nogroup:x:65534:",
].join("\n") + "\n";

/** Directories of the image and their modes. */
const directories: Array<[string, number]> = [
  ["bin", 0o755],
  ["dev", 0o755],
  ["etc", 0o755],
  ["home", 0o755],
  ["proc", 0o755],
  ["root", 0o700],
  ["sys", 0o755],
  ["tmp", 0o1777],
  ["usr", 0o755],
  ["usr/sbin", 0o755],
  ["var", 0o755],
  ["var/spool", 0o755],
  ["var/spool/mail", 0o755],
  ["var/www", 0o755],
];

const encoder = new TextEncoder();

/**
 * The entries of the busybox root filesystem, sorted by path. `/bin/busybox` and one
 * `/bin/<applet>` per applet all share one inode (hardlinks), as in the official image.
 */
export function busyboxRootfs(busybox: Uint8Array, applets: string[]): RootfsEntry[] {
  const entries: RootfsEntry[] = directories.map(([path, mode]) => ({
    path,
    type: "directory",
    mode,
    uid: 0,
    gid: 0,
  }));
  entries.push(
    {
      path: "etc/passwd",
      type: "file",
      mode: 0o644,
      uid: 0,
      gid: 0,
      content: encoder.encode(passwd),
    },
    {
      path: "etc/group",
      type: "file",
      mode: 0o644,
      uid: 0,
      gid: 0,
      content: encoder.encode(group),
    },
  );
  const binaryPaths = [...new Set(["busybox", ...applets])].map((name) => {
    if (name.includes("/") || name === "." || name === "..") {
      throw new Error(`applet name ${JSON.stringify(name)} is not a plain file name`);
    }
    return `bin/${name}`;
  }).sort(comparePaths);
  const [first, ...others] = binaryPaths;
  entries.push({ path: first, type: "file", mode: 0o755, uid: 0, gid: 0, content: busybox });
  for (const path of others) {
    entries.push({ path, type: "link", mode: 0o755, uid: 0, gid: 0, linkTarget: first });
  }
  return entries.sort((a, b) => comparePaths(a.path, b.path));
}

/** Byte-wise path order, the same on every machine (no locale-dependent collation). */
export function comparePaths(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
