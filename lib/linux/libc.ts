// What this teaches: how a TypeScript program reaches system calls that no runtime API
// offers (mount, pivot_root, setns, capset, execve...). Deno's FFI loads the C library
// once and calls its functions directly, as a Go program would through `x/sys/unix`.
// Mirrors the role of golang.org/x/sys/unix in runc: thin, typed doors into the kernel.
//
// Every wrapper in lib/linux goes through `libc()` and `lastErrno()`. Two rules keep
// errno honest: call only synchronous FFI functions (they run on the calling thread, so
// the thread-local errno belongs to us), and read errno right after the failing call,
// before anything else (even printing) can overwrite it.

const symbols = {
  mount: { parameters: ["buffer", "buffer", "buffer", "u64", "buffer"], result: "i32" },
  umount2: { parameters: ["buffer", "i32"], result: "i32" },
  unshare: { parameters: ["i32"], result: "i32" },
  setns: { parameters: ["i32", "i32"], result: "i32" },
  sethostname: { parameters: ["buffer", "usize"], result: "i32" },
  setdomainname: { parameters: ["buffer", "usize"], result: "i32" },
  prctl: { parameters: ["i32", "u64", "u64", "u64", "u64"], result: "i32" },
  setgroups: { parameters: ["usize", "buffer"], result: "i32" },
  setresuid: { parameters: ["u32", "u32", "u32"], result: "i32" },
  setresgid: { parameters: ["u32", "u32", "u32"], result: "i32" },
  mknod: { parameters: ["buffer", "u32", "u64"], result: "i32" },
  mkfifo: { parameters: ["buffer", "u32"], result: "i32" },
  chdir: { parameters: ["buffer"], result: "i32" },
  fchdir: { parameters: ["i32"], result: "i32" },
  chroot: { parameters: ["buffer"], result: "i32" },
  umask: { parameters: ["u32"], result: "u32" },
  open: { parameters: ["buffer", "i32", "u32"], result: "i32" },
  openat: { parameters: ["i32", "buffer", "i32", "u32"], result: "i32" },
  close: { parameters: ["i32"], result: "i32" },
  read: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  write: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  // read(2) on a worker thread, returning a Promise: for waiting without blocking the
  // event loop (errno is not readable for these calls: it lives on the worker thread).
  readInBackground: {
    name: "read",
    parameters: ["i32", "buffer", "usize"],
    result: "isize",
    nonblocking: true,
  },
  dup: { parameters: ["i32"], result: "i32" },
  dup2: { parameters: ["i32", "i32"], result: "i32" },
  fcntl: { parameters: ["i32", "i32", "i64"], result: "i32" },
  ioctl: { parameters: ["i32", "u64", "buffer"], result: "i32" },
  ioctlInt: { name: "ioctl", parameters: ["i32", "u64", "i64"], result: "i32" },
  socket: { parameters: ["i32", "i32", "i32"], result: "i32" },
  connect: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  bind: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  listen: { parameters: ["i32", "i32"], result: "i32" },
  acceptInBackground: {
    name: "accept4",
    parameters: ["i32", "pointer", "pointer", "i32"],
    result: "i32",
    nonblocking: true,
  },
  socketpair: { parameters: ["i32", "i32", "i32", "buffer"], result: "i32" },
  sendmsg: { parameters: ["i32", "buffer", "i32"], result: "isize" },
  recvmsg: { parameters: ["i32", "buffer", "i32"], result: "isize" },
  recvmsgInBackground: {
    name: "recvmsg",
    parameters: ["i32", "buffer", "i32"],
    result: "isize",
    nonblocking: true,
  },
  close_range: { parameters: ["u32", "u32", "i32"], result: "i32" },
  execve: { parameters: ["buffer", "buffer", "buffer"], result: "i32" },
  prlimit: { parameters: ["i32", "i32", "buffer", "buffer"], result: "i32" },
  getpid: { parameters: [], result: "i32" },
  setsid: { parameters: [], result: "i32" },
  kill: { parameters: ["i32", "i32"], result: "i32" },
  waitpid: { parameters: ["i32", "buffer", "i32"], result: "i32" },
  // The raw system call entry, for calls glibc does not wrap (pivot_root) or wraps in a
  // way we must avoid (rt_sigaction: glibc's signal() refuses signals 32 and 33).
  syscall: {
    parameters: ["i64", "i64", "i64", "i64", "i64", "i64", "i64"],
    result: "i64",
  },
  __errno_location: { parameters: [], result: "pointer" },
  strerror: { parameters: ["i32"], result: "pointer" },
} as const satisfies Deno.ForeignLibraryInterface;

/** The loaded C library with every symbol lib/linux uses. */
export type Libc = Deno.DynamicLibrary<typeof symbols>["symbols"];

let library: Deno.DynamicLibrary<typeof symbols> | undefined;

/**
 * Opens libc.so.6 on first use. Call it before pivot_root when running inside a
 * container's init: after the root changes, the host's libc is no longer reachable.
 */
export function libc(): Libc {
  if (library === undefined) library = Deno.dlopen("libc.so.6", symbols);
  return library.symbols;
}

/** The calling thread's errno. Read it immediately after the call that failed. */
export function lastErrno(): number {
  const location = libc().__errno_location();
  if (location === null) return 0;
  return new Deno.UnsafePointerView(location).getInt32();
}

/** The C library's text for an errno value ("No such file or directory"). */
export function describeErrno(errno: number): string {
  const text = libc().strerror(errno);
  return text === null ? `errno ${errno}` : Deno.UnsafePointerView.getCString(text);
}

const encoder = new TextEncoder();

/** A NUL-terminated copy of `text`, ready to pass where C expects `const char *`. */
export function cString(text: string): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(encoder.encode(text).length + 1);
  encoder.encodeInto(text, bytes);
  return bytes;
}

/** Like cString, but maps null/undefined to a NULL pointer. */
export function optionalCString(text: string | null | undefined): Uint8Array<ArrayBuffer> | null {
  return text === null || text === undefined ? null : cString(text);
}

/** The address of a buffer as the integer the raw `syscall()` entry expects. */
export function addressOf(buffer: BufferSource | null): bigint {
  if (buffer === null) return 0n;
  const pointer = Deno.UnsafePointer.of(buffer);
  return pointer === null ? 0n : BigInt(Deno.UnsafePointer.value(pointer));
}

/**
 * A C array of string pointers (`char *const argv[]`), NULL-terminated. The returned
 * `keepAlive` holds the strings: keep a reference to it until the call returns.
 */
export function cStringArray(
  items: readonly string[],
): { array: BigUint64Array<ArrayBuffer>; keepAlive: Uint8Array[] } {
  const keepAlive = items.map(cString);
  const array = new BigUint64Array(items.length + 1);
  keepAlive.forEach((bytes, index) => array[index] = addressOf(bytes));
  return { array, keepAlive };
}
