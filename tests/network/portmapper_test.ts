// Published ports: `-p` parsing and API conversions, host port choice, and real
// mini-docker-proxy processes forwarding a TCP stream and a UDP datagram from
// 127.0.0.1 to servers inside a test namespace, then stopped by PID.

import dgram from "node:dgram";
import { assert, assertEquals, assertRejects, assertThrows } from "../helpers/assert.ts";
import {
  formatPortMapping,
  HostPortAllocator,
  isHostPortFree,
  mappingsToApiPorts,
  mappingsToSummaryPorts,
  parsePortSpec,
  PortMapper,
  portRequestsFromApi,
  startProxyProcess,
} from "../../lib/network/portmapper/mod.ts";
import { parseProxyArguments } from "../../lib/network/portmapper/proxy_command.ts";
import { inNetworkNamespace, spawnInNetworkNamespace } from "../../lib/network/sandbox/enter.ts";
import type { PortMapping } from "../../lib/network/types.ts";
import {
  assertNothingLeft,
  createTestContainerNetwork,
  needsNetworkRoot,
  processesMatching,
  waitFor,
} from "./support.ts";

const ignore = needsNetworkRoot("published ports");

Deno.test("-p specs parse like docker's, API shapes convert both ways", () => {
  assertEquals(parsePortSpec("80"), [{
    containerPort: 80,
    protocol: "tcp",
    hostIp: "",
    hostPort: 0,
  }]);
  assertEquals(parsePortSpec("8080:80/udp"), [
    { containerPort: 80, protocol: "udp", hostIp: "", hostPort: 8080 },
  ]);
  assertEquals(parsePortSpec("127.0.0.1::53/udp"), [
    { containerPort: 53, protocol: "udp", hostIp: "127.0.0.1", hostPort: 0 },
  ]);
  assertEquals(
    parsePortSpec("127.0.0.1:9000-9001:80-81").map((r) => [r.hostPort, r.containerPort]),
    [
      [9000, 80],
      [9001, 81],
    ],
  );
  assertThrows(() => parsePortSpec("80/sctp"), Error, "protocol");
  assertThrows(() => parsePortSpec("70000"), Error, "1 to 65535");
  assertThrows(() => parsePortSpec("a.b:1:2"), Error, "host address");
  assertThrows(() => parsePortSpec("1-3:80-81"), Error, "differ");

  const requests = portRequestsFromApi(
    { "80/tcp": [{ HostIp: "127.0.0.1", HostPort: "8080" }], "53/udp": [{ HostPort: "" }] },
    { "80/tcp": {}, "443/tcp": {}, "53/udp": {} },
    true,
  );
  assertEquals(requests, [
    { containerPort: 80, protocol: "tcp", hostIp: "127.0.0.1", hostPort: 8080 },
    { containerPort: 53, protocol: "udp", hostIp: "", hostPort: 0 },
    { containerPort: 443, protocol: "tcp", hostIp: "", hostPort: 0 },
  ]);
  const mappings: PortMapping[] = [
    { containerPort: 80, protocol: "tcp", hostIp: "127.0.0.1", hostPort: 8080, containerIp: "x" },
  ];
  assertEquals(mappingsToApiPorts(mappings, { "80/tcp": {}, "443/tcp": {} }), {
    "80/tcp": [{ HostIp: "127.0.0.1", HostPort: "8080" }],
    "443/tcp": null,
  });
  assertEquals(mappingsToSummaryPorts(mappings), [
    { IP: "127.0.0.1", PrivatePort: 80, PublicPort: 8080, Type: "tcp" },
  ]);
  assertEquals(formatPortMapping(mappings[0]), "127.0.0.1:8080->80/tcp");
  assertEquals(
    parseProxyArguments([
      "-proto",
      "udp",
      "--host-ip=127.0.0.1",
      "-host-port",
      "5353",
      "-container-ip",
      "10.1.2.3",
      "-container-port",
      "53",
    ]),
    {
      protocol: "udp",
      hostIp: "127.0.0.1",
      hostPort: 5353,
      containerIp: "10.1.2.3",
      containerPort: 53,
    },
  );
  assertThrows(() => parseProxyArguments(["-bogus", "1"]), Error, "not defined");
});

Deno.test({
  name: "host ports: a busy port is refused, -P picks distinct free ones",
  ignore,
  async fn() {
    const busy = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const busyPort = (busy.addr as Deno.NetAddr).port;
    try {
      assertEquals(await isHostPortFree("tcp", "127.0.0.1", busyPort), false);
      const allocator = new HostPortAllocator({ start: 50100, end: 50199 });
      await assertRejects(
        () => allocator.reserve("tcp", "127.0.0.1", busyPort),
        Error,
        "already allocated",
      );
      const picked = await Promise.all(
        Array.from({ length: 5 }, () => allocator.reserve("tcp", "127.0.0.1", 0)),
      );
      assertEquals(new Set(picked).size, 5);
      for (const port of picked) assert(port >= 50100 && port <= 50199);
      await assertRejects(
        () => allocator.reserve("tcp", "127.0.0.1", picked[0]),
        Error,
        "already allocated",
      );
      allocator.release("tcp", picked[0]);
      assertEquals(await allocator.reserve("tcp", "127.0.0.1", picked[0]), picked[0]);
    } finally {
      busy.close();
    }
    assertThrows(() => new PortMapper({ defaultHostIp: "192.0.2.10" }), Error, "only on loopback");
  },
});

async function sha256Hex(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", bytes);
  return [...new Uint8Array(digest)].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}

Deno.test({
  name: "mini-docker-proxy forwards a TCP stream and a UDP datagram into a namespace",
  ignore,
  async fn() {
    const container = await createTestContainerNetwork();
    const mapper = new PortMapper();
    let udpServer: Deno.ChildProcess | undefined;
    let mappings: PortMapping[] = [];
    let tcpListener: Deno.Listener | undefined;
    try {
      // TCP server inside the namespace: answers with the size and digest of what it got.
      tcpListener = inNetworkNamespace(
        container.namespacePath,
        () => Deno.listen({ hostname: container.address, port: 8080 }),
      );
      const listener = tcpListener;
      const served = (async () => {
        const connection = await listener.accept();
        const chunks: Uint8Array[] = [];
        const buffer = new Uint8Array(65536);
        for (;;) {
          const count = await connection.read(buffer);
          if (count === null) break;
          chunks.push(buffer.slice(0, count));
        }
        const all = new Uint8Array(chunks.reduce((sum, chunk) => sum + chunk.length, 0));
        let offset = 0;
        for (const chunk of chunks) {
          all.set(chunk, offset);
          offset += chunk.length;
        }
        await connection.write(new TextEncoder().encode(`${all.length} ${await sha256Hex(all)}`));
        connection.close();
        return (connection.remoteAddr as Deno.NetAddr).hostname;
      })();
      // UDP echo server inside the namespace.
      udpServer = spawnInNetworkNamespace(container.namespacePath, Deno.execPath(), {
        args: [
          "run",
          "--allow-net",
          "--no-lock",
          new URL("./udp_echo_server.ts", import.meta.url).pathname,
          container.address,
          "5353",
        ],
        stdout: "piped",
        stderr: "inherit",
      });
      const ready = await udpServer.stdout.pipeThrough(new TextDecoderStream()).getReader().read();
      assertEquals(ready.value?.trim(), "ready");

      mappings = await mapper.map(container.address, [
        { containerPort: 8080, protocol: "tcp", hostIp: "", hostPort: 0 },
        { containerPort: 5353, protocol: "udp", hostIp: "127.0.0.1", hostPort: 0 },
      ]);
      assertEquals(mappings.map((mapping) => [mapping.hostIp, mapping.protocol]), [
        ["127.0.0.1", "tcp"],
        ["127.0.0.1", "udp"],
      ]);
      for (const mapping of mappings) assert(mapping.proxyPid! > 0);

      // 1 MiB through 127.0.0.1:hostPort, checked end to end.
      const payload = crypto.getRandomValues(new Uint8Array(65536));
      const sent = new Uint8Array(16 * payload.length);
      for (let index = 0; index < 16; index++) sent.set(payload, index * payload.length);
      const client = await Deno.connect({ hostname: "127.0.0.1", port: mappings[0].hostPort });
      let written = 0;
      while (written < sent.length) written += await client.write(sent.subarray(written));
      await client.closeWrite();
      const reply = new TextDecoder().decode(await new Response(client.readable).arrayBuffer());
      assertEquals(reply, `${sent.length} ${await sha256Hex(sent)}`);
      assertEquals(await served, container.gateway, "the container sees the host's gateway");

      // One datagram there and back.
      const socket = dgram.createSocket("udp4");
      const answer = await new Promise<string>((resolve) => {
        socket.on("message", (message) => resolve(message.toString()));
        socket.send("hello", mappings[1].hostPort, "127.0.0.1");
      });
      socket.close();
      assertEquals(answer, "echo:hello");

      // The proxy reports a busy port instead of failing silently.
      await assertRejects(
        () =>
          startProxyProcess(mapper.proxyCommand, {
            protocol: "tcp",
            hostIp: "127.0.0.1",
            hostPort: mappings[0].hostPort,
            containerIp: container.address,
            containerPort: 8080,
          }),
        Error,
        `cannot publish 127.0.0.1:${mappings[0].hostPort}/tcp`,
      );
    } finally {
      await mapper.unmap(mappings);
      tcpListener?.close();
      if (udpServer) {
        udpServer.kill("SIGKILL");
        await udpServer.status;
      }
      await container.remove();
    }
    for (const mapping of mappings) {
      await waitFor("the proxy to exit", () =>
        !processesMatching("mini_docker_proxy.ts")
          .includes(mapping.proxyPid!));
      assert(await isHostPortFree(mapping.protocol, "127.0.0.1", mapping.hostPort));
    }
    await assertNothingLeft(container.tag);
  },
});
