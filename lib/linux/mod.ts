// What this teaches: the Linux system calls a container runtime needs, as typed
// TypeScript functions. All of them go through one FFI symbol, glibc's syscall(), by
// system call number (see libc.ts for why). Every function throws a LinuxError naming the
// call and errno on failure. Mirrors golang.org/x/sys/unix as runc uses it.
// Programs using this module need `--allow-ffi` (and usually root).
export * from "./errors.ts";
export * from "./libc.ts";
export * from "./mount.ts";
export * from "./mount_options.ts";
export * from "./mountinfo.ts";
export * from "./namespaces.ts";
export * from "./identity.ts";
export * from "./capabilities.ts";
export * from "./signals.ts";
export * from "./files.ts";
export * from "./poller.ts";
export * from "./exec.ts";
export * from "./rlimits.ts";
export * from "./terminal.ts";
