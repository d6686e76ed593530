// What this teaches: a snapshotter does not mount anything. It hands back a *description*
// of the mounts that would assemble a snapshot (type, source, options), and whoever needs
// the files (the shim before starting a container, the differ, `ctr images mount`)
// performs them. Keeping the description as plain data is what lets it cross a socket.
// Mirrors containerd's core/mount/mount.go (type Mount).

/** One mount, as containerd's API carries it (`containerd.types.Mount`). */
export interface Mount {
  /** Filesystem type: "overlay", "bind", "tmpfs"... */
  type: string;
  /** What to mount: a directory for "bind", a name ("overlay") for virtual filesystems. */
  source: string;
  /** fstab-style options: mount(2) flags ("ro", "rbind") and filesystem data ("lowerdir=..."). */
  options: string[];
}
