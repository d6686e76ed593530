// The netlink client against the kernel, with `ip` as an independent witness: a test
// bridge, two throwaway namespaces joined to it (one by "create in host, move by fd,
// rename", one by the driver's "peer born inside"), then a ping and a TCP exchange
// between them, sent only after the bridge and routes are confirmed. Everything is
// removed and the removal verified.

import { assert, assertEquals, assertStringIncludes, assertThrows } from "../helpers/assert.ts";
import {
  addAddress,
  addRoute,
  createBridge,
  createVethPair,
  deleteLinkByName,
  findLink,
  getLink,
  listAddresses,
  listLinks,
  listRoutes,
  moveLinkToNamespace,
  NetlinkSocket,
  renameLink,
  setLinkMaster,
  setLinkUp,
} from "../../lib/network/netlink/mod.ts";
import { attachEndpoint } from "../../lib/network/drivers/bridge/endpoint.ts";
import { formatIPv4, subnetContains } from "../../lib/network/ipv4.ts";
import {
  createNetworkNamespace,
  deleteNetworkNamespace,
} from "../../lib/network/sandbox/namespace.ts";
import { inNetworkNamespace, spawnInNetworkNamespace } from "../../lib/network/sandbox/enter.ts";
import { closeFile, openFile, OpenFlags } from "../../lib/linux/files.ts";
import {
  assertNothingLeft,
  hostAddress,
  ipInNamespace,
  ipOnHost,
  needsNetworkRoot,
  pickTestSubnet,
  testTag,
} from "./support.ts";

const ignore = needsNetworkRoot("netlink", "busybox");

Deno.test({
  name: "netlink wires two namespaces to a bridge; they ping and talk TCP",
  ignore,
  async fn() {
    const tag = testTag();
    const directory = await Deno.makeTempDir({ prefix: `${tag}-` });
    const subnet = pickTestSubnet();
    const gateway = subnet.network + 1;
    const [addressA, addressB] = [subnet.network + 2, subnet.network + 3];
    const bridgeName = `${tag}br`;
    const namespaceA = `${directory}/a`;
    const namespaceB = `${directory}/b`;
    const host = NetlinkSocket.open();
    try {
      createBridge(host, bridgeName);
      const bridge = getLink(host, bridgeName);
      assertEquals(bridge.kind, "bridge");
      addAddress(host, bridge.index, gateway, 24);
      setLinkUp(host, bridge.index);
      createNetworkNamespace(namespaceA);
      createNetworkNamespace(namespaceB);

      // A: the long way, as Docker does it: create both ends here, move one by fd.
      createVethPair(host, `${tag}ha`, `${tag}pa`);
      setLinkMaster(host, getLink(host, `${tag}ha`).index, bridge.index);
      setLinkUp(host, getLink(host, `${tag}ha`).index);
      const fd = openFile(namespaceA, OpenFlags.RDONLY | OpenFlags.CLOEXEC);
      try {
        moveLinkToNamespace(host, getLink(host, `${tag}pa`).index, fd);
      } finally {
        closeFile(fd);
      }
      assertEquals(findLink(host, `${tag}pa`), undefined, "the moved end left the host");
      const insideA = NetlinkSocket.openIn(namespaceA);
      try {
        const peer = getLink(insideA, `${tag}pa`);
        renameLink(insideA, peer.index, "eth0");
        addAddress(insideA, peer.index, addressA, 24);
        setLinkUp(insideA, peer.index);
        setLinkUp(insideA, getLink(insideA, "lo").index);
        addRoute(insideA, { gateway });
      } finally {
        insideA.close();
      }

      // B: the driver's way, the peer born inside the namespace as eth0.
      attachEndpoint(host, {
        bridgeName,
        namespacePath: namespaceB,
        hostInterfaceName: `${tag}hb`,
        containerInterfaceName: "eth0",
        address: addressB,
        prefixLength: 24,
        defaultGateway: gateway,
      });

      // Witness 1: netlink's own view.
      const ports = listLinks(host).filter((link) => link.masterIndex === bridge.index);
      assertEquals(ports.map((link) => link.name).sort(), [`${tag}ha`, `${tag}hb`]);
      const insideB = NetlinkSocket.openIn(namespaceB);
      try {
        const links = listLinks(insideB).map((link) => link.name).sort();
        assertEquals(links, ["eth0", "lo"]);
        const addresses = listAddresses(insideB).map((entry) => formatIPv4(entry.address));
        assert(addresses.includes(formatIPv4(addressB)), `B has ${addresses.join(", ")}`);
        const routes = listRoutes(insideB);
        assert(routes.some((route) => route.prefixLength === 0 && route.gateway === gateway));
      } finally {
        insideB.close();
      }

      // Witness 2: iproute2, reading the kernel on its own.
      assertStringIncludes(
        await ipOnHost(["-o", "link", "show", "master", bridgeName]),
        `${tag}hb`,
      );
      assertStringIncludes(
        await ipInNamespace(namespaceA, ["-o", "addr", "show", "dev", "eth0"]),
        `${formatIPv4(addressA)}/24`,
      );
      const routeA = await ipInNamespace(namespaceA, ["route"]);
      assertStringIncludes(routeA, `default via ${formatIPv4(gateway)} dev eth0`);
      assertStringIncludes(routeA, `${hostAddress(subnet, 0)}/24 dev eth0`);

      // The bridge and both routes exist, and the targets are inside our namespaces.
      assert(subnetContains(subnet, addressB));
      const ping = await new Deno.Command("nsenter", {
        args: [
          `--net=${namespaceA}`,
          "busybox",
          "ping",
          "-c",
          "1",
          "-W",
          "5",
          formatIPv4(addressB),
        ],
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert(ping.success, `ping A→B failed: ${new TextDecoder().decode(ping.stdout)}`);

      // TCP: a Deno listener created while the main thread sits in B; busybox nc in A.
      const listener = inNetworkNamespace(
        namespaceB,
        () => Deno.listen({ hostname: formatIPv4(addressB), port: 7070 }),
      );
      const served = (async () => {
        const connection = await listener.accept();
        const buffer = new Uint8Array(64);
        const count = await connection.read(buffer);
        const remote = (connection.remoteAddr as Deno.NetAddr).hostname;
        await connection.write(new TextEncoder().encode("pong\n"));
        connection.close();
        return { text: new TextDecoder().decode(buffer.subarray(0, count ?? 0)), remote };
      })();
      const client = spawnInNetworkNamespace(namespaceA, "busybox", {
        args: ["nc", formatIPv4(addressB), "7070"],
        stdin: "piped",
        stdout: "piped",
      });
      const writer = client.stdin.getWriter();
      await writer.write(new TextEncoder().encode("ping\n"));
      const reply = await new Response(client.stdout).text();
      await writer.close().catch(() => {});
      await client.status;
      const { text, remote } = await served;
      listener.close();
      assertEquals(text, "ping\n");
      assertEquals(reply, "pong\n");
      assertEquals(remote, formatIPv4(addressA), "B saw A's own address (no NAT)");
    } finally {
      deleteLinkByName(host, `${tag}ha`);
      deleteLinkByName(host, `${tag}hb`);
      deleteLinkByName(host, bridgeName);
      host.close();
      deleteNetworkNamespace(namespaceA);
      deleteNetworkNamespace(namespaceB);
      await Deno.remove(directory, { recursive: true });
    }
    await assertNothingLeft(tag);
  },
});

Deno.test({
  name: "netlink reports kernel errors by name and refuses bad interface names",
  ignore,
  fn() {
    const tag = testTag();
    const host = NetlinkSocket.open();
    try {
      createBridge(host, `${tag}x`);
      const error = assertThrows(() => createBridge(host, `${tag}x`));
      assertStringIncludes(error.message, "EEXIST");
      assertStringIncludes(error.message, `create bridge ${tag}x`);
      assertThrows(() => createBridge(host, "a-name-longer-than-15"), Error, "interface name");
      assertEquals(findLink(host, `${tag}none`), undefined);
      assert(deleteLinkByName(host, `${tag}x`));
      assertEquals(deleteLinkByName(host, `${tag}x`), false);
    } finally {
      deleteLinkByName(host, `${tag}x`);
      host.close();
    }
  },
});
