// What this teaches: the "options" list of an OCI mount (["rbind","ro","nosuid"]) is not
// passed to the kernel as is. Some words are mount(2) flags, some change propagation
// (a second mount call), and the rest is the filesystem's own data string.
// Mirrors runc's libcontainer/specconv (parseMountOptions) and the fstab conventions.

import { MountFlags } from "./mount.ts";

/** A mount's options, split the way the kernel wants them. */
export interface ParsedMountOptions {
  /** Flags for the mount(2) call itself (MS_RDONLY, MS_BIND, ...). */
  flags: number;
  /** Propagation changes applied with separate mount(2) calls (MS_PRIVATE|MS_REC, ...). */
  propagation: number[];
  /** Everything the kernel does not know as a flag: handed to the filesystem as data. */
  data: string[];
}

// [flag, clear?]: "clear" options undo a flag ("rw" clears MS_RDONLY).
const flagOptions: Record<string, [number, boolean]> = {
  async: [MountFlags.SYNCHRONOUS, true],
  atime: [MountFlags.NOATIME, true],
  bind: [MountFlags.BIND, false],
  defaults: [0, false],
  dev: [MountFlags.NODEV, true],
  diratime: [MountFlags.NODIRATIME, true],
  dirsync: [MountFlags.DIRSYNC, false],
  exec: [MountFlags.NOEXEC, true],
  mand: [MountFlags.MANDLOCK, false],
  noatime: [MountFlags.NOATIME, false],
  nodev: [MountFlags.NODEV, false],
  nodiratime: [MountFlags.NODIRATIME, false],
  noexec: [MountFlags.NOEXEC, false],
  nomand: [MountFlags.MANDLOCK, true],
  norelatime: [MountFlags.RELATIME, true],
  nostrictatime: [MountFlags.STRICTATIME, true],
  nosuid: [MountFlags.NOSUID, false],
  nosymfollow: [MountFlags.NOSYMFOLLOW, false],
  rbind: [MountFlags.BIND | MountFlags.REC, false],
  relatime: [MountFlags.RELATIME, false],
  remount: [MountFlags.REMOUNT, false],
  ro: [MountFlags.RDONLY, false],
  rw: [MountFlags.RDONLY, true],
  silent: [MountFlags.SILENT, false],
  strictatime: [MountFlags.STRICTATIME, false],
  suid: [MountFlags.NOSUID, true],
  sync: [MountFlags.SYNCHRONOUS, false],
  lazytime: [MountFlags.LAZYTIME, false],
  nolazytime: [MountFlags.LAZYTIME, true],
};

/** Mount propagation names (fstab and the OCI spec's `rootfsPropagation`) and their flags. */
export const propagationOptions: Readonly<Record<string, number>> = {
  private: MountFlags.PRIVATE,
  rprivate: MountFlags.PRIVATE | MountFlags.REC,
  shared: MountFlags.SHARED,
  rshared: MountFlags.SHARED | MountFlags.REC,
  slave: MountFlags.SLAVE,
  rslave: MountFlags.SLAVE | MountFlags.REC,
  unbindable: MountFlags.UNBINDABLE,
  runbindable: MountFlags.UNBINDABLE | MountFlags.REC,
};

/** Splits fstab-style options into mount(2) flags, propagation changes and data. */
export function parseMountOptions(options: readonly string[] = []): ParsedMountOptions {
  const parsed: ParsedMountOptions = { flags: 0, propagation: [], data: [] };
  for (const option of options) {
    const flag = flagOptions[option];
    if (flag !== undefined) {
      const [bits, clear] = flag;
      parsed.flags = clear ? parsed.flags & ~bits : parsed.flags | bits;
      continue;
    }
    const propagation = propagationOptions[option];
    if (propagation !== undefined) {
      parsed.propagation.push(propagation);
      continue;
    }
    parsed.data.push(option);
  }
  return parsed;
}
