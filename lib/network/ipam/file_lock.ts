// What this teaches: how separate processes take turns on one file. flock(2) on a lock
// file gives one holder at a time, across processes, and the kernel drops the lock when
// the holder exits, even on kill -9, so a crash never leaves it stuck. Waiting for it
// blocks the calling thread, so the wait runs on an FFI worker thread (`nonblocking`)
// while Deno's event loop keeps going; an in-process queue in front keeps callers of one
// process from tying up a worker thread each.
// Mirrors the role of github.com/gofrs/flock and of bbolt's file lock in libnetwork's
// datastore (boltdb, flocked), which is what makes its IPAM safe for one daemon.

import { closeFile, openFile, OpenFlags } from "../../linux/files.ts";

const LOCK_EX = 2;
const LOCK_UN = 8;

const library = {
  flockWaiting: { name: "flock", parameters: ["i32", "i32"], result: "i32", nonblocking: true },
  flock: { parameters: ["i32", "i32"], result: "i32" },
} as const satisfies Deno.ForeignLibraryInterface;

let symbols: Deno.DynamicLibrary<typeof library>["symbols"] | undefined;

function libcFlock(): Deno.DynamicLibrary<typeof library>["symbols"] {
  symbols ??= Deno.dlopen("libc.so.6", library).symbols;
  return symbols;
}

const queues = new Map<string, Promise<unknown>>();

/**
 * Runs `work` while holding an exclusive flock on `lockPath` (created if missing).
 * Callers in this process queue in order; other processes wait in the kernel.
 */
export function withFileLock<T>(lockPath: string, work: () => T | Promise<T>): Promise<T> {
  const previous = queues.get(lockPath) ?? Promise.resolve();
  const next = previous.catch(() => {}).then(() => lockAndRun(lockPath, work));
  const settled = next.catch(() => {});
  queues.set(lockPath, settled);
  settled.then(() => {
    if (queues.get(lockPath) === settled) queues.delete(lockPath);
  });
  return next;
}

async function lockAndRun<T>(lockPath: string, work: () => T | Promise<T>): Promise<T> {
  const fd = openFile(lockPath, OpenFlags.RDWR | OpenFlags.CREAT | OpenFlags.CLOEXEC, 0o600);
  try {
    if (await libcFlock().flockWaiting(fd, LOCK_EX) !== 0) {
      throw new Error(`cannot lock ${lockPath} (flock failed): check the file's permissions`);
    }
    try {
      return await work();
    } finally {
      libcFlock().flock(fd, LOCK_UN);
    }
  } finally {
    closeFile(fd);
  }
}
