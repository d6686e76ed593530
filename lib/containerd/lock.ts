// What this teaches: why a daemon takes an exclusive lock on its root directory.
// Two daemons writing one content store and one meta.db would corrupt both, so the
// second one must refuse to start. containerd gets this from bbolt, which flocks
// meta.db; mini takes flock(2) on `<root>/mini-containerd.lock` explicitly.

const LOCK_EX = 2;
const LOCK_NB = 4;
const O_RDWR = 2;
const O_CREAT = 0o100;
const O_CLOEXEC = 0o2000000;

const libc = Deno.dlopen("libc.so.6", {
  open: { parameters: ["buffer", "i32", "u32"], result: "i32" },
  flock: { parameters: ["i32", "i32"], result: "i32" },
  close: { parameters: ["i32"], result: "i32" },
});

/** An exclusive lock held for the life of the process (the kernel drops it on exit, even on kill -9). */
export interface RootLock {
  release(): void;
}

/** Takes the lock or throws a message naming the other daemon's pid. */
export async function lockRoot(lockPath: string): Promise<RootLock> {
  const path = new TextEncoder().encode(lockPath + "\0");
  const fd = libc.symbols.open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600);
  if (fd < 0) throw new Error(`cannot open lock file ${lockPath}`);
  if (libc.symbols.flock(fd, LOCK_EX | LOCK_NB) !== 0) {
    libc.symbols.close(fd);
    const holder = (await Deno.readTextFile(lockPath).catch(() => "")).trim();
    throw new Error(
      `another mini-containerd (pid ${
        holder || "unknown"
      }) already uses this root (${lockPath}); ` +
        `stop it first, or give this one its own --root`,
    );
  }
  await Deno.writeTextFile(lockPath, `${Deno.pid}\n`);
  return { release: () => libc.symbols.close(fd) };
}
