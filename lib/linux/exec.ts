// What this teaches: execve(2) replaces the calling process's program while keeping its
// PID, namespaces, cgroup, credentials and open (non close-on-exec) descriptors. That is
// how a container's init becomes the user's command. Called from a multithreaded program
// the kernel first ends the other threads. Mirrors runc's system.Exec (unix.Exec).

import { check } from "./errors.ts";
import { cString, cStringArray, syscall } from "./libc.ts";

/** execve(2). Returns only by throwing a LinuxError (errno read before anything else). */
export function execve(path: string, args: readonly string[], env: readonly string[]): never {
  const argv = cStringArray(args);
  const envp = cStringArray(env);
  check(syscall("execve", cString(path), argv.array, envp.array), "execve", () => path);
  // execve succeeded yet returned: impossible, but keeps the return type honest.
  throw new Error(`execve ${path} returned`);
}
