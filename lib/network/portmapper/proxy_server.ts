// What this teaches: the "userland proxy" behind `docker run -p`. For each published
// port the engine starts one small process that listens on the host address and port,
// and for every TCP connection (or every UDP client) opens its own connection to the
// container's address and copies bytes both ways. The container never sees the
// client's address, only the host's gateway; that is the price of needing no iptables.
// Docker adds DNAT rules as a fast path and keeps the proxy for the cases DNAT cannot
// serve (traffic to 127.0.0.1 from the host itself never crosses PREROUTING).
// Mirrors moby's cmd/docker-proxy (tcp_proxy.go, udp_proxy.go).

import dgram from "node:dgram";

/** What one proxy forwards: a host address and port to a container address and port. */
export interface ProxyTarget {
  protocol: "tcp" | "udp";
  hostIp: string;
  hostPort: number;
  containerIp: string;
  containerPort: number;
}

/** A running proxy: stop it to close its listener and every forwarded connection. */
export interface RunningProxy {
  /** The bound host port (useful when 0 was asked for in tests). */
  port: number;
  stop(): Promise<void>;
}

/** A UDP "connection" idles out after this long without traffic (docker-proxy: 90 s). */
export const udpConnectionTimeoutMs = 90_000;

const copyBufferSize = 1024 * 1024;

/** Copies `from` into `to` until EOF, then half-closes `to` (its peer sees EOF). */
async function pump(from: Deno.TcpConn, to: Deno.TcpConn): Promise<void> {
  const buffer = new Uint8Array(copyBufferSize);
  for (;;) {
    const count = await from.read(buffer);
    if (count === null) break;
    let offset = 0;
    while (offset < count) offset += await to.write(buffer.subarray(offset, count));
  }
  await to.closeWrite();
}

function closeQuietly(connection: Deno.Conn): void {
  try {
    connection.close();
  } catch {
    // already closed
  }
}

/** Starts forwarding TCP connections. Resolves once the listener is bound. */
export function startTcpProxy(target: ProxyTarget): RunningProxy {
  const listener = Deno.listen({ hostname: target.hostIp, port: target.hostPort });
  const open = new Set<Deno.Conn>();
  const forward = async (client: Deno.TcpConn) => {
    open.add(client);
    let upstream: Deno.TcpConn | undefined;
    try {
      upstream = await Deno.connect({ hostname: target.containerIp, port: target.containerPort });
      open.add(upstream);
      client.setNoDelay(true);
      upstream.setNoDelay(true);
      // Both directions run until each side has sent EOF (or one fails).
      const directions = [pump(client, upstream), pump(upstream, client)];
      await Promise.all(directions);
    } catch {
      // A reset or refused connection ends this forwarding only.
    } finally {
      closeQuietly(client);
      open.delete(client);
      if (upstream) {
        closeQuietly(upstream);
        open.delete(upstream);
      }
    }
  };
  const accepting = (async () => {
    try {
      for await (const client of listener) forward(client);
    } catch {
      // listener closed
    }
  })();
  return {
    port: (listener.addr as Deno.NetAddr).port,
    async stop() {
      try {
        listener.close();
      } catch {
        // already closed
      }
      for (const connection of open) closeQuietly(connection);
      await accepting;
    },
  };
}

/**
 * Starts forwarding UDP datagrams. Each client address gets its own upstream socket, so
 * replies from the container find their way back to the right client.
 */
export async function startUdpProxy(target: ProxyTarget): Promise<RunningProxy> {
  const front = dgram.createSocket("udp4");
  await new Promise<void>((resolve, reject) => {
    front.once("error", reject);
    front.bind(target.hostPort, target.hostIp, () => {
      front.off("error", reject);
      resolve();
    });
  });
  const clients = new Map<
    string,
    { socket: dgram.Socket; timer?: ReturnType<typeof setTimeout> }
  >();
  const forget = (key: string) => {
    const client = clients.get(key);
    if (!client) return;
    clearTimeout(client.timer);
    client.socket.close();
    clients.delete(key);
  };
  front.on("message", (message, from) => {
    const key = `${from.address}:${from.port}`;
    let client = clients.get(key);
    if (!client) {
      const socket = dgram.createSocket("udp4");
      socket.on("message", (reply, source) => {
        if (source.address !== target.containerIp || source.port !== target.containerPort) return;
        front.send(reply, from.port, from.address);
        const entry = clients.get(key);
        if (entry) {
          clearTimeout(entry.timer);
          entry.timer = setTimeout(() => forget(key), udpConnectionTimeoutMs);
        }
      });
      socket.on("error", () => forget(key));
      client = { socket };
      clients.set(key, client);
    }
    clearTimeout(client.timer);
    client.timer = setTimeout(() => forget(key), udpConnectionTimeoutMs);
    client.socket.send(message, target.containerPort, target.containerIp);
  });
  front.on("error", () => {});
  return {
    port: front.address().port,
    stop() {
      for (const key of [...clients.keys()]) forget(key);
      return new Promise<void>((resolve) => front.close(() => resolve()));
    },
  };
}

/** Starts the proxy for `target`'s protocol. */
export async function startProxy(target: ProxyTarget): Promise<RunningProxy> {
  return target.protocol === "udp" ? await startUdpProxy(target) : startTcpProxy(target);
}
