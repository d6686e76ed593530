// What this teaches: everything the daemon and a shim share about one task lives in
// one directory, the bundle: the OCI config.json and rootfs/ the runtime reads, plus
// the shim's address and pid, so a daemon that restarts can walk these directories and
// find every shim again. State lives under the daemon's `state` directory (a tmpfs
// like /run in production): a reboot loses it, and rightly so, since every container
// died with the machine. Mirrors containerd's `core/runtime/v2/bundle.go` and the
// socket naming of `pkg/shim/util_unix.go` (SocketAddress).

// No node: modules here: the shim imports this file, and every millisecond of its
// start-up is paid once per container.

function join(...parts: string[]): string {
  return parts.join("/").replace(/\/+/g, "/");
}

function dirname(path: string): string {
  const index = path.lastIndexOf("/");
  return index <= 0 ? "/" : path.slice(0, index);
}

/** The runtime plugin's directory name under the state dir (containerd's runtime v2 plugin ID). */
export const TASK_STATE_DIRECTORY = "io.containerd.runtime.v2.task";

/** Files in one bundle directory. */
export interface BundlePaths {
  dir: string;
  /** The OCI runtime spec the runtime reads. */
  config: string;
  /** Where the rootfs mounts are assembled. */
  rootfs: string;
  /** The shim's socket address (`unix:///...`), written once it serves. */
  address: string;
  shimPid: string;
  /** The container init's host pid, written by the runtime (`--pid-file`). */
  initPid: string;
  /** The runtime's JSON log (`--log ... --log-format json`), where its errors land. */
  runtimeLog: string;
  /** The shim's own log (its stderr). */
  shimLog: string;
  /** The container's output as JSON lines, unless the client chose another path. */
  containerLog: string;
  /** What the daemon needs to clean up after a dead shim: runtime binary and root. */
  options: string;
}

/** The bundle directory of a task. */
export function bundleDirectory(stateDir: string, namespace: string, id: string): string {
  return join(stateDir, TASK_STATE_DIRECTORY, namespace, id);
}

/** The files of the bundle at `dir`. */
export function bundlePaths(dir: string): BundlePaths {
  return {
    dir,
    config: join(dir, "config.json"),
    rootfs: join(dir, "rootfs"),
    address: join(dir, "address"),
    shimPid: join(dir, "shim.pid"),
    initPid: join(dir, "init.pid"),
    runtimeLog: join(dir, "log.json"),
    shimLog: join(dir, "shim.log"),
    containerLog: join(dir, "container.log"),
    options: join(dir, "options.json"),
  };
}

/** The exec process files of a bundle: its process.json and pid file. */
export function execPaths(
  dir: string,
  execId: string,
): { process: string; pid: string; log: string } {
  return {
    process: join(dir, `exec-${execId}.json`),
    pid: join(dir, `exec-${execId}.pid`),
    log: join(dir, `exec-${execId}.log`),
  };
}

/** What the daemon writes to `options.json` in each bundle. */
export interface BundleOptions {
  namespace: string;
  id: string;
  runtimeName: string;
  runtimeBinary: string;
  runtimeRoot: string;
}

/**
 * The shim's socket path: `<daemon socket dir>/s/<hash of address, namespace and id>`.
 * A hash keeps the path short (a Unix socket path has 108 bytes at most) whatever the
 * container ID, and lets the shim compute it from its own arguments.
 */
export async function shimSocketPath(
  daemonAddress: string,
  namespace: string,
  id: string,
): Promise<string> {
  const digest = await crypto.subtle.digest(
    "SHA-256",
    new TextEncoder().encode(`${daemonAddress}\0${namespace}\0${id}`),
  );
  const hash = [...new Uint8Array(digest)].map((byte) => byte.toString(16).padStart(2, "0"))
    .join("");
  const path = join(dirname(daemonAddress), "s", hash.slice(0, 32));
  if (new TextEncoder().encode(path).length >= 108) {
    throw new Error(
      `shim socket path ${path} is too long for a Unix socket (108 bytes): ` +
        `put mini-containerd's socket in a shorter directory`,
    );
  }
  return path;
}

/** The default `--root` of the OCI runtime for a namespace (containerd: /run/containerd/runc/<ns>). */
export function runtimeRootDirectory(stateDir: string, namespace: string): string {
  return join(stateDir, "runc", namespace);
}
