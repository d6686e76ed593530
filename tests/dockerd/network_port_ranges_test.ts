// Port ranges with `-p`, end to end through mini-docker and mini-dockerd: a range on both
// sides (`-p 127.0.0.1:A-B:80-81`) publishes one port per pair; a container range alone
// (`-p 80-81`) gets one free host port each; and a host range for one container port
// (`-p 127.0.0.1:R-S:80`, sent as HostPort "R-S") gets the lowest free port of that
// range: the test holds R itself, so the daemon must pick R+1. When every port of the
// range is taken, the start fails and says so. Each published port is checked with a
// busybox httpd answering through it, only on 127.0.0.1, after checking the
// container's address is behind this test's own bridge.

import { assert, assertEquals, assertStringIncludes } from "../helpers/assert.ts";
import type { TestDockerd } from "../helpers/dockerd.ts";
import { isHostPortFree } from "../../lib/network/portmapper/host_ports.ts";
import { containerTestIgnored } from "./containers_fixture.ts";
import {
  assertOurBridgeRoutes,
  fetchLoopbackWhenUp,
  ipOf,
  networkSetup,
  type NetworkTestSetup,
  parsePortOutput,
  withNetworkDaemon,
} from "./network_fixture.ts";

const ignore = containerTestIgnored("published port ranges", "ip");

/** `count` consecutive ports free on 127.0.0.1 (tcp), from a random place in 20000-29999. */
async function freeConsecutivePorts(count: number): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const first = 20000 + Math.floor(Math.random() * 10000);
    let allFree = true;
    for (let port = first; port < first + count && allFree; port++) {
      allFree = await isHostPortFree("tcp", "127.0.0.1", port);
    }
    if (allFree) return first;
  }
  throw new Error(`found no ${count} consecutive free ports on 127.0.0.1`);
}

/** A busybox shell line: httpd on each port, serving "port-<port>". */
function httpdOnPorts(ports: number[]): string {
  const [last, ...others] = [...ports].reverse();
  const serve = (port: number) =>
    `mkdir -p /w${port} && echo port-${port} > /w${port}/index.html && `;
  return ports.map(serve).join("") +
    others.map((port) => `httpd -p ${port} -h /w${port} && `).join("") +
    `exec httpd -f -p ${last} -h /w${last}`;
}

/** `docker port NAME` (real CLI) as container port → host port, all on 127.0.0.1. */
async function publishedPorts(daemon: TestDockerd, name: string): Promise<Map<string, number>> {
  const result = await daemon.docker(["port", name]);
  assertEquals(result.code, 0, result.stderr);
  const ports = new Map<string, number>();
  for (const [key, published] of parsePortOutput(result.stdout)) {
    assertEquals(published.hostIp, "127.0.0.1", `${name} ${key}: ${result.stdout}`);
    ports.set(key, published.hostPort);
  }
  return ports;
}

/** Fetches / through 127.0.0.1:`hostPort` until the container's httpd answers. */
async function pageThrough(
  daemon: TestDockerd,
  setup: NetworkTestSetup,
  name: string,
  hostPort: number,
): Promise<string> {
  const address = await ipOf(daemon, name);
  // Safety: the proxy will connect to `address`; it must be behind our bridge.
  assertOurBridgeRoutes(setup.bridgeName, setup.bridgeSubnet, address);
  return (await fetchLoopbackWhenUp(hostPort)).trim();
}

Deno.test({
  name: "mini-docker run -p with port ranges: A-B:80-81, 80-81, and a host range R-S:80",
  ignore,
  async fn(t) {
    const setup = networkSetup();
    await withNetworkDaemon(setup, async (daemon) => {
      await t.step("-p 127.0.0.1:A-(A+1):80-81: one binding per port, both answer", async () => {
        const first = await freeConsecutivePorts(2);
        const run = await daemon.miniDocker([
          "run",
          "-d",
          "--name",
          "pair",
          "-p",
          `127.0.0.1:${first}-${first + 1}:80-81`,
          "busybox",
          "sh",
          "-c",
          httpdOnPorts([80, 81]),
        ]);
        assertEquals(run.code, 0, run.stderr);
        const ports = await publishedPorts(daemon, "pair");
        assertEquals(Object.fromEntries(ports), { "80/tcp": first, "81/tcp": first + 1 });
        assertEquals(await pageThrough(daemon, setup, "pair", first), "port-80");
        assertEquals(await pageThrough(daemon, setup, "pair", first + 1), "port-81");
      });

      await t.step("-p 80-81: each container port gets a free host port", async () => {
        const run = await daemon.miniDocker([
          "run",
          "-d",
          "--name",
          "dynamic",
          "-p",
          "80-81",
          "busybox",
          "sh",
          "-c",
          httpdOnPorts([80, 81]),
        ]);
        assertEquals(run.code, 0, run.stderr);
        const ports = await publishedPorts(daemon, "dynamic");
        assertEquals([...ports.keys()].sort(), ["80/tcp", "81/tcp"]);
        assertEquals(await pageThrough(daemon, setup, "dynamic", ports.get("80/tcp")!), "port-80");
        assertEquals(await pageThrough(daemon, setup, "dynamic", ports.get("81/tcp")!), "port-81");
      });

      await t.step("-p 127.0.0.1:R-(R+3):80: the lowest free port of the range", async () => {
        const first = await freeConsecutivePorts(4);
        const range = `${first}-${first + 3}`;
        // The test holds R, so the daemon must find it taken and go on to R+1.
        const held = Deno.listen({ hostname: "127.0.0.1", port: first });
        try {
          const run = await daemon.miniDocker([
            "run",
            "-d",
            "--name",
            "picked",
            "-p",
            `127.0.0.1:${range}:80`,
            "busybox",
            "sh",
            "-c",
            httpdOnPorts([80]),
          ]);
          assertEquals(run.code, 0, run.stderr);
          const bindings = JSON.parse(
            (await daemon.docker(["inspect", "-f", "{{json .HostConfig.PortBindings}}", "picked"]))
              .stdout,
          );
          assertEquals(bindings, { "80/tcp": [{ HostIp: "127.0.0.1", HostPort: range }] });
          const ports = await publishedPorts(daemon, "picked");
          assertEquals(Object.fromEntries(ports), { "80/tcp": first + 1 });
          assertEquals(await pageThrough(daemon, setup, "picked", first + 1), "port-80");

          // R is held by the test, R+1 by "picked": nothing is left in R-(R+1).
          const full = await daemon.miniDocker([
            "run",
            "-d",
            "--name",
            "no-room",
            "-p",
            `127.0.0.1:${first}-${first + 1}:80`,
            "busybox",
            "true",
          ]);
          assert(full.code !== 0, `run with a full range succeeded: ${full.stdout}`);
          assertStringIncludes(full.stderr, "every port of the range is already allocated");
        } finally {
          held.close();
        }
      });
    });
  },
});
