// User-defined bridge networks through mini-dockerd: `network create/ls/inspect/rm`
// with the real docker CLI and with mini-docker; two containers on one network reach
// each other *by name* and alias from inside their own namespaces (ping, wget of an
// httpd); `network connect`/`disconnect` of a running container, and connect of a
// stopped one. Packets only travel between the test's containers, after checking their
// addresses are behind the test's bridge.

import { assert, assertEquals, assertNotEquals, assertStringIncludes } from "../helpers/assert.ts";
import { formatSubnet } from "../../lib/network/ipv4.ts";
import { hostAddress } from "../network/support.ts";
import { containerTestIgnored } from "./containers_fixture.ts";
import {
  anotherSubnet,
  assertOurBridgeRoutes,
  createBridgeNetwork,
  expectSuccess,
  httpdScript,
  linkExists,
  networkSetup,
  vethsOn,
  withNetworkDaemon,
} from "./network_fixture.ts";
import type { TestDockerd } from "../helpers/dockerd.ts";

const ignore = containerTestIgnored("user-defined networks", "ip");

async function addressOf(daemon: TestDockerd, container: string, network: string) {
  return (await expectSuccess(daemon.docker([
    "inspect",
    "-f",
    `{{(index .NetworkSettings.Networks "${network}").IPAddress}}`,
    container,
  ]))).trim();
}

Deno.test({
  name: "real docker CLI and mini-docker: network create, ls, inspect, rm",
  ignore,
  async fn() {
    const setup = networkSetup();
    await withNetworkDaemon(setup, async (daemon) => {
      const subnet = anotherSubnet(setup);
      const id = (await expectSuccess(daemon.docker([
        "network",
        "create",
        "--subnet",
        formatSubnet(subnet),
        "--gateway",
        hostAddress(subnet, 5),
        "--label",
        "purpose=test",
        `${setup.tag}-net`,
      ]))).trim();
      assertEquals(id.length, 64);
      const ls = await expectSuccess(
        daemon.docker(["network", "ls", "--format", "{{.Name}} {{.Driver}}"]),
      );
      assertEquals(
        ls.trim().split("\n").sort(),
        [
          "bridge bridge",
          "host host",
          "none null",
          `${setup.tag}-net bridge`,
        ].sort(),
      );
      const custom = await expectSuccess(
        daemon.docker(["network", "ls", "-q", "--filter", "type=custom"]),
      );
      assertEquals(custom.trim(), id.slice(0, 12));
      const inspected = JSON.parse(
        await expectSuccess(daemon.docker(["network", "inspect", `${setup.tag}-net`])),
      );
      assertEquals(inspected[0].Id, id);
      assertEquals(inspected[0].IPAM.Config, [{
        Subnet: formatSubnet(subnet),
        Gateway: hostAddress(subnet, 5),
      }]);
      assertEquals(inspected[0].Labels, { purpose: "test" });
      const bridgeName = `br-${id.slice(0, 12)}`;
      assert(linkExists(bridgeName), `${bridgeName} was not created`);

      // The same through mini-docker, with a subnet from default-address-pools.
      const second =
        (await expectSuccess(daemon.miniDocker(["network", "create", `${setup.tag}-two`])))
          .trim();
      const secondInspect = JSON.parse(
        await expectSuccess(daemon.miniDocker(["network", "inspect", `${setup.tag}-two`])),
      );
      assertEquals(secondInspect[0].Id, second);
      assertStringIncludes(
        secondInspect[0].IPAM.Config[0].Subnet,
        formatSubnet(setup.poolSubnet).split(".").slice(0, 3).join("."),
      );
      const duplicate = await daemon.docker(["network", "create", `${setup.tag}-net`]);
      assertNotEquals(duplicate.code, 0);
      assertStringIncludes(duplicate.stderr, "already exists");
      const builtin = await daemon.docker(["network", "rm", "bridge"]);
      assertNotEquals(builtin.code, 0);
      assertStringIncludes(builtin.stderr, "pre-defined network");

      await expectSuccess(daemon.docker(["network", "rm", `${setup.tag}-net`]));
      await expectSuccess(daemon.miniDocker(["network", "rm", `${setup.tag}-two`]));
      assert(!linkExists(bridgeName), `${bridgeName} is still there after network rm`);
      const after = await expectSuccess(daemon.docker(["network", "ls", "--format", "{{.Name}}"]));
      assertEquals(after.trim().split("\n").sort(), ["bridge", "host", "none"]);
      const gone = await daemon.docker(["network", "inspect", `${setup.tag}-net`]);
      assertNotEquals(gone.code, 0);
    });
  },
});

Deno.test({
  name: "two containers on a user-defined network talk by name; connect and disconnect",
  ignore,
  async fn() {
    const setup = networkSetup();
    await withNetworkDaemon(setup, async (daemon) => {
      const subnet = anotherSubnet(setup);
      const network = `${setup.tag}-app`;
      const userBridge = `${setup.tag}u`;
      await createBridgeNetwork(daemon, network, subnet, userBridge);
      await expectSuccess(daemon.docker([
        "run",
        "-d",
        "--network",
        network,
        "--name",
        "server",
        "--network-alias",
        "www",
        "busybox",
        "sh",
        "-c",
        httpdScript("served-by-name"),
      ]));
      await expectSuccess(
        daemon.docker([
          "run",
          "-d",
          "--network",
          network,
          "--name",
          "client",
          "busybox",
          "sleep",
          "300",
        ]),
      );
      const serverAddress = await addressOf(daemon, "server", network);
      const clientAddress = await addressOf(daemon, "client", network);
      assertNotEquals(serverAddress, clientAddress);

      // Names come from the generated /etc/hosts: both directions, the earlier one updated.
      const clientHosts = await expectSuccess(
        daemon.docker(["exec", "client", "cat", "/etc/hosts"]),
      );
      assertStringIncludes(clientHosts, `${serverAddress}\tserver`);
      const serverHosts = await expectSuccess(
        daemon.docker(["exec", "server", "cat", "/etc/hosts"]),
      );
      assertStringIncludes(serverHosts, `${clientAddress}\tclient`);

      assertOurBridgeRoutes(userBridge, subnet, serverAddress);
      assertOurBridgeRoutes(userBridge, subnet, clientAddress);
      const ping = await daemon.docker(["exec", "client", "ping", "-c", "1", "-W", "5", "server"]);
      assertEquals(ping.code, 0, ping.stdout + ping.stderr);
      assertStringIncludes(ping.stdout, `${serverAddress}`);
      let page = "";
      for (let attempt = 0; attempt < 600 && page === ""; attempt++) {
        const wget = await daemon.docker([
          "exec",
          "client",
          "wget",
          "-O",
          "-",
          "http://server/",
        ]);
        if (wget.code === 0) page = wget.stdout;
        else await new Promise((resolve) => setTimeout(resolve, 100));
      }
      assertEquals(page.trim(), "served-by-name");
      // The network-scoped alias of `run --network-alias www` resolves too.
      const byAlias = await daemon.docker(["exec", "client", "ping", "-c", "1", "-W", "5", "www"]);
      assertEquals(byAlias.code, 0, byAlias.stdout + byAlias.stderr);
      assertStringIncludes(byAlias.stdout, serverAddress);

      // A third container on the default bridge cannot resolve "server" until connected.
      await expectSuccess(
        daemon.docker(["run", "-d", "--name", "outsider", "busybox", "sleep", "300"]),
      );
      const unknown = await daemon.docker([
        "exec",
        "outsider",
        "grep",
        "-c",
        "server",
        "/etc/hosts",
      ]);
      assertNotEquals(unknown.code, 0);
      await expectSuccess(daemon.docker(["network", "connect", network, "outsider"]));
      const links = await expectSuccess(daemon.docker(["exec", "outsider", "ip", "-o", "link"]));
      assertStringIncludes(links, "eth1");
      const outsiderAddress = await addressOf(daemon, "outsider", network);
      assertOurBridgeRoutes(userBridge, subnet, outsiderAddress);
      const pingAfterConnect = await daemon.docker([
        "exec",
        "outsider",
        "ping",
        "-c",
        "1",
        "-W",
        "5",
        "server",
      ]);
      assertEquals(pingAfterConnect.code, 0, pingAfterConnect.stdout + pingAfterConnect.stderr);
      const members = JSON.parse(
        await expectSuccess(daemon.docker(["network", "inspect", network])),
      )[0]
        .Containers as Record<string, { Name: string }>;
      assertEquals(Object.values(members).map((member) => member.Name).sort(), [
        "client",
        "outsider",
        "server",
      ]);
      assertEquals(vethsOn(userBridge).length, 3);

      await expectSuccess(daemon.docker(["network", "disconnect", network, "outsider"]));
      const linksAfter = await expectSuccess(
        daemon.docker(["exec", "outsider", "ip", "-o", "link"]),
      );
      assert(!linksAfter.includes("eth1"), linksAfter);
      assertEquals(vethsOn(userBridge).length, 2);

      // A stopped container connected to the network gets it at its next start.
      await expectSuccess(daemon.docker(["create", "--name", "late", "busybox", "sleep", "300"]));
      await expectSuccess(daemon.docker(["network", "connect", network, "late"]));
      await expectSuccess(daemon.docker(["start", "late"]));
      assertStringIncludes(
        await expectSuccess(daemon.docker(["exec", "late", "ip", "-o", "link"])),
        "eth1",
      );
      const lateHosts = await expectSuccess(daemon.docker(["exec", "late", "cat", "/etc/hosts"]));
      assertStringIncludes(lateHosts, `${serverAddress}\tserver`);
      assertEquals(vethsOn(userBridge).length, 3);

      const busy = await daemon.docker(["network", "rm", network]);
      assertNotEquals(busy.code, 0);
      assertStringIncludes(busy.stderr, "active endpoints");
      await expectSuccess(daemon.docker(["rm", "-f", "server", "client", "outsider", "late"]));
      assertEquals(vethsOn(userBridge), []);
      await expectSuccess(daemon.docker(["network", "rm", network]));
      assert(!linkExists(userBridge));
    });
  },
});
