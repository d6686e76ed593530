// What this teaches: the container's first process, before it is the container's command.
// The runtime starts it already inside the new PID namespace; it joins or creates the
// other namespaces on its main thread, builds the root filesystem, reports "ready", waits
// on the exec FIFO until `start`, then drops privileges and execve()s the user's program
// (so the PID the runtime reported is the command's PID). For `exec` it instead joins a
// running container's namespaces. Mirrors runc's `runc init`: libcontainer/nsenter
// (nsexec.c), init_linux.go, standard_init_linux.go and setns_init_linux.go.
//
// Rules this file lives by: every module is imported statically and libc is opened before
// the root changes (nothing can be loaded from the host afterwards), and only synchronous
// calls are used, because namespaces belong to the calling thread and async work runs on
// other threads that stay in the host's namespaces.

import { CloneFlags, namespaceKinds, setns, unshare } from "../../linux/namespaces.ts";
import { closeFile, openFile, openFileAt, OpenFlags, writeAll } from "../../linux/files.ts";
import { chdir, getpid, setdomainname, sethostname } from "../../linux/identity.ts";
import { loadLibc } from "../../linux/libc.ts";
import type { InitConfig, LinuxNamespace } from "../types.ts";
import { SyncChannel } from "./sync.ts";
import { prepareRootfs } from "./rootfs.ts";
import { applyProcessSettings, environmentWithHome, execProcess, lookPath } from "./finalize.ts";
import { setupConsole } from "./console.ts";
import { initPipeVariable } from "./environment.ts";
import { initTrace, openInitTrace } from "../../trace/init_trace.ts";

/** Creates or joins every namespace but the PID one (we were born in that). */
function enterNamespaces(namespaces: readonly LinuxNamespace[]): void {
  let unshareFlags = 0;
  for (const namespace of namespaces) {
    if (namespace.type === "pid") continue;
    const kind = namespaceKinds[namespace.type as keyof typeof namespaceKinds];
    if (!namespace.path) {
      unshareFlags |= kind.flag;
      continue;
    }
    // setns into a mount namespace needs a filesystem context this thread owns alone.
    if (namespace.type === "mount") unshare(CloneFlags.FS);
    const fd = openFile(namespace.path, OpenFlags.RDONLY | OpenFlags.CLOEXEC);
    setns(fd, kind.flag);
    closeFile(fd);
  }
  if (unshareFlags !== 0) unshare(unshareFlags);
}

/** `exec`: joins each namespace of the running container (the mount namespace last). */
function joinContainer(config: InitConfig): void {
  const pid = config.containerPid!;
  const types = config.namespaces.map((namespace) => namespace.type)
    .filter((type) => type !== "pid")
    .sort((a, b) => (a === "mount" ? 1 : 0) - (b === "mount" ? 1 : 0));
  // Open them all first: once in the container's mount namespace, /proc is its /proc.
  const opened = types.map((type) => {
    const kind = namespaceKinds[type as keyof typeof namespaceKinds];
    return { kind, fd: openFile(`/proc/${pid}/ns/${kind.procName}`, OpenFlags.RDONLY) };
  });
  for (const { kind, fd } of opened) {
    if (kind.flag === CloneFlags.NEWNS) unshare(CloneFlags.FS);
    setns(fd, kind.flag);
    closeFile(fd);
  }
  chdir(config.process.cwd);
}

/**
 * `create`: a whole new container around this process. Returns the wait for `start`:
 * a function that blocks until `mini-runc start` opens the exec FIFO.
 */
function createContainer(config: InitConfig, channel: SyncChannel): () => void {
  enterNamespaces(config.namespaces);
  initTrace()?.step(
    "unshare/setns: namespaces",
    config.namespaces.map((entry) => entry.type + (entry.path ? `=${entry.path}` : "")).join(" "),
  ); // --trace
  if (!config.namespaces.some((namespace) => namespace.type === "mount")) {
    throw new Error("mini-runc needs a mount namespace to set up the rootfs");
  }
  // Hold the FIFO and our own fd directory now, while the host's filesystem is visible:
  // after pivot_root the FIFO is reopened for writing through /proc/<our pid>/fd/<n>.
  const fifo = openFile(config.execFifo!, OpenFlags.PATH | OpenFlags.CLOEXEC);
  const ownFds = openFile(
    "/proc/self/fd",
    OpenFlags.PATH | OpenFlags.DIRECTORY | OpenFlags.CLOEXEC,
  );
  prepareRootfs(config, () => {
    if (!config.runtimeHooks) return;
    channel.send({ type: "hooks" });
    channel.expect("hooks-done", "mini-runc");
  });
  if (config.spec.hostname !== undefined) sethostname(config.spec.hostname);
  initTrace()?.step("sethostname", config.spec.hostname ?? "(unchanged)"); // --trace
  if (config.spec.domainname !== undefined) setdomainname(config.spec.domainname);
  chdir(config.process.cwd);
  return () => {
    // Blocks until `mini-runc start` opens the other end for reading.
    const writer = openFileAt(ownFds, String(fifo), OpenFlags.WRONLY | OpenFlags.CLOEXEC);
    writeAll(writer, new Uint8Array([0x30]));
    closeFile(writer);
    closeFile(fifo);
    closeFile(ownFds);
  };
}

function main(): void {
  loadLibc(); // load the C library while the host's /usr/lib is still reachable
  const channel = new SyncChannel(Number(Deno.env.get(initPipeVariable)));
  let config: InitConfig;
  let program: string;
  let env: string[];
  let waitForStart = () => {};
  try {
    config = channel.expect("config", "mini-runc").config;
    openInitTrace(config.trace)?.step("config received", `pid ${getpid()} in its PID namespace`); // --trace
    channel.expect("go", "mini-runc");
    if (config.mode === "create") waitForStart = createContainer(config, channel);
    else joinContainer(config);
    if (config.mode !== "create") initTrace()?.step("setns: joined the container's namespaces"); // --trace
    if (config.process.terminal) setupConsole(config);
    env = environmentWithHome(config.process);
    program = lookPath(config.process.args[0], env);
    if (config.process.oomScoreAdj !== undefined) {
      Deno.writeTextFileSync("/proc/self/oom_score_adj", String(config.process.oomScoreAdj));
    }
    if (config.mode === "create") {
      initTrace()?.step("ready: blocks opening the exec FIFO until `mini-runc start`"); // --trace
    }
    channel.send({ type: "ready", pid: getpid() });
  } catch (error) {
    try {
      channel.send({ type: "error", message: (error as Error).message });
    } catch {
      console.error(`mini-runc init: ${(error as Error).message}`);
    }
    Deno.exit(1);
  }
  channel.close();
  try {
    waitForStart();
    if (config.mode === "create") initTrace()?.step("exec FIFO opened: starting"); // --trace
    applyProcessSettings(config.process);
    initTrace()?.step(
      "rlimits, uid/gid, capabilities, no_new_privs",
      `${
        config.process.capabilities?.bounding?.length ?? "all"
      } capabilities kept, uid ${config.process.user.uid}`,
    ); // --trace
  } catch (error) {
    console.error(`mini-runc init: ${(error as Error).message}`);
    Deno.exit(1);
  }
  initTrace()?.step("execve", [program, ...config.process.args.slice(1)].join(" ")); // --trace
  execProcess(program, config.process.args, env, config.preserveFds);
}

main();
