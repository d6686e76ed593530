// What this teaches: the one safe way to replace a state file: write a temporary file
// beside it, fsync it, rename it over the old one. rename(2) is atomic within a
// filesystem, so a reader (or a restart after a crash) sees the old or the new
// content, never half of one. Mirrors github.com/moby/sys/atomicwriter.

/** Writes `value` as JSON to `path` atomically (temp file, fsync, rename). */
export function writeJsonAtomically(path: string, value: unknown): void {
  const temporary = `${path}.tmp-${Deno.pid}`;
  const file = Deno.openSync(temporary, { write: true, create: true, truncate: true });
  try {
    file.writeSync(new TextEncoder().encode(JSON.stringify(value, null, 2) + "\n"));
    file.syncSync();
  } finally {
    file.close();
  }
  Deno.renameSync(temporary, path);
}
