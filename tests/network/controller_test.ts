// The network controller end to end: networks, sandboxes (namespace + veth + files),
// name resolution between containers of a user-defined network through the generated
// hosts files, connect/disconnect, `"bridge": "none"`, host mode, error cases, parallel
// sandboxes, and recovery after the daemon was killed with SIGKILL.

import {
  assert,
  assertEquals,
  assertNotEquals,
  assertRejects,
  assertStringIncludes,
} from "../helpers/assert.ts";
import { ApiError } from "../../lib/api/errors.ts";
import { NetworkController } from "../../lib/network/controller.ts";
import { removeBridge } from "../../lib/network/drivers/bridge/bridge.ts";
import { formatSubnet, parseIPv4, type Subnet, subnetContains } from "../../lib/network/ipv4.ts";
import { listLinks, NetlinkSocket } from "../../lib/network/netlink/mod.ts";
import {
  createNetworkNamespace,
  deleteNetworkNamespace,
  isNetworkNamespaceMounted,
} from "../../lib/network/sandbox/namespace.ts";
import { readMountInfo } from "../../lib/linux/mountinfo.ts";
import { attachEndpoint } from "../../lib/network/drivers/bridge/endpoint.ts";
import { inNetworkNamespace } from "../../lib/network/sandbox/enter.ts";
import type { NetworkDaemonConfig, SandboxRecord } from "../../lib/network/types.ts";
import {
  assertNothingLeft,
  assertRoutesInPlace,
  hostAddress,
  ipInNamespace,
  needsNetworkRoot,
  pickTestSubnet,
  processesMatching,
  testTag,
  waitFor,
} from "./support.ts";

const ignore = needsNetworkRoot("network controller", "busybox", "unshare");

interface Fixture {
  tag: string;
  directory: string;
  config: NetworkDaemonConfig;
  bridgeSubnet: Subnet;
  cleanup(): Promise<void>;
}

async function fixture(overrides: Partial<NetworkDaemonConfig> = {}): Promise<Fixture> {
  const tag = testTag();
  const directory = await Deno.makeTempDir({ prefix: `${tag}-` });
  const bridgeSubnet = pickTestSubnet();
  const config: NetworkDaemonConfig = {
    stateDir: `${directory}/state`,
    runDir: `${directory}/run`,
    bridge: `${tag}d`,
    bip: `${hostAddress(bridgeSubnet, 1)}/24`,
    defaultAddressPools: [{ base: formatSubnet(pickTestSubnet()), size: 26 }],
    ...overrides,
  };
  return {
    tag,
    directory,
    config,
    bridgeSubnet,
    async cleanup() {
      // Whatever a failed test left: the controller's own recovery removes its sandboxes,
      // then any namespace mount under the temp dir and any link carrying the tag go.
      try {
        const controller = await NetworkController.open(config);
        await controller.recover().finally(() => controller.close());
      } catch (error) {
        console.warn(`cleanup: recovery failed: ${error}`);
      }
      for (const mount of readMountInfo()) {
        if (mount.mountPoint.startsWith(directory)) deleteNetworkNamespace(mount.mountPoint);
      }
      const socket = NetlinkSocket.open();
      try {
        for (const link of listLinks(socket)) {
          if (link.name.includes(tag)) removeBridge(socket, link.name);
        }
      } finally {
        socket.close();
      }
      await Deno.remove(directory, { recursive: true });
    },
  };
}

/**
 * Resolves `name` through the container's generated hosts file and pings it, from
 * inside the container's namespace (a private mount namespace puts the hosts file over
 * /etc/hosts and an empty resolv.conf over /etc/resolv.conf, so a name missing from the
 * hosts file goes nowhere instead of to a DNS server).
 */
async function pingByName(sandbox: SandboxRecord, name: string, directory: string) {
  const empty = `${directory}/empty-resolv.conf`;
  await Deno.writeTextFile(empty, "");
  const script = `mount --bind "$1" /etc/hosts && mount --bind "$2" /etc/resolv.conf && ` +
    `exec busybox ping -c 1 -W 5 "$3"`;
  return await new Deno.Command("nsenter", {
    args: [
      `--net=${sandbox.namespacePath}`,
      "unshare",
      "--mount",
      "--propagation",
      "private",
      "sh",
      "-c",
      script,
      "sh",
      sandbox.hostsPath,
      empty,
      name,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
}

/** The address `name` has in a hosts file (asserting it is in `subnet`, so it is ours). */
function hostsAddress(hostsPath: string, name: string): string | undefined {
  for (const line of Deno.readTextFileSync(hostsPath).split("\n")) {
    const [address, ...names] = line.split(/\s+/);
    if (names.includes(name)) return address;
  }
  return undefined;
}

Deno.test({
  name: "containers on a user-defined network resolve each other by name; connect/disconnect",
  ignore,
  async fn() {
    const setup = await fixture();
    const { tag } = setup;
    const controller = await NetworkController.open(setup.config);
    try {
      await controller.recover();
      assertEquals(controller.networks().map((network) => network.name), [
        "bridge",
        "host",
        "none",
      ]);
      const userSubnet = pickTestSubnet();
      const network = await controller.createNetwork({
        name: `${tag}-net`,
        subnet: formatSubnet(userSubnet),
        options: { "com.docker.network.bridge.name": `${tag}u` },
      });
      assertEquals(network.gateway, hostAddress(userSubnet, 1));
      const web = await controller.createSandbox({
        containerId: `${tag}web`.padEnd(64, "0"),
        containerName: "/web",
        networks: [{ network: network.name, aliases: ["www"] }],
      });
      const db = await controller.createSandbox({
        containerId: `${tag}db`.padEnd(64, "1"),
        containerName: "db",
        hostname: "database",
      });
      assertEquals(db.endpoints.map((endpoint) => endpoint.networkName), ["bridge"]);
      await controller.connect(db.containerId, { network: network.name });

      // Files: hostname, own entry, peers' entries.
      assertEquals(Deno.readTextFileSync(web.hostnamePath), `${tag}web`.padEnd(12, "0") + "\n");
      assertEquals(Deno.readTextFileSync(db.hostnamePath), "database\n");
      const webAddress = web.endpoints[0].ipAddress;
      const dbOnNet = controller.sandbox(db.containerId)!.endpoints[1];
      assertEquals(dbOnNet.interfaceName, "eth1");
      assertEquals(hostsAddress(web.hostsPath, "db"), dbOnNet.ipAddress);
      assertEquals(hostsAddress(db.hostsPath, "www"), webAddress);
      assertEquals(hostsAddress(db.hostsPath, "web"), webAddress);
      assertEquals(hostsAddress(db.hostsPath, "database"), db.endpoints[0].ipAddress);
      assert(subnetContains(userSubnet, parseIPv4(dbOnNet.ipAddress)));
      assertStringIncludes(Deno.readTextFileSync(web.resolvConfPath), "# Generated by mini");

      // `ip` inside the namespace agrees with the records.
      const addresses = await ipInNamespace(db.namespacePath, ["-o", "-4", "addr"]);
      assertStringIncludes(addresses, `eth0    inet ${db.endpoints[0].ipAddress}/24`);
      assertStringIncludes(addresses, `eth1    inet ${dbOnNet.ipAddress}/24`);
      assertStringIncludes(
        await ipInNamespace(web.namespacePath, ["-o", "link", "show", "eth0"]),
        web.endpoints[0].macAddress,
      );

      // Name resolution and a ping, after checking bridge and routes.
      await assertRoutesInPlace(`${tag}u`, web.namespacePath, userSubnet);
      const ping = await pingByName(web, "db", setup.directory);
      assert(ping.success, `ping db: ${new TextDecoder().decode(ping.stderr)}`);
      assertStringIncludes(new TextDecoder().decode(ping.stdout), `PING db (${dbOnNet.ipAddress})`);
      const members = controller.members(network.name).map((member) => member.containerName);
      assertEquals(members.sort(), ["db", "web"]);

      // Disconnect: the peer's entry goes, and the name no longer resolves.
      await controller.disconnect(db.containerId, network.name);
      assertEquals(hostsAddress(web.hostsPath, "db"), undefined);
      const after = await pingByName(web, "db", setup.directory);
      assertEquals(after.success, false);
      assertEquals(
        (await ipInNamespace(db.namespacePath, ["-o", "link"])).includes("eth1"),
        false,
      );
      await assertRejects(
        () => controller.removeNetwork(network.name),
        ApiError,
        "has active endpoints (web)",
      );

      await controller.removeSandbox(web.containerId);
      await controller.removeSandbox(db.containerId);
      await controller.removeSandbox(db.containerId); // idempotent
      await controller.removeNetwork(network.name);
      assertEquals(controller.findNetwork(network.name), undefined);
      for (const sandbox of [web, db]) {
        assert(!isNetworkNamespaceMounted(sandbox.namespacePath));
        assertEquals(controller.sandbox(sandbox.containerId), undefined);
      }
      const pools = controller.ipam.pools();
      assertEquals(Object.keys(pools), [controller.network("bridge").id]);
      assertEquals(pools[controller.network("bridge").id].allocations, {});
    } finally {
      controller.close();
      await setup.cleanup();
    }
    await assertNothingLeft(tag);
  },
});

Deno.test({
  name: "networks: default pools, predefined rules, conflicts and bad input",
  ignore,
  async fn() {
    const setup = await fixture();
    const controller = await NetworkController.open(setup.config);
    try {
      const first = await controller.createNetwork({ name: `${setup.tag}-a` });
      assertEquals(first.bridgeName, `br-${first.id.slice(0, 12)}`);
      assertEquals(first.subnet!.endsWith("/26"), true);
      const socket = NetlinkSocket.open();
      const bridges = () => listLinks(socket).map((link) => link.name);
      try {
        assert(bridges().includes(first.bridgeName!), "the Linux bridge exists");
        const second = await controller.createNetwork({ name: `${setup.tag}-b` });
        assertNotEquals(second.subnet, first.subnet);
        assertEquals(controller.network(second.id.slice(0, 10)).name, second.name);
        await assertRejects(
          () => controller.createNetwork({ name: `${setup.tag}-a` }),
          ApiError,
          "already exists",
        );
        await assertRejects(
          () => controller.createNetwork({ name: "x", subnet: first.subnet }),
          ApiError,
          "overlaps",
        );
        await assertRejects(
          () => controller.createNetwork({ name: "bad name!" }),
          ApiError,
          "invalid network name",
        );
        await assertRejects(
          () => controller.createNetwork({ name: "h", driver: "host" }),
          ApiError,
          "only one instance",
        );
        await assertRejects(() => controller.removeNetwork("bridge"), ApiError, "pre-defined");
        await assertRejects(() => controller.removeNetwork("nope"), ApiError, "not found");
        await assertRejects(
          () => controller.connect("not-running", { network: first.name }),
          ApiError,
          "not running",
        );
        await assertRejects(
          () =>
            controller.createSandbox({
              containerId: `${setup.tag}x`,
              containerName: "x",
              networks: [{ network: "bridge", ipAddress: hostAddress(setup.bridgeSubnet, 9) }],
            }),
          ApiError,
          "user defined networks only",
        );
        assertEquals(controller.sandbox(`${setup.tag}x`), undefined, "nothing half-made");
        await controller.removeNetwork(first.name);
        await controller.removeNetwork(second.id);
        assertEquals(bridges().includes(first.bridgeName!), false);
        // The state survives a restart: the user network is still there after reopening.
        await controller.createNetwork({ name: `${setup.tag}-c` });
      } finally {
        socket.close();
      }
      controller.close();
      const reopened = await NetworkController.open(setup.config);
      try {
        assertEquals(reopened.network(`${setup.tag}-c`).driver, "bridge");
        assertEquals(
          reopened.network("bridge").id,
          controller.network("bridge").id,
          "predefined IDs are stable",
        );
        await reopened.removeNetwork(`${setup.tag}-c`);
      } finally {
        reopened.close();
      }
    } finally {
      controller.close();
      await setup.cleanup();
    }
    await assertNothingLeft(setup.tag);
  },
});

Deno.test({
  name: '"bridge": "none" leaves host and none; none has only lo; host shares the host\'s files',
  ignore,
  async fn() {
    const setup = await fixture({ bridge: "none" });
    const controller = await NetworkController.open(setup.config);
    try {
      assertEquals(controller.networks().map((network) => network.name), ["host", "none"]);
      const isolated = await controller.createSandbox({
        containerId: `${setup.tag}iso`,
        containerName: "iso",
      });
      assertEquals(isolated.mode, "none");
      const links = await ipInNamespace(isolated.namespacePath, ["-o", "link"]);
      assertEquals(links.trim().split("\n").length, 1);
      assertStringIncludes(links, "lo: <LOOPBACK,UP,LOWER_UP>");
      assertEquals(hostsAddress(isolated.hostsPath, "localhost"), "127.0.0.1");
      const onHost = await controller.createSandbox({
        containerId: `${setup.tag}host`,
        containerName: "h",
        networks: [{ network: "host" }],
        ports: [{ containerPort: 80, protocol: "tcp", hostIp: "", hostPort: 0 }],
      });
      assertEquals(onHost.mode, "host");
      assertEquals(onHost.namespacePath, "");
      assertEquals(onHost.ports, [], "host networking publishes nothing");
      assertStringIncludes(
        Deno.readTextFileSync(onHost.hostsPath),
        Deno.readTextFileSync("/etc/hosts").trimEnd(),
      );
      assertEquals(Deno.readTextFileSync(onHost.hostnamePath), `${Deno.hostname()}\n`);
      await assertRejects(
        () => controller.connect(onHost.containerId, { network: "none" }),
        ApiError,
        "cannot be connected",
      );
      await controller.removeSandbox(isolated.containerId);
      await controller.removeSandbox(onHost.containerId);
      assertEquals([...Deno.readDirSync(`${setup.config.runDir}/netns`)], []);
    } finally {
      controller.close();
      await setup.cleanup();
    }
    await assertNothingLeft(setup.tag);
  },
});

Deno.test({
  name: "20 sandboxes created in parallel get 20 distinct addresses, all reachable",
  ignore,
  async fn() {
    const setup = await fixture();
    const controller = await NetworkController.open(setup.config);
    const ids = Array.from({ length: 20 }, (_, index) => `${setup.tag}p${index}`);
    try {
      const sandboxes = await Promise.all(
        ids.map((containerId, index) =>
          controller.createSandbox({ containerId, containerName: `p${index}` })
        ),
      );
      const addresses = sandboxes.map((sandbox) => sandbox.endpoints[0].ipAddress);
      assertEquals(new Set(addresses).size, 20);
      const socket = NetlinkSocket.open();
      try {
        const bridge = listLinks(socket).find((link) => link.name === `${setup.tag}d`)!;
        const ports = listLinks(socket).filter((link) => link.masterIndex === bridge.index);
        assertEquals(ports.length, 20);
      } finally {
        socket.close();
      }
      // Each answers on its own address (from the last one's namespace, inside our subnet).
      await assertRoutesInPlace(`${setup.tag}d`, sandboxes[19].namespacePath, setup.bridgeSubnet);
      const reached = await new Deno.Command("nsenter", {
        args: [
          `--net=${sandboxes[19].namespacePath}`,
          "sh",
          "-c",
          'for a in "$@"; do busybox ping -c 1 -W 5 "$a" >/dev/null || exit 1; done',
          "sh",
          ...addresses.slice(0, 19),
        ],
      }).output();
      assert(reached.success, "every container answered a ping");
    } finally {
      await Promise.all(ids.map((id) => controller.removeSandbox(id)));
      controller.close();
      await setup.cleanup();
    }
    await assertNothingLeft(setup.tag);
  },
});

Deno.test({
  name: "after kill -9 of the daemon, recover() removes what is gone and restores what is kept",
  ignore,
  async fn() {
    const setup = await fixture();
    const { tag } = setup;
    const kept = `${tag}keep`.padEnd(64, "a");
    const dropped = `${tag}drop`.padEnd(64, "b");
    const ports = [{ containerPort: 8080, protocol: "tcp" as const, hostIp: "", hostPort: 0 }];
    const daemon = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-all",
        "--no-lock",
        new URL("./controller_daemon.ts", import.meta.url).pathname,
        JSON.stringify(setup.config),
        JSON.stringify([
          { containerId: kept, containerName: "kept", ports },
          { containerId: dropped, containerName: "dropped", ports },
        ]),
      ],
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    const line = await daemon.stdout.pipeThrough(new TextDecoderStream()).getReader().read();
    const [keptBefore, droppedBefore] = JSON.parse(line.value!) as SandboxRecord[];
    const proxyPids = [keptBefore, droppedBefore].map((sandbox) => sandbox.ports[0].proxyPid!);
    daemon.kill("SIGKILL");
    await daemon.status;
    // The proxies die with their daemon (PR_SET_PDEATHSIG); veths and namespaces stay.
    await waitFor(
      "the proxies to exit",
      () => proxyPids.every((pid) => !processesMatching("mini_docker_proxy").includes(pid)),
    );
    assert(isNetworkNamespaceMounted(droppedBefore.namespacePath));
    const socket = NetlinkSocket.open();
    const hostLinks = () => listLinks(socket).map((link) => link.name);
    assert(hostLinks().includes(droppedBefore.endpoints[0].hostInterfaceName));

    const controller = await NetworkController.open(setup.config);
    let listener: Deno.Listener | undefined;
    try {
      const report = await controller.recover((id) => id === kept);
      assertEquals(report.removedSandboxes, [dropped]);
      assertEquals(report.restartedProxies, 1);
      assertEquals(report.releasedAddresses, 0, "the dropped sandbox's teardown released it");
      assert(!isNetworkNamespaceMounted(droppedBefore.namespacePath));
      assertEquals(hostLinks().includes(droppedBefore.endpoints[0].hostInterfaceName), false);
      const allocations = Object.values(controller.ipam.pools())
        .flatMap((pool) => Object.values(pool.allocations));
      assertEquals(allocations, [keptBefore.endpoints[0].id]);

      // The kept container's published port works again, on the same host port.
      const keptNow = controller.sandbox(kept)!;
      assertEquals(keptNow.ports[0].hostPort, keptBefore.ports[0].hostPort);
      assertNotEquals(keptNow.ports[0].proxyPid, keptBefore.ports[0].proxyPid);
      await assertRoutesInPlace(`${tag}d`, keptNow.namespacePath, setup.bridgeSubnet);
      listener = inNetworkNamespace(
        keptNow.namespacePath,
        () => Deno.listen({ hostname: keptNow.endpoints[0].ipAddress, port: 8080 }),
      );
      const accepted = listener.accept().then(async (connection) => {
        await connection.write(new TextEncoder().encode("still here"));
        connection.close();
      });
      const client = await Deno.connect({ hostname: "127.0.0.1", port: keptNow.ports[0].hostPort });
      assertEquals(await new Response(client.readable).text(), "still here");
      await accepted;

      // A namespace file and a veth on our bridge that nobody recorded are swept too.
      await controller.removeSandbox(kept);
      const orphan = `${setup.config.runDir}/netns/${tag}orphan`;
      createNetworkNamespace(orphan);
      attachEndpoint(socket, {
        bridgeName: `${tag}d`,
        namespacePath: orphan,
        hostInterfaceName: `${tag}stray`,
        containerInterfaceName: "eth0",
        address: parseIPv4(hostAddress(setup.bridgeSubnet, 200)),
        prefixLength: 24,
      });
      const report2 = await controller.recover();
      assertEquals(report2.removedSandboxes, []);
      assertEquals(report2.removedNamespaces, [orphan]);
      assertEquals(report2.removedInterfaces, [`${tag}stray`]);
      assert(!isNetworkNamespaceMounted(orphan));
    } finally {
      listener?.close();
      socket.close();
      await controller.removeSandbox(kept);
      controller.close();
      await setup.cleanup();
    }
    await assertNothingLeft(tag);
  },
});
