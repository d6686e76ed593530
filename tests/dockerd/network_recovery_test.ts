// Network teardown when mini-dockerd dies: after `kill -9` of the daemon and a restart,
// no veth, namespace or proxy of the old containers is left (without live-restore the
// containers are stopped and their networks released); with live-restore the running
// container keeps its namespace, address and published port (its proxy is started
// again), and the persistent IPAM does not hand its address to a new container.
// The IPAM under load: 20 parallel `docker run`s get 20 distinct addresses.

import { assert, assertEquals, assertNotEquals } from "../helpers/assert.ts";
import { parseIPv4, subnetContains } from "../../lib/network/ipv4.ts";
import { containerTestIgnored, eventually } from "./containers_fixture.ts";
import {
  anotherSubnet,
  assertOurBridgeRoutes,
  createBridgeNetwork,
  expectSuccess,
  fetchLoopbackWhenUp,
  httpdScript,
  ipOf,
  namespacesOf,
  networkSetup,
  parsePortOutput,
  proxiesInto,
  vethsOn,
  withNetworkDaemon,
} from "./network_fixture.ts";

const ignore = containerTestIgnored("network recovery", "ip");

Deno.test({
  name: "kill -9 of the daemon, restart: no veth, namespace or proxy left behind",
  ignore,
  async fn() {
    const setup = networkSetup();
    await withNetworkDaemon(setup, async (daemon) => {
      const subnet = anotherSubnet(setup);
      const userBridge = `${setup.tag}u`;
      await createBridgeNetwork(daemon, "crashnet", subnet, userBridge);
      await expectSuccess(
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
      await expectSuccess(daemon.docker([
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
      await expectSuccess(daemon.docker(["start", "web", "app"]));
      assertEquals(vethsOn(setup.bridgeName).length, 1);
      assertEquals(vethsOn(userBridge).length, 1);
      await expectSuccess(daemon.docker(["rm", "-f", "web", "app"]));
      await expectSuccess(daemon.docker(["network", "rm", "crashnet"]));
    });
  },
});

Deno.test({
  name: "live-restore: a running container keeps its network and published port across kill -9",
  ignore,
  async fn() {
    const setup = networkSetup({ "live-restore": true });
    await withNetworkDaemon(setup, async (daemon) => {
      await expectSuccess(daemon.docker([
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
      const port = parsePortOutput(await expectSuccess(daemon.docker(["port", "kept"]))).get(
        "80/tcp",
      )!;
      assertOurBridgeRoutes(setup.bridgeName, setup.bridgeSubnet, address);
      assertEquals((await fetchLoopbackWhenUp(port.hostPort)).trim(), "still-here");
      const namespaces = namespacesOf(daemon);

      await daemon.kill("SIGKILL");
      await daemon.restart();

      assertEquals(
        (await expectSuccess(daemon.docker(["ps", "--format", "{{.Names}}"]))).trim(),
        "kept",
      );
      assertEquals(await ipOf(daemon, "kept"), address);
      const after = parsePortOutput(await expectSuccess(daemon.docker(["port", "kept"]))).get(
        "80/tcp",
      )!;
      assertEquals(after.hostPort, port.hostPort);
      assertEquals(namespacesOf(daemon), namespaces);
      assertEquals(vethsOn(setup.bridgeName).length, 1);
      assertOurBridgeRoutes(setup.bridgeName, setup.bridgeSubnet, address);
      assertEquals((await fetchLoopbackWhenUp(port.hostPort)).trim(), "still-here");

      // The IPAM book survived too: a new container gets another address.
      await expectSuccess(
        daemon.docker(["run", "-d", "--name", "newcomer", "busybox", "sleep", "300"]),
      );
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
      await expectSuccess(daemon.docker(["rm", "-f", ...names]));
      const book = JSON.parse(
        await Deno.readTextFile(`${daemon.paths.dataRoot}/network/ipam.json`),
      ) as { pools: Record<string, { allocations: Record<string, string> }> };
      for (const pool of Object.values(book.pools)) assertEquals(pool.allocations, {});
    });
  },
});
