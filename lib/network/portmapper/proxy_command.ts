// What this teaches: the contract between the engine and its proxy processes. The
// engine starts `mini-docker-proxy -proto tcp -host-ip 127.0.0.1 -host-port 8080
// -container-ip 172.28.0.2 -container-port 80` (docker-proxy's own flags), then waits
// for one line: "0" once the host port is bound, or "1" followed by the error. So a
// port already in use is reported to `docker run` instead of failing silently. The
// proxy asks the kernel to send it SIGTERM when the engine dies (PR_SET_PDEATHSIG), so
// a killed daemon leaves no proxy behind, and exits cleanly on SIGTERM.
// docker-proxy reports on an inherited pipe (fd 3); mini uses stdout, because Deno
// cannot hand extra file descriptors to a child.
// Mirrors moby's cmd/docker-proxy/main.go.

import { Prctl, prctl } from "../../linux/capabilities.ts";
import { LinuxError } from "../../linux/errors.ts";
import { parseSignal } from "../../linux/signals.ts";
import { isIPv4 } from "../ipv4.ts";
import { type ProxyTarget, type RunningProxy, startProxy } from "./proxy_server.ts";

/** Parses docker-proxy's flags (Go style: -flag value, -flag=value, --flag value). */
export function parseProxyArguments(args: readonly string[]): ProxyTarget {
  const values = new Map<string, string>();
  for (let index = 0; index < args.length; index++) {
    const argument = args[index];
    if (!argument.startsWith("-")) throw new Error(`unexpected argument "${argument}"`);
    const bare = argument.replace(/^--?/, "");
    const equals = bare.indexOf("=");
    if (equals >= 0) {
      values.set(bare.slice(0, equals), bare.slice(equals + 1));
    } else {
      const value = args[++index];
      if (value === undefined) throw new Error(`flag -${bare} needs a value`);
      values.set(bare, value);
    }
  }
  const known = ["proto", "host-ip", "host-port", "container-ip", "container-port"];
  for (const name of values.keys()) {
    if (!known.includes(name)) {
      throw new Error(`flag provided but not defined: -${name} (known: -${known.join(", -")})`);
    }
  }
  const protocol = values.get("proto") ?? "tcp";
  if (protocol !== "tcp" && protocol !== "udp") {
    throw new Error(`-proto must be tcp or udp, not "${protocol}"`);
  }
  const port = (name: string): number => {
    const text = values.get(name);
    const number = Number(text);
    if (text === undefined || !Number.isInteger(number) || number < 0 || number > 65535) {
      throw new Error(`-${name} must be a port number 0-65535, not "${text ?? ""}"`);
    }
    return number;
  };
  const address = (name: string): string => {
    const text = values.get(name) ?? "";
    if (!isIPv4(text)) throw new Error(`-${name} must be an IPv4 address, not "${text}"`);
    return text;
  };
  return {
    protocol,
    hostIp: address("host-ip"),
    hostPort: port("host-port"),
    containerIp: address("container-ip"),
    containerPort: port("container-port"),
  };
}

/** Dies with the parent (the engine), as docker-proxy does through Pdeathsig. */
function followParent(): void {
  const parentBefore = Deno.ppid;
  try {
    prctl(Prctl.SET_PDEATHSIG, BigInt(parseSignal("SIGTERM")));
  } catch (error) {
    if (error instanceof LinuxError) return; // not fatal: the engine also stops proxies by PID
    throw error;
  }
  // The parent may have died before the request took effect.
  if (Deno.ppid !== parentBefore) Deno.exit(0);
}

const encoder = new TextEncoder();

/** The mini-docker-proxy program. Returns when stopped by SIGTERM/SIGINT. */
export async function proxyMain(args: readonly string[]): Promise<number> {
  let proxy: RunningProxy;
  try {
    const target = parseProxyArguments(args);
    followParent();
    proxy = await startProxy(target);
  } catch (error) {
    Deno.stdout.writeSync(encoder.encode(`1\n${(error as Error).message}\n`));
    return 1;
  }
  Deno.stdout.writeSync(encoder.encode("0\n"));
  const stopped = Promise.withResolvers<void>();
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    Deno.addSignalListener(signal, () => stopped.resolve());
  }
  await stopped.promise;
  await proxy.stop();
  return 0;
}
