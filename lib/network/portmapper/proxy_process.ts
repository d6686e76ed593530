// What this teaches: supervising helper processes by PID. The engine spawns one proxy
// per published port, waits for its "0" (listening) or "1 <error>" line, remembers its
// PID, and stops it with SIGTERM (then SIGKILL if it lingers). After a daemon restart
// the PIDs come from the saved state; a PID may meanwhile belong to another program,
// so the command line is checked before any signal is sent.
// Mirrors libnetwork's portmapper/proxy_linux.go (newProxyCommand, Start, Stop).

import type { ProxyTarget } from "./proxy_server.ts";

/** The default proxy: this repository's cmd/mini_docker_proxy.ts run by this Deno. */
export function defaultProxyCommand(): string[] {
  return [
    Deno.execPath(),
    "run",
    "--allow-all",
    "--no-config",
    "--no-lock",
    "--quiet",
    new URL("../../../cmd/mini_docker_proxy.ts", import.meta.url).pathname,
  ];
}

/** docker-proxy's flags for one target. */
export function proxyArguments(target: ProxyTarget): string[] {
  return [
    "-proto",
    target.protocol,
    "-host-ip",
    target.hostIp,
    "-host-port",
    String(target.hostPort),
    "-container-ip",
    target.containerIp,
    "-container-port",
    String(target.containerPort),
  ];
}

/** Proxies this process started, so they can be reaped when they exit. */
const children = new Map<number, Deno.ChildProcess>();

/** How long a proxy may take to report that it listens. */
const startTimeoutMs = 20_000;

/** Starts a proxy and waits until it listens; throws its error message otherwise. */
export async function startProxyProcess(command: string[], target: ProxyTarget): Promise<number> {
  const [program, ...prefix] = command;
  const child = new Deno.Command(program, {
    args: [...prefix, ...proxyArguments(target)],
    stdin: "null",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  const timer = setTimeout(() => child.kill("SIGKILL"), startTimeoutMs);
  try {
    while (!text.includes("\n")) {
      const { value, done } = await reader.read();
      if (done) break;
      text += value;
    }
    if (text.startsWith("1")) {
      // The rest of the message follows; read until the proxy exits.
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        text += value;
      }
    }
  } finally {
    clearTimeout(timer);
  }
  reader.cancel().catch(() => {});
  if (text.startsWith("0")) {
    children.set(child.pid, child);
    child.status.then(() => children.delete(child.pid));
    return child.pid;
  }
  try {
    child.kill("SIGKILL");
  } catch {
    // already exited
  }
  await child.status;
  const message = text.replace(/^1\n?/, "").trim() || "the proxy exited without a word";
  throw new Error(
    `cannot publish ${target.hostIp}:${target.hostPort}/${target.protocol}: ${message}`,
  );
}

function isAlive(pid: number): boolean {
  try {
    const state = Deno.readTextFileSync(`/proc/${pid}/stat`).split(") ")[1]?.[0];
    return state !== undefined && state !== "Z" && state !== "X";
  } catch {
    return false;
  }
}

/** True when `pid` is a proxy for `hostPort` (mini's or Docker's), judged by its command line. */
export function isProxyProcess(pid: number, hostPort: number): boolean {
  try {
    const argv = Deno.readTextFileSync(`/proc/${pid}/cmdline`).split("\0");
    const isProxy = argv.some((part) =>
      part.endsWith("mini_docker_proxy.ts") || part.endsWith("docker-proxy")
    );
    const portIndex = argv.indexOf("-host-port");
    return isProxy && portIndex >= 0 && argv[portIndex + 1] === String(hostPort);
  } catch {
    return false;
  }
}

/**
 * Stops the proxy `pid` that serves `hostPort`: SIGTERM, then SIGKILL after a grace
 * period. A PID that is no longer such a proxy is left alone.
 */
export async function stopProxyProcess(pid: number, hostPort: number, graceMs = 3000) {
  const child = children.get(pid);
  if (!child && !isProxyProcess(pid, hostPort)) return;
  try {
    Deno.kill(pid, "SIGTERM");
  } catch {
    return; // already gone
  }
  if (child) {
    const timer = setTimeout(() => {
      try {
        child.kill("SIGKILL");
      } catch {
        // exited meanwhile
      }
    }, graceMs);
    await child.status;
    clearTimeout(timer);
    return;
  }
  // Not our child (started before a daemon restart): poll until it is gone.
  const deadline = Date.now() + graceMs;
  while (isAlive(pid) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  if (isAlive(pid)) {
    try {
      Deno.kill(pid, "SIGKILL");
    } catch {
      // exited meanwhile
    }
  }
}
