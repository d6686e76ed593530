// What this teaches: what container networking costs, measured side by side on this
// machine. (1) Wiring one container to a bridge (veth pair, address, default route, lo
// up) with netlink messages from this process against spawning `ip` through `nsenter`
// for each step, and creating a network namespace through FFI against `ip netns add`;
// medians of 10; a whole container sandbox, bridge against none, at the controller; and
// the start latency of a container through mini-dockerd (`POST /containers/{id}/start`)
// with the bridge network against `--network none`, which is what the network set-up
// adds to `docker start`. (2) Pushing 100 MB through a published port: mini-docker-proxy
// against a direct connection to the container's address and against Docker's own
// docker-proxy when Debian's docker.io package is installed.
// Everything happens on a bench bridge and namespaces this file creates and removes;
// the only traffic goes to 127.0.0.1 and to the bench namespace's address.
// Run: deno run --allow-all bench/network_bench.ts

import { type BenchResult, median, printResults } from "./types.ts";
import {
  attachEndpoint,
  detachEndpoint,
  setLoopbackUp,
} from "../lib/network/drivers/bridge/endpoint.ts";
import { attachEndpointWithIpCommands } from "../lib/network/drivers/bridge/ip_commands.ts";
import { ensureBridge, removeBridge } from "../lib/network/drivers/bridge/bridge.ts";
import {
  formatIPv4,
  formatSubnet,
  parseSubnet,
  type Subnet,
  subnetContains,
  subnetsOverlap,
} from "../lib/network/ipv4.ts";
import { listAddresses, listLinks, listRoutes, NetlinkSocket } from "../lib/network/netlink/mod.ts";
import {
  createNetworkNamespace,
  deleteNetworkNamespace,
} from "../lib/network/sandbox/namespace.ts";
import { spawnInNetworkNamespace } from "../lib/network/sandbox/enter.ts";
import {
  defaultProxyCommand,
  startProxyProcess,
  stopProxyProcess,
} from "../lib/network/portmapper/proxy_process.ts";
import { isHostPortFree } from "../lib/network/portmapper/host_ports.ts";
import { NetworkController } from "../lib/network/controller.ts";
import { TestDockerd } from "../tests/helpers/dockerd.ts";

const rounds = 10;
const transferBytes = 100 * 1024 * 1024;
const transferRounds = 5;
const serverPort = 8080;

function benchTag(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(3));
  return `mb${[...bytes].map((byte) => byte.toString(16).padStart(2, "0")).join("")}`;
}

/** A /24 in 10.200.0.0/13 that nothing on this machine routes. */
function freeSubnet(socket: NetlinkSocket): Subnet {
  const routed = listRoutes(socket).filter((route) => route.prefixLength > 0)
    .map((route) => ({ network: route.destination, prefixLength: route.prefixLength }));
  for (let attempt = 0; attempt < 200; attempt++) {
    const candidate = parseSubnet(
      `10.${200 + Math.floor(Math.random() * 51)}.${Math.floor(Math.random() * 256)}.0/24`,
    );
    if (!routed.some((route) => subnetsOverlap(route, candidate))) return candidate;
  }
  throw new Error("no free subnet for the benchmark in 10.200.0.0/13");
}

async function run(command: string, args: string[]): Promise<void> {
  const output = await new Deno.Command(command, { args, stdout: "null", stderr: "piped" })
    .output();
  if (!output.success) {
    throw new Error(`${command} ${args.join(" ")}: ${new TextDecoder().decode(output.stderr)}`);
  }
}

interface BenchNetwork {
  tag: string;
  directory: string;
  bridgeName: string;
  subnet: Subnet;
  host: NetlinkSocket;
}

/** The endpoint wiring, netlink against `ip`, on fresh namespaces (creation not timed). */
async function benchEndpointSetup(network: BenchNetwork): Promise<BenchResult[]> {
  const netlinkSamples: number[] = [];
  const ipSamples: number[] = [];
  for (let round = 0; round < rounds; round++) {
    for (const method of ["netlink", "ip"] as const) {
      const namespacePath = `${network.directory}/${method}-${round}`;
      const hostInterfaceName = `${network.tag}${method === "ip" ? "i" : "n"}${round}`;
      createNetworkNamespace(namespacePath);
      const spec = {
        bridgeName: network.bridgeName,
        namespacePath,
        hostInterfaceName,
        containerInterfaceName: "eth0",
        address: network.subnet.network + 10 + round * 2 + (method === "ip" ? 1 : 0),
        prefixLength: 24,
        defaultGateway: network.subnet.network + 1,
      };
      try {
        const started = performance.now();
        if (method === "netlink") {
          attachEndpoint(network.host, spec);
          setLoopbackUp(namespacePath);
          netlinkSamples.push(performance.now() - started);
        } else {
          await attachEndpointWithIpCommands(spec);
          ipSamples.push(performance.now() - started);
        }
      } finally {
        detachEndpoint(network.host, hostInterfaceName);
        deleteNetworkNamespace(namespacePath);
      }
    }
  }
  const netlink = median(netlinkSamples);
  const spawned = median(ipSamples);
  return [{
    name: "network: wire one container to a bridge (veth, address, route, lo) via netlink",
    value: round2(netlink),
    unit: "ms",
    baseline: { name: "the same with 5 `ip`/`nsenter` processes", value: round2(spawned) },
    ratio: round2(netlink / spawned),
  }];
}

/** Namespace creation + deletion: FFI (unshare + bind mount) against `ip netns add/del`. */
async function benchNamespaceCreation(network: BenchNetwork): Promise<BenchResult[]> {
  const ffiSamples: number[] = [];
  const ipSamples: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const path = `${network.directory}/ns-${round}`;
    let started = performance.now();
    createNetworkNamespace(path);
    deleteNetworkNamespace(path);
    ffiSamples.push(performance.now() - started);
    const name = `${network.tag}ns${round}`;
    started = performance.now();
    try {
      await run("ip", ["netns", "add", name]);
    } finally {
      await run("ip", ["netns", "del", name]).catch(() => {});
    }
    ipSamples.push(performance.now() - started);
  }
  const ffi = median(ffiSamples);
  const ip = median(ipSamples);
  return [{
    name: "network: create + delete a network namespace via FFI (unshare + bind mount)",
    value: round2(ffi),
    unit: "ms",
    baseline: { name: "`ip netns add` + `ip netns del`", value: round2(ip) },
    ratio: round2(ffi / ip),
  }];
}

const sinkServer = `
const listener = Deno.listen({ hostname: Deno.env.get("SINK_HOST"), port: ${serverPort} });
console.log("ready");
const buffer = new Uint8Array(1 << 20);
for await (const connection of listener) {
  (async () => {
    let total = 0;
    for (;;) {
      const count = await connection.read(buffer);
      if (count === null) break;
      total += count;
    }
    await connection.write(new TextEncoder().encode(String(total)));
    connection.close();
  })();
}
`;

/** Sends `transferBytes` to host:port and waits for the sink's byte count; returns MB/s. */
async function transfer(hostname: string, port: number): Promise<number> {
  const chunk = new Uint8Array(1 << 20);
  crypto.getRandomValues(chunk.subarray(0, 65536));
  const started = performance.now();
  const connection = await Deno.connect({ hostname, port });
  for (let sent = 0; sent < transferBytes; sent += chunk.length) {
    let offset = 0;
    while (offset < chunk.length) offset += await connection.write(chunk.subarray(offset));
  }
  await connection.closeWrite();
  const reply = await new Response(connection.readable).text();
  const seconds = (performance.now() - started) / 1000;
  if (Number(reply) !== transferBytes) {
    throw new Error(`the sink got ${reply} bytes instead of ${transferBytes}`);
  }
  return transferBytes / (1024 * 1024) / seconds;
}

function dockerProxyPath(): string | undefined {
  for (
    const path of [
      "/usr/sbin/docker-proxy",
      "/usr/libexec/docker/docker-proxy",
      "/usr/bin/docker-proxy",
    ]
  ) {
    try {
      if (Deno.statSync(path).isFile) return path;
    } catch {
      // not here
    }
  }
  return undefined;
}

async function freeLoopbackPort(): Promise<number> {
  for (let port = 40000 + Math.floor(Math.random() * 9000);; port++) {
    if (await isHostPortFree("tcp", "127.0.0.1", port)) return port;
  }
}

/** Starts Docker's docker-proxy and polls until it listens. */
async function startDockerProxy(path: string, hostPort: number, containerIp: string) {
  // docker-proxy writes its "0"/"1" status to fd 3 and closes it; without an fd 3 it
  // would close its own listening socket (which got fd 3). Give it /dev/null there.
  const child = new Deno.Command("sh", {
    args: [
      "-c",
      'exec "$0" "$@" 3>/dev/null',
      path,
      "-proto",
      "tcp",
      "-host-ip",
      "127.0.0.1",
      "-host-port",
      String(hostPort),
      "-container-ip",
      containerIp,
      "-container-port",
      String(serverPort),
    ],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  const deadline = Date.now() + 10_000;
  while (await isHostPortFree("tcp", "127.0.0.1", hostPort)) {
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      await child.status;
      throw new Error("docker-proxy did not start listening");
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return child;
}

/**
 * What a container start pays for its network, at the controller level (what
 * mini-dockerd calls): a "bridge" sandbox (namespace, veth, address, route, hosts
 * files) against a "none" sandbox (namespace with lo only, files).
 */
async function benchSandboxModes(network: BenchNetwork): Promise<BenchResult[]> {
  const bridgeSubnet = freeSubnet(network.host);
  const controller = await NetworkController.open({
    stateDir: `${network.directory}/state`,
    runDir: `${network.directory}/run`,
    bridge: `${network.tag}d`,
    bip: `${formatIPv4(bridgeSubnet.network + 1)}/24`,
  });
  const samples = { bridge: [] as number[], none: [] as number[] };
  try {
    for (let round = 0; round < rounds; round++) {
      for (const mode of ["bridge", "none"] as const) {
        const containerId = `${network.tag}${mode}${round}`;
        const started = performance.now();
        await controller.createSandbox({
          containerId,
          containerName: containerId,
          networks: [{ network: mode }],
        });
        samples[mode].push(performance.now() - started);
        await controller.removeSandbox(containerId);
      }
    }
  } finally {
    await controller.recover();
    removeBridge(network.host, `${network.tag}d`);
    controller.close();
  }
  const bridge = median(samples.bridge);
  const none = median(samples.none);
  return [{
    name: "network: container sandbox with --network bridge (netns, veth, IPAM, /etc files)",
    value: round2(bridge),
    unit: "ms",
    baseline: { name: "--network none (netns with lo, /etc files)", value: round2(none) },
    ratio: round2(bridge / none),
  }];
}

/**
 * Container start latency through a real mini-dockerd (its own temp roots, its default
 * bridge on a bench subnet): `POST /containers/{id}/start` of a busybox `sleep`, with
 * the default bridge network against `--network none`. Creation and removal are not
 * timed; the two modes alternate so machine noise hits both alike.
 */
async function benchDaemonStart(network: BenchNetwork): Promise<BenchResult[]> {
  const bridgeSubnet = freeSubnet(network.host);
  const bridgeName = `${network.tag}m`;
  const daemon = await TestDockerd.start({
    config: { bridge: bridgeName, bip: `${formatIPv4(bridgeSubnet.network + 1)}/24` },
  });
  const samples = { bridge: [] as number[], none: [] as number[] };
  try {
    await daemon.loadBusybox();
    const call = async (method: string, path: string, body?: Record<string, unknown>) => {
      const response = await daemon.api(method, `/v1.41${path}`, body);
      const text = await response.text();
      if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
      return text === "" ? {} : JSON.parse(text);
    };
    for (let round = 0; round <= rounds; round++) {
      for (const mode of ["bridge", "none"] as const) {
        const { Id: id } = await call("POST", "/containers/create", {
          Image: "busybox",
          Cmd: ["sleep", "60"],
          HostConfig: { NetworkMode: mode },
        });
        const started = performance.now();
        await call("POST", `/containers/${id}/start`);
        const elapsed = performance.now() - started;
        if (round > 0) samples[mode].push(elapsed); // round 0 warms caches up
        await call("DELETE", `/containers/${id}?force=1`);
      }
    }
  } finally {
    await daemon.cleanup();
    removeBridge(network.host, bridgeName);
  }
  const bridge = median(samples.bridge);
  const none = median(samples.none);
  return [{
    name: "network: mini-dockerd container start with the bridge network (netns, veth, IPAM)",
    value: round2(bridge),
    unit: "ms",
    baseline: { name: "the same start with --network none", value: round2(none) },
    ratio: round2(bridge / none),
  }];
}

/** 100 MB through mini-docker-proxy, directly, and through docker-proxy if present. */
async function benchProxyThroughput(network: BenchNetwork): Promise<BenchResult[]> {
  const namespacePath = `${network.directory}/sink`;
  const containerAddress = network.subnet.network + 2;
  const containerIp = formatIPv4(containerAddress);
  createNetworkNamespace(namespacePath);
  let sink: Deno.ChildProcess | undefined;
  let miniProxy: { pid: number; port: number } | undefined;
  let dockerProxy: Deno.ChildProcess | undefined;
  try {
    attachEndpoint(network.host, {
      bridgeName: network.bridgeName,
      namespacePath,
      hostInterfaceName: `${network.tag}s`,
      containerInterfaceName: "eth0",
      address: containerAddress,
      prefixLength: 24,
      defaultGateway: network.subnet.network + 1,
    });
    setLoopbackUp(namespacePath);
    checkRoutes(network, namespacePath, containerAddress);
    sink = spawnInNetworkNamespace(namespacePath, Deno.execPath(), {
      args: ["eval", "--no-config", sinkServer],
      env: { SINK_HOST: containerIp },
      stdout: "piped",
      stderr: "inherit",
    });
    const ready = await sink.stdout.pipeThrough(new TextDecoderStream()).getReader().read();
    if (ready.value?.trim() !== "ready") throw new Error("the sink server did not start");

    const miniPort = await freeLoopbackPort();
    const pid = await startProxyProcess(defaultProxyCommand(), {
      protocol: "tcp",
      hostIp: "127.0.0.1",
      hostPort: miniPort,
      containerIp,
      containerPort: serverPort,
    });
    miniProxy = { pid, port: miniPort };
    const dockerPath = dockerProxyPath();
    let dockerPort: number | undefined;
    if (dockerPath) {
      dockerPort = await freeLoopbackPort();
      dockerProxy = await startDockerProxy(dockerPath, dockerPort, containerIp);
    }

    const samples = { direct: [] as number[], mini: [] as number[], docker: [] as number[] };
    await transfer(containerIp, serverPort); // warm-up
    for (let round = 0; round < transferRounds; round++) {
      samples.direct.push(await transfer(containerIp, serverPort));
      samples.mini.push(await transfer("127.0.0.1", miniPort));
      if (dockerPort !== undefined) samples.docker.push(await transfer("127.0.0.1", dockerPort));
    }
    const mini = median(samples.mini);
    const direct = median(samples.direct);
    const results: BenchResult[] = [{
      name: "network: 100 MB through mini-docker-proxy (127.0.0.1 → container)",
      value: round2(mini),
      unit: "MB/s",
      baseline: { name: "direct connection to the container's address", value: round2(direct) },
      ratio: round2(mini / direct),
    }];
    if (dockerPort !== undefined) {
      const docker = median(samples.docker);
      results.push({
        name: "network: 100 MB through mini-docker-proxy vs Docker's docker-proxy",
        value: round2(mini),
        unit: "MB/s",
        baseline: { name: `docker-proxy (${dockerPath})`, value: round2(docker) },
        ratio: round2(mini / docker),
      });
    }
    return results;
  } finally {
    if (miniProxy) await stopProxyProcess(miniProxy.pid, miniProxy.port);
    if (dockerProxy) {
      dockerProxy.kill("SIGTERM");
      await dockerProxy.status;
    }
    if (sink) {
      sink.kill("SIGKILL");
      await sink.status;
    }
    detachEndpoint(network.host, `${network.tag}s`);
    deleteNetworkNamespace(namespacePath);
  }
}

/** Refuses to send unless our bridge routes the subnet and the namespace has its address. */
function checkRoutes(network: BenchNetwork, namespacePath: string, address: number): void {
  const bridge = listLinks(network.host).find((link) => link.name === network.bridgeName);
  const routed = listRoutes(network.host).some((route) =>
    route.outputIndex === bridge?.index && route.destination === network.subnet.network &&
    route.prefixLength === 24
  );
  const inside = NetlinkSocket.openIn(namespacePath);
  try {
    const hasAddress = listAddresses(inside).some((entry) => entry.address === address);
    if (!bridge || !routed || !hasAddress || !subnetContains(network.subnet, address)) {
      throw new Error(
        `refusing to send: bridge ${network.bridgeName} does not route ${
          formatSubnet(network.subnet)
        } to the bench namespace`,
      );
    }
  } finally {
    inside.close();
  }
}

function round2(value: number): number {
  return Math.round(value * 100) / 100;
}

/** Every network figure; needs root (namespaces, links) and `ip`/`nsenter`. */
export async function benchNetwork(): Promise<BenchResult[]> {
  const tag = benchTag();
  const host = NetlinkSocket.open();
  const directory = await Deno.makeTempDir({ prefix: `${tag}-` });
  const network: BenchNetwork = {
    tag,
    directory,
    bridgeName: `${tag}br`,
    subnet: freeSubnet(host),
    host,
  };
  try {
    ensureBridge(host, {
      name: network.bridgeName,
      gateway: network.subnet.network + 1,
      prefixLength: 24,
    });
    return [
      ...await benchEndpointSetup(network),
      ...await benchNamespaceCreation(network),
      ...await benchSandboxModes(network),
      ...await benchDaemonStart(network),
      ...await benchProxyThroughput(network),
    ];
  } finally {
    removeBridge(host, network.bridgeName);
    host.close();
    await Deno.remove(directory, { recursive: true });
  }
}

if (import.meta.main) {
  printResults(await benchNetwork());
}
