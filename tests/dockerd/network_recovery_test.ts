// Network teardown when mini-dockerd dies: after `kill -9` of the daemon and a restart,
// no veth, namespace or proxy of the old containers is left (without live-restore the
// containers are stopped and their networks released); with live-restore the running
// container keeps its namespace, address and published port (its proxy is started
// again), and the persistent IPAM does not hand its address to a new container.
// The IPAM under load: 20 parallel `docker run`s get 20 distinct addresses.

import { assert, assertEquals, assertNotEquals } from "../helpers/assert.ts";
import { formatSubnet, parseIPv4, subnetContains } from "../../lib/network/ipv4.ts";
import { containerTestIgnored, eventually } from "./containers_fixture.ts";
import {
  anotherSubnet,
  assertOurBridgeRoutes,
  fetchLoopback,
  httpdScript,
  namespacesOf,
  networkSetup,
  parsePortOutput,
  proxiesInto,
  vethsOn,
  withNetworkDaemon,
} from "./network_fixture.ts";
import type { TestDockerd } from "../helpers/dockerd.ts";

const ignore = containerTestIgnored("network recovery", "ip");

async function ok(result: Promise<{ code: number; stdout: string; stderr: string }>) {
  const { code, stdout, stderr } = await result;
  assertEquals(code, 0, `exit ${code}: ${stderr}`);
  return stdout;
}

async function fetchEventually(port: number): Promise<string> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 600; attempt++) {
    try {
      return await fetchLoopback(port);
    } catch (error) {
      lastError = error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  throw lastError;
}

async function ipOf(daemon: TestDockerd, name: string): Promise<string> {
  return (await ok(daemon.docker([
    "inspect",
    "-f",
    "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}",
    name,
  ]))).trim();
}

Deno.test({
  name: "kill -9 of the daemon, restart: no veth, namespace or proxy left behind",
  ignore,
  async fn() {
    const setup = networkSetup();
    await withNetworkDaemon(setup, async (daemon) => {
      const subnet = anotherSubnet(setup);
      const userBridge = `${setup.tag}u`;
      await ok(daemon.docker([
        "network",
        "create",
        "--subnet",
        formatSubnet(subnet),
        "-o",
        `com.docker.network.bridge.name=${userBridge}`,
        "crashnet",
      ]));
      await ok(
        daemon.docker([
          "run",
          "-d",
          "-P",
          "--expose",
          "80",
          "--name",
          "web",
          "busybox",
          "sleep",
          "300",
        ]),
      );
      await ok(daemon.docker([
        "run",
        "-d",
        "--network",
        "crashnet",
        "-p",
        "127.0.0.1::81",
        "--name",
        "app",
        "busybox",
        "sleep",
        "300",
      ]));
      assertEquals(vethsOn(setup.bridgeName).length, 1);
      assertEquals(vethsOn(userBridge).length, 1);
      assertEquals(namespacesOf(daemon).length >= 2, true);
      assertEquals(proxiesInto([setup.bridgeSubnet, subnet]).length, 2);

      await daemon.kill("SIGKILL");
      await daemon.restart();

      // Without live-restore the restarted daemon stops them and releases their networks.
      await eventually("containers stopped after the restart", async () => {
        const ps = await daemon.docker(["ps", "-q"]);
        return ps.stdout.trim() === "";
      });
      assertEquals(vethsOn(setup.bridgeName), []);
      assertEquals(vethsOn(userBridge), []);
      assertEquals(namespacesOf(daemon), []);
      await eventually("no proxies", () => proxiesInto([setup.bridgeSubnet, subnet]).length === 0);

      // The networks themselves survive the restart and work again.
      await ok(daemon.docker(["start", "web", "app"]));
      assertEquals(vethsOn(setup.bridgeName).length, 1);
      assertEquals(vethsOn(userBridge).length, 1);
      await ok(daemon.docker(["rm", "-f", "web", "app"]));
      await ok(daemon.docker(["network", "rm", "crashnet"]));
    });
  },
});

Deno.test({
  name: "live-restore: a running container keeps its network and published port across kill -9",
  ignore,
  async fn() {
    const setup = networkSetup({ "live-restore": true });
    await withNetworkDaemon(setup, async (daemon) => {
      await ok(daemon.docker([
        "run",
        "-d",
        "-P",
        "--expose",
        "80",
        "--name",
        "kept",
        "busybox",
        "sh",
        "-c",
        httpdScript("still-here"),
      ]));
      const address = await ipOf(daemon, "kept");
      const port = parsePortOutput(await ok(daemon.docker(["port", "kept"]))).get("80/tcp")!;
      assertOurBridgeRoutes(setup.bridgeName, setup.bridgeSubnet, address);
      assertEquals((await fetchEventually(port.hostPort)).trim(), "still-here");
      const namespaces = namespacesOf(daemon);

      await daemon.kill("SIGKILL");
      await daemon.restart();

      assertEquals((await ok(daemon.docker(["ps", "--format", "{{.Names}}"]))).trim(), "kept");
      assertEquals(await ipOf(daemon, "kept"), address);
      const after = parsePortOutput(await ok(daemon.docker(["port", "kept"]))).get("80/tcp")!;
      assertEquals(after.hostPort, port.hostPort);
      assertEquals(namespacesOf(daemon), namespaces);
      assertEquals(vethsOn(setup.bridgeName).length, 1);
      assertOurBridgeRoutes(setup.bridgeName, setup.bridgeSubnet, address);
      assertEquals((await fetchEventually(port.hostPort)).trim(), "still-here");

      // The IPAM book survived too: a new container gets another address.
      await ok(daemon.docker(["run", "-d", "--name", "newcomer", "busybox", "sleep", "300"]));
      const newcomer = await ipOf(daemon, "newcomer");
      assertNotEquals(newcomer, address);
      assert(subnetContains(setup.bridgeSubnet, parseIPv4(newcomer)));
    });
  },
});

Deno.test({
  name: "IPAM: 20 parallel docker runs get 20 distinct addresses, all released on rm",
  ignore,
  async fn() {
    const setup = networkSetup();
    await withNetworkDaemon(setup, async (daemon) => {
      const names = Array.from({ length: 20 }, (_, index) => `par${index}`);
      const runs = await Promise.all(
        names.map((name) =>
          daemon.docker(["run", "-d", "--name", name, "busybox", "sleep", "300"])
        ),
      );
      for (const run of runs) assertEquals(run.code, 0, run.stderr);
      const addresses = await Promise.all(names.map((name) => ipOf(daemon, name)));
      assertEquals(new Set(addresses).size, 20, `duplicates among ${addresses.join(" ")}`);
      for (const address of addresses) {
        assert(subnetContains(setup.bridgeSubnet, parseIPv4(address)), address);
      }
      assertEquals(vethsOn(setup.bridgeName).length, 20);
      await ok(daemon.docker(["rm", "-f", ...names]));
      const book = JSON.parse(
        await Deno.readTextFile(`${daemon.paths.dataRoot}/network/ipam.json`),
      ) as { pools: Record<string, { allocations: Record<string, string> }> };
      for (const pool of Object.values(book.pools)) assertEquals(pool.allocations, {});
    });
  },
});
