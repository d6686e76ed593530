// Shared by the network tests: requirements, unique names, a test subnet that overlaps
// nothing routed on this machine, and leak checks. Every test makes its own bridge,
// namespaces and subnet (names start with "mt" + a random tag), verifies the bridge
// and routes exist before sending a packet, sends only to addresses inside namespaces it
// created, and removes all of it.

import { missingRoot, missingTool, requirements } from "../helpers/requirements.ts";
import { formatIPv4, parseSubnet, type Subnet, subnetsOverlap } from "../../lib/network/ipv4.ts";
import { listRoutes, NetlinkSocket } from "../../lib/network/netlink/mod.ts";

/** `ignore` for tests that need root, namespaces and the usual tools. */
export function needsNetworkRoot(testName: string, ...tools: string[]): boolean {
  return requirements(testName, missingRoot(), ...["ip", "nsenter", ...tools].map(missingTool));
}

/** A short random tag for device and namespace names ("mt" + 6 hex: ≤ 15 with suffixes). */
export function testTag(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(3));
  return `mt${[...bytes].map((byte) => byte.toString(16).padStart(2, "0")).join("")}`;
}

/** A random /24 in 10.200.0.0-10.250.255.0 that no route on this machine overlaps. */
export function pickTestSubnet(): Subnet {
  const socket = NetlinkSocket.open();
  try {
    const routed = listRoutes(socket)
      .filter((route) => route.prefixLength > 0)
      .map((route) => ({ network: route.destination, prefixLength: route.prefixLength }));
    for (let attempt = 0; attempt < 200; attempt++) {
      const second = 200 + Math.floor(Math.random() * 51);
      const third = Math.floor(Math.random() * 256);
      const candidate = parseSubnet(`10.${second}.${third}.0/24`);
      if (!routed.some((route) => subnetsOverlap(route, candidate))) return candidate;
    }
  } finally {
    socket.close();
  }
  throw new Error("no free test subnet found in 10.200.0.0/13");
}

/** The nth address of a subnet as text. */
export function hostAddress(subnet: Subnet, index: number): string {
  return formatIPv4(subnet.network + index);
}

async function run(command: string, args: string[]): Promise<string> {
  const output = await new Deno.Command(command, { args, stdout: "piped", stderr: "piped" })
    .output();
  if (!output.success) {
    throw new Error(
      `${command} ${args.join(" ")}: ${new TextDecoder().decode(output.stderr).trim()}`,
    );
  }
  return new TextDecoder().decode(output.stdout);
}

/** Interface names in the host namespace (`ip -o link`, an oracle independent of netlink.ts). */
export async function hostLinkNames(): Promise<string[]> {
  const text = await run("ip", ["-o", "link"]);
  return text.split("\n").filter(Boolean).map((line) => line.split(": ")[1].split("@")[0]);
}

/** Runs `ip ARGS` inside the namespace at `namespacePath` and returns its output. */
export function ipInNamespace(namespacePath: string, args: string[]): Promise<string> {
  return run("nsenter", [`--net=${namespacePath}`, "ip", ...args]);
}

/** Runs `ip ARGS` on the host and returns its output. */
export function ipOnHost(args: string[]): Promise<string> {
  return run("ip", args);
}

/** PIDs whose command line contains `marker`. */
export function processesMatching(marker: string): number[] {
  const found: number[] = [];
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name) || Number(entry.name) === Deno.pid) continue;
    try {
      const cmdline = Deno.readTextFileSync(`/proc/${entry.name}/cmdline`);
      if (cmdline.includes(marker)) found.push(Number(entry.name));
    } catch {
      // exited meanwhile
    }
  }
  return found;
}

/** Fails when any host link, namespace file or process still carries `tag`. */
export async function assertNothingLeft(tag: string, directories: string[] = []): Promise<void> {
  const links = (await hostLinkNames()).filter((name) => name.includes(tag));
  const files = directories.flatMap((directory) => {
    try {
      return [...Deno.readDirSync(directory)].map((entry) => `${directory}/${entry.name}`);
    } catch {
      return [];
    }
  });
  const mounts = Deno.readTextFileSync("/proc/self/mountinfo").split("\n")
    .filter((line) => line.includes(tag));
  const processes = processesMatching(tag);
  const leftovers = [
    ...links.map((name) => `link ${name}`),
    ...files.map((path) => `file ${path}`),
    ...mounts.map((line) => `mount ${line}`),
    ...processes.map((pid) => `process ${pid}`),
  ];
  if (leftovers.length > 0) throw new Error(`left behind: ${leftovers.join(", ")}`);
}

/** Waits until `check` is true (polling), or throws with `what` after `limitMs` (a hang guard). */
export async function waitFor(
  what: string,
  check: () => boolean | Promise<boolean>,
  limitMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!await check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** A throwaway "container": a test bridge, one namespace joined to it at .2, lo up. */
export interface TestContainerNetwork {
  tag: string;
  bridgeName: string;
  namespacePath: string;
  subnet: Subnet;
  gateway: string;
  address: string;
  /** Removes the veth, the bridge, the namespace and the temp dir. */
  remove(): Promise<void>;
}

/** Builds a TestContainerNetwork with the library under test, and checks it with `ip`. */
export async function createTestContainerNetwork(): Promise<TestContainerNetwork> {
  const { ensureBridge } = await import("../../lib/network/drivers/bridge/bridge.ts");
  const { attachEndpoint, setLoopbackUp } = await import(
    "../../lib/network/drivers/bridge/endpoint.ts"
  );
  const { createNetworkNamespace, deleteNetworkNamespace } = await import(
    "../../lib/network/sandbox/namespace.ts"
  );
  const { deleteLinkByName } = await import("../../lib/network/netlink/mod.ts");
  const tag = testTag();
  const directory = await Deno.makeTempDir({ prefix: `${tag}-` });
  const subnet = pickTestSubnet();
  const bridgeName = `${tag}br`;
  const namespacePath = `${directory}/container`;
  const host = NetlinkSocket.open();
  const remove = async () => {
    deleteLinkByName(host, `${tag}h`);
    deleteLinkByName(host, bridgeName);
    host.close();
    deleteNetworkNamespace(namespacePath);
    await Deno.remove(directory, { recursive: true });
  };
  try {
    ensureBridge(host, { name: bridgeName, gateway: subnet.network + 1, prefixLength: 24 });
    createNetworkNamespace(namespacePath);
    setLoopbackUp(namespacePath);
    attachEndpoint(host, {
      bridgeName,
      namespacePath,
      hostInterfaceName: `${tag}h`,
      containerInterfaceName: "eth0",
      address: subnet.network + 2,
      prefixLength: 24,
      defaultGateway: subnet.network + 1,
    });
    await assertRoutesInPlace(bridgeName, namespacePath, subnet);
  } catch (error) {
    await remove();
    throw error;
  }
  return {
    tag,
    bridgeName,
    namespacePath,
    subnet,
    gateway: hostAddress(subnet, 1),
    address: hostAddress(subnet, 2),
    remove,
  };
}

/**
 * The safety check before any packet is sent: the host routes `subnet` through our
 * bridge, and the namespace has the address and a route back. Checked with `ip`.
 */
export async function assertRoutesInPlace(
  bridgeName: string,
  namespacePath: string,
  subnet: Subnet,
): Promise<void> {
  const network = `${hostAddress(subnet, 0)}/24`;
  const hostRoutes = await ipOnHost(["route", "show", network]);
  if (!hostRoutes.includes(`dev ${bridgeName}`)) {
    throw new Error(`refusing to send: no host route ${network} via ${bridgeName} (${hostRoutes})`);
  }
  const inside = await ipInNamespace(namespacePath, ["route"]);
  if (!inside.includes(`${network} dev eth0`)) {
    throw new Error(`refusing to send: the namespace has no route to ${network} (${inside})`);
  }
}
