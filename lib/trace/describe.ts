// What this teaches: the few descriptions trace lines share, kept here so the hooks in
// other files stay one line. A containerd mount is {type, source, options}; the trace
// shows it as the mount(8) command a learner could type.
// Mirrors no real component: it renders mini's own records for a learner.

/** The shape of a containerd mount (lib/mount's Mount), as far as a trace needs it. */
export interface DescribedMount {
  type: string;
  source: string;
  target?: string;
  options?: readonly string[];
}

/** `mount -t overlay overlay -o lowerdir=...,upperdir=...,workdir=...` for each mount. */
export function describeMountsForTrace(mounts: readonly DescribedMount[]): string {
  if (mounts.length === 0) return "no mounts";
  return mounts.map((mount) =>
    `mount -t ${mount.type} ${mount.source}` +
    (mount.options && mount.options.length > 0 ? ` -o ${mount.options.join(",")}` : "")
  ).join("; ");
}
