// Shared by tests/dockerd/network_*_test.ts: a mini-dockerd whose default bridge and
// address pools are this test's own (a unique bridge name "mt<6 hex>d" and /24s that no
// route on the machine overlaps), so tests run beside each other and beside other
// daemons; the safety check that must pass before any packet is sent; and the leak
// checks after a test: no veth on the test's bridges, no namespace file or mount under
// the daemon's exec-root, no proxy process forwarding into the test's subnets, and
// finally no link carrying the test's tag at all.

import { linkExists } from "../helpers/cleanup.ts";
import { join } from "node:path";
import { formatSubnet, parseIPv4, type Subnet, subnetContains } from "../../lib/network/ipv4.ts";
import {
  deleteLinkByName,
  listLinks,
  listRoutes,
  NetlinkSocket,
} from "../../lib/network/netlink/mod.ts";
import { readMountInfo } from "../../lib/linux/mountinfo.ts";
import { hostAddress, pickTestSubnet, processesMatching, testTag } from "../network/support.ts";
import { finish, startDaemon } from "./containers_fixture.ts";
import type { TestDockerd } from "../helpers/dockerd.ts";

/** One test's network settings. */
export interface NetworkTestSetup {
  tag: string;
  /** The default bridge's name (daemon.json "bridge"). */
  bridgeName: string;
  /** The default bridge's subnet (daemon.json "bip" is its .1). */
  bridgeSubnet: Subnet;
  /** Where user-defined networks without --subnet get theirs. */
  poolSubnet: Subnet;
  /** daemon.json for this setup (plus `extra`). */
  config: Record<string, unknown>;
}

/** A fresh setup: unique bridge name and subnets. */
export function networkSetup(extra: Record<string, unknown> = {}): NetworkTestSetup {
  const tag = testTag();
  const bridgeSubnet = pickTestSubnet();
  let poolSubnet = pickTestSubnet();
  while (poolSubnet.network === bridgeSubnet.network) poolSubnet = pickTestSubnet();
  return {
    tag,
    bridgeName: `${tag}d`,
    bridgeSubnet,
    poolSubnet,
    config: {
      bridge: `${tag}d`,
      bip: `${hostAddress(bridgeSubnet, 1)}/24`,
      "default-address-pools": [{ base: formatSubnet(poolSubnet), size: 26 }],
      ...extra,
    },
  };
}

/** A subnet for `network create --subnet` that differs from the setup's. */
export function anotherSubnet(setup: NetworkTestSetup): Subnet {
  for (;;) {
    const subnet = pickTestSubnet();
    if (
      subnet.network !== setup.bridgeSubnet.network && subnet.network !== setup.poolSubnet.network
    ) {
      return subnet;
    }
  }
}

/**
 * The check before any packet goes anywhere: `address` lies in `subnet`, the host has
 * a link named `bridgeName` (created by this test's daemon) and routes `subnet` through
 * it. Throws (refusing to send) otherwise.
 */
export function assertOurBridgeRoutes(bridgeName: string, subnet: Subnet, address: string): void {
  if (!subnetContains(subnet, parseIPv4(address))) {
    throw new Error(`refusing to send: ${address} is not in ${formatSubnet(subnet)}`);
  }
  const socket = NetlinkSocket.open();
  try {
    const bridge = listLinks(socket).find((link) => link.name === bridgeName);
    if (!bridge || bridge.kind !== "bridge") {
      throw new Error(`refusing to send: no bridge ${bridgeName} on the host`);
    }
    const routed = listRoutes(socket).some((route) =>
      route.outputIndex === bridge.index && route.destination === subnet.network &&
      route.prefixLength === subnet.prefixLength
    );
    if (!routed) {
      throw new Error(`refusing to send: ${formatSubnet(subnet)} is not routed via ${bridgeName}`);
    }
  } finally {
    socket.close();
  }
}

/** Veth names plugged into `bridgeName` now (empty when the bridge is gone). */
export function vethsOn(bridgeName: string): string[] {
  const socket = NetlinkSocket.open();
  try {
    const links = listLinks(socket);
    const bridge = links.find((link) => link.name === bridgeName);
    if (!bridge) return [];
    return links.filter((link) => link.masterIndex === bridge.index).map((link) => link.name);
  } finally {
    socket.close();
  }
}

/** True when a link of that name exists on the host (the shared cleanup's helper). */
export { linkExists };

/** Proxy processes forwarding into `subnets` (judged by their -container-ip flag). */
export function proxiesInto(subnets: Subnet[]): number[] {
  return processesMatching("mini_docker_proxy").filter((pid) => {
    try {
      const argv = Deno.readTextFileSync(`/proc/${pid}/cmdline`).split("\0");
      const index = argv.indexOf("-container-ip");
      if (index < 0) return false;
      const address = parseIPv4(argv[index + 1]);
      return subnets.some((subnet) => subnetContains(subnet, address));
    } catch {
      return false;
    }
  });
}

/** Namespace files and nsfs mounts under the daemon's `<exec-root>/netns`. */
export function namespacesOf(daemon: TestDockerd): string[] {
  const directory = join(daemon.paths.execRoot, "netns");
  const files: string[] = [];
  try {
    for (const entry of Deno.readDirSync(directory)) files.push(join(directory, entry.name));
  } catch { /* none yet */ }
  const mounts = readMountInfo().filter((mount) => mount.mountPoint.startsWith(directory + "/"))
    .map((mount) => `mount ${mount.mountPoint}`);
  return [...files, ...mounts];
}

/** Throws naming whatever network state of a removed container is still there. */
export function assertNoNetworkLeftovers(
  daemon: TestDockerd,
  bridges: string[],
  subnets: Subnet[],
): void {
  const leftovers = [
    ...bridges.flatMap((bridge) => vethsOn(bridge).map((name) => `veth ${name} on ${bridge}`)),
    ...namespacesOf(daemon).map((path) => `namespace ${path}`),
    ...proxiesInto(subnets).map((pid) => `proxy process ${pid}`),
  ];
  if (leftovers.length > 0) throw new Error(`network leftovers: ${leftovers.join(", ")}`);
}

/** Deletes every host link whose name carries `tag` (the test's bridges). */
export function removeTaggedLinks(tag: string): void {
  const socket = NetlinkSocket.open();
  try {
    for (const link of listLinks(socket)) {
      if (link.name.includes(tag)) deleteLinkByName(socket, link.name);
    }
  } finally {
    socket.close();
  }
}

/**
 * Runs `body` against a fresh daemon on `setup`'s bridge with busybox loaded. Afterwards
 * (pass or fail) every container is removed and checked for leftovers, the daemon is
 * stopped and the test's bridges are deleted.
 */
export async function withNetworkDaemon(
  setup: NetworkTestSetup,
  body: (daemon: TestDockerd) => Promise<void>,
): Promise<void> {
  const daemon = await startDaemon({ config: setup.config });
  let bridges: string[] = [];
  try {
    await body(daemon);
    bridges = recordedBridges(daemon);
    await finish(daemon);
    assertNoNetworkLeftovers(daemon, [setup.bridgeName], [setup.bridgeSubnet, setup.poolSubnet]);
  } catch (error) {
    if (bridges.length === 0) bridges = recordedBridges(daemon);
    const log = daemon.log.split("\n").slice(-40).join("\n");
    await daemon.cleanup();
    if (error instanceof Error) error.message += `\n--- mini-dockerd log (last lines) ---\n${log}`;
    throw error;
  } finally {
    removeTaggedLinks(setup.tag);
    removeLinks(bridges);
  }
}

/** The bridges of every network the daemon recorded (user networks' br-<id> included). */
export function recordedBridges(daemon: TestDockerd): string[] {
  try {
    const text = Deno.readTextFileSync(join(daemon.paths.dataRoot, "network", "networks.json"));
    const networks = JSON.parse(text).networks as { bridgeName?: string }[];
    return networks.flatMap((network) => network.bridgeName ? [network.bridgeName] : []);
  } catch {
    return [];
  }
}

/** Deletes the named links (missing ones are fine). */
export function removeLinks(names: string[]): void {
  const socket = NetlinkSocket.open();
  try {
    for (const name of names) deleteLinkByName(socket, name);
  } finally {
    socket.close();
  }
}

/** Parses `docker port` output ("80/tcp -> 127.0.0.1:49153") into host ports by port. */
export function parsePortOutput(text: string): Map<string, { hostIp: string; hostPort: number }> {
  const result = new Map<string, { hostIp: string; hostPort: number }>();
  for (const line of text.split("\n")) {
    const match = /^(\d+\/\w+) -> ([\d.]+):(\d+)$/.exec(line.trim());
    if (match) result.set(match[1], { hostIp: match[2], hostPort: Number(match[3]) });
  }
  return result;
}

/** Fetches `path` from 127.0.0.1:`port` (the only host address tests talk to). */
export async function fetchLoopback(port: number, path = "/"): Promise<string> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`, {
    signal: AbortSignal.timeout(15_000),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`GET ${path} on 127.0.0.1:${port}: ${response.status} ${text}`);
  return text;
}

/** A busybox shell line that serves `text` as /index.html on port 80 with httpd. */
export function httpdScript(text: string): string {
  return `mkdir -p /www && echo ${text} > /www/index.html && exec httpd -f -p 80 -h /www`;
}

/**
 * Fetches `path` from 127.0.0.1:`port` until the container's server answers (it may
 * still be starting): every 100 ms for up to a minute, a hang guard rather than a speed
 * check. Throws the last error when it never answers.
 */
export async function fetchLoopbackWhenUp(port: number, path = "/"): Promise<string> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 600; attempt++) {
    try {
      return await fetchLoopback(port, path);
    } catch (error) {
      lastError = error;
      await new Promise((resolve) => setTimeout(resolve, 100)); // server not up yet
    }
  }
  throw lastError;
}

/** The stdout of a CLI run that must succeed (exit 0; its stderr names why not). */
export async function expectSuccess(
  result: Promise<{ code: number; stdout: string; stderr: string }>,
): Promise<string> {
  const { code, stdout, stderr } = await result;
  if (code !== 0) throw new Error(`exit ${code}: ${stderr}`);
  return stdout;
}

/** The container's address on its (single) network, from `docker inspect`. */
export async function ipOf(daemon: TestDockerd, name: string): Promise<string> {
  return (await expectSuccess(daemon.docker([
    "inspect",
    "-f",
    "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}",
    name,
  ]))).trim();
}

/** `docker network create` of a bridge network on `subnet` whose host bridge is `bridgeName`. */
export async function createBridgeNetwork(
  daemon: TestDockerd,
  name: string,
  subnet: Subnet,
  bridgeName: string,
): Promise<void> {
  await expectSuccess(daemon.docker([
    "network",
    "create",
    "--subnet",
    formatSubnet(subnet),
    "-o",
    `com.docker.network.bridge.name=${bridgeName}`,
    name,
  ]));
}
