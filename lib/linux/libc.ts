// What this teaches: how a TypeScript program reaches system calls that no runtime API
// offers (mount, pivot_root, setns, capset, execve...). Like Go's syscall package, which
// runc uses, lib/linux calls the kernel by system call number through one entry point,
// glibc's syscall(3), opened with Deno's FFI. One symbol instead of one per function
// matters: Deno compiles a call trampoline for every FFI symbol it binds, and a runtime
// init that binds fifty pays for fifty before doing anything.
// Mirrors golang.org/x/sys/unix (Syscall6 and the zsysnum_linux_*.go number tables).
//
// Two rules keep errno honest: only synchronous FFI calls (they run on the calling thread,
// so the thread-local errno is ours), and errno is read right after the failing call,
// before anything else (even printing) can overwrite it.

/** System call numbers for the calls lib/linux makes, per architecture. */
const syscallNumbers = {
  read: [0, 63],
  write: [1, 64],
  close: [3, 57],
  rt_sigaction: [13, 134],
  rt_sigprocmask: [14, 135],
  ioctl: [16, 29],
  dup: [32, 23],
  getpid: [39, 172],
  socket: [41, 198],
  connect: [42, 203],
  sendmsg: [46, 211],
  recvmsg: [47, 212],
  bind: [49, 200],
  listen: [50, 201],
  socketpair: [53, 199],
  execve: [59, 221],
  wait4: [61, 260],
  kill: [62, 129],
  fcntl: [72, 25],
  chdir: [80, 49],
  fchdir: [81, 50],
  umask: [95, 166],
  setsid: [112, 157],
  setgroups: [116, 159],
  setresuid: [117, 147],
  setresgid: [119, 149],
  capset: [126, 91],
  pivot_root: [155, 41],
  prctl: [157, 167],
  chroot: [161, 51],
  mount: [165, 40],
  umount2: [166, 39],
  sethostname: [170, 161],
  setdomainname: [171, 162],
  openat: [257, 56],
  mknodat: [259, 33],
  ppoll: [271, 73],
  unshare: [272, 97],
  accept4: [288, 242],
  eventfd2: [290, 19],
  dup3: [292, 24],
  prlimit64: [302, 261],
  setns: [308, 268],
  pidfd_open: [434, 434],
  close_range: [436, 436],
} as const;

/** The name of a system call lib/linux knows the number of. */
export type SyscallName = keyof typeof syscallNumbers;

const architectureIndex = Deno.build.arch === "aarch64" ? 1 : 0;

/** The number of `name` on this machine's architecture (x86_64 or aarch64). */
export function syscallNumber(name: SyscallName): number {
  return syscallNumbers[name][architectureIndex];
}

/** AT_FDCWD: "relative to the current directory" for the *at() calls. */
export const AT_FDCWD = -100;

const i64 = "i64" as const;
const coreSymbols = {
  syscall: { parameters: [i64, i64, i64, i64, i64, i64, i64], result: i64 },
  __errno_location: { parameters: [], result: "pointer" },
} as const satisfies Deno.ForeignLibraryInterface;

// Bound only when first needed: error texts, and calls that wait on a worker thread.
const extraSymbols = {
  strerror: { parameters: ["i32"], result: "pointer" },
  syscallInBackground: {
    name: "syscall",
    parameters: [i64, i64, i64, i64, i64, i64, i64],
    result: i64,
    nonblocking: true,
  },
} as const satisfies Deno.ForeignLibraryInterface;

let core: Deno.DynamicLibrary<typeof coreSymbols>["symbols"] | undefined;
let extra: Deno.DynamicLibrary<typeof extraSymbols>["symbols"] | undefined;

/**
 * Opens the C library on first use. Call it before pivot_root when running inside a
 * container's init: after the root changes, the host's libc is no longer reachable.
 */
export function loadLibc(): void {
  core ??= Deno.dlopen("libc.so.6", coreSymbols).symbols;
}

function extras(): Deno.DynamicLibrary<typeof extraSymbols>["symbols"] {
  extra ??= Deno.dlopen("libc.so.6", extraSymbols).symbols;
  return extra;
}

/** An argument of a system call: an integer, a buffer (passed by address) or NULL. */
export type SyscallArgument = number | bigint | BufferSource | null | undefined;

/** The address of a buffer as the integer the raw `syscall()` entry expects. */
export function addressOf(buffer: BufferSource | null | undefined): bigint {
  if (buffer === null || buffer === undefined) return 0n;
  const pointer = Deno.UnsafePointer.of(buffer);
  return pointer === null ? 0n : BigInt(Deno.UnsafePointer.value(pointer));
}

function toRegister(argument: SyscallArgument): bigint {
  if (typeof argument === "number") return BigInt(argument);
  if (typeof argument === "bigint") return argument;
  return addressOf(argument);
}

function registers(args: SyscallArgument[]): [bigint, bigint, bigint, bigint, bigint, bigint] {
  const values: bigint[] = args.map(toRegister);
  while (values.length < 6) values.push(0n);
  return values as [bigint, bigint, bigint, bigint, bigint, bigint];
}

/**
 * Makes system call `name` with up to six arguments; returns its result (-1 on failure,
 * with errno set: read it with lastErrno() before anything else). Buffers passed here must
 * stay referenced by the caller until the call returns.
 */
export function syscall(name: SyscallName, ...args: SyscallArgument[]): number {
  loadLibc();
  return Number(core!.syscall(BigInt(syscallNumber(name)), ...registers(args)));
}

/**
 * The same call on a worker thread, for calls that wait (read on a pty, accept): the
 * event loop keeps running. Resolves to the result; errno is not available (it lives on
 * the worker thread), so failures are only "-1".
 */
export async function syscallInBackground(
  name: SyscallName,
  ...args: SyscallArgument[]
): Promise<number> {
  const result = await extras().syscallInBackground(
    BigInt(syscallNumber(name)),
    ...registers(args),
  );
  return Number(result);
}

/** The calling thread's errno. Read it immediately after the call that failed. */
export function lastErrno(): number {
  loadLibc();
  const location = core!.__errno_location();
  if (location === null) return 0;
  return new Deno.UnsafePointerView(location).getInt32();
}

/** The C library's text for an errno value ("No such file or directory"). */
export function describeErrno(errno: number): string {
  const text = extras().strerror(errno);
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
