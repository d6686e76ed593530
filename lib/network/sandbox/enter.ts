// What this teaches: how a multithreaded runtime works inside another network namespace
// for a moment. A namespace belongs to a *thread*: setns(2) on Deno's main thread moves
// that thread (and only it) into the container's network namespace. Everything the main
// thread does until it switches back happens in there: sockets it creates (netlink
// included) and processes it spawns (the fork happens on the calling thread). Deno's
// other threads (the blocking-call pool, FFI `nonblocking` workers) stay in the host's.
// Mirrors github.com/vishvananda/netns (Get/Set) and libnetwork's osl/namespace_linux.go
// InvokeFunc, where Go code pins itself with runtime.LockOSThread() for the same reason.
//
// The care this needs:
// 1. Switch in, do *synchronous* work only, switch back. An `await` in between would let
//    the event loop run other tasks on the main thread, and a TCP connect or listen they
//    start would land in the container's namespace. `work` must therefore not return a
//    Promise (checked below).
// 2. Keep an fd to the original namespace, opened *before* switching: after setns the
//    path /proc/thread-self/ns/net names the container's namespace.
// 3. If switching back ever failed, the process would go on in the wrong namespace,
//    binding and connecting in a container's network; that is unrecoverable, so the
//    process exits with a message, as runc's Go code panics in the same spot.
// 4. What was created inside stays inside: a socket made while switched in (a netlink
//    socket, a listener) keeps talking to that namespace after the switch back. Opening
//    a netlink socket there and using it from the host is the cheapest way to configure
//    a container's interfaces (vishvananda/netlink's NewHandleAt does the same).

import { closeFile, openFile, OpenFlags } from "../../linux/files.ts";
import { CloneFlags, setns } from "../../linux/namespaces.ts";

/** The calling thread's own network namespace file (not the thread group leader's). */
export const ownNetworkNamespacePath = "/proc/thread-self/ns/net";

/**
 * Moves the calling thread back into the namespace open at `originalFd`; exits the
 * process if the kernel refuses (see point 3 above).
 */
export function returnToNamespace(originalFd: number): void {
  try {
    setns(originalFd, CloneFlags.NEWNET);
  } catch (error) {
    console.error(
      `fatal: cannot return to the original network namespace (${error}); ` +
        "exiting rather than running in a container's network",
    );
    Deno.exit(70);
  }
}

/**
 * Runs `work` synchronously with the calling thread inside the network namespace at
 * `namespacePath` (a bind-mounted netns file or /proc/<pid>/ns/net), then switches back.
 */
export function inNetworkNamespace<T>(namespacePath: string, work: () => T): T {
  const original = openFile(ownNetworkNamespacePath, OpenFlags.RDONLY | OpenFlags.CLOEXEC);
  let target: number | undefined;
  try {
    target = openFile(namespacePath, OpenFlags.RDONLY | OpenFlags.CLOEXEC);
    setns(target, CloneFlags.NEWNET);
    try {
      const result = work();
      if (result instanceof Promise) {
        throw new Error(
          "inNetworkNamespace: work returned a Promise; only synchronous work may run " +
            "while the main thread is inside another network namespace",
        );
      }
      return result;
    } finally {
      returnToNamespace(original);
    }
  } finally {
    if (target !== undefined) closeFile(target);
    closeFile(original);
  }
}

/**
 * Spawns a process inside the network namespace at `namespacePath` (the fork happens on
 * the calling thread, so the child is born in there). The child is then an ordinary
 * child of ours: wait for it, kill it by PID.
 */
export function spawnInNetworkNamespace(
  namespacePath: string,
  command: string,
  options: Deno.CommandOptions,
): Deno.ChildProcess {
  return inNetworkNamespace(namespacePath, () => new Deno.Command(command, options).spawn());
}
