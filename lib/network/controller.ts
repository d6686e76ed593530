// What this teaches: how an engine turns `docker network create`, `docker run --network
// NAME -p 8080:80` and `docker rm -f` into kernel objects and back, and how it cleans
// up after itself even when it was killed. The controller owns the networks (a Linux
// bridge and an IPAM pool each), one sandbox per running container (a network
// namespace file plus /etc/hosts, /etc/hostname, /etc/resolv.conf), the endpoints that
// join the two (veth pairs), and the published ports (proxy processes). Every change is
// recorded on disk before or right after it is made, so `recover()` at the next start
// can tell what is still wanted from what a crash left behind.
// Mirrors libnetwork's controller.go (NewNetwork, NewSandbox, sandboxCleanup),
// sandbox.go and endpoint.go (Join, Leave), as dockerd's daemon/network.go drives them.

import {
  alreadyExists,
  ApiError,
  failedPrecondition,
  invalidArgument,
  notFound,
} from "../api/errors.ts";
import { attachEndpoint, detachEndpoint, setLoopbackUp } from "./drivers/bridge/endpoint.ts";
import { ensureBridge, removeBridge } from "./drivers/bridge/bridge.ts";
import {
  buildHostnameFile,
  buildHostsFile,
  type HostsEntry,
  parseExtraHosts,
  writeFileInPlace,
} from "./etchosts/hosts.ts";
import { buildResolvConf } from "./etchosts/resolvconf.ts";
import { AddressAllocator, IpamError } from "./ipam/allocator.ts";
import {
  formatIPv4,
  formatSubnet,
  parseAddressWithPrefix,
  parseIPv4,
  prefixMask,
  type Subnet,
} from "./ipv4.ts";
import { listLinks, listRoutes, NetlinkSocket } from "./netlink/mod.ts";
import { PortMapper } from "./portmapper/port_mapper.ts";
import { isProxyProcess, startProxyProcess } from "./portmapper/proxy_process.ts";
import {
  createNetworkNamespace,
  deleteNetworkNamespace,
  listNetworkNamespaces,
} from "./sandbox/namespace.ts";
import { NetworkStore } from "./store.ts";
import type {
  AddressPool,
  CreateNetworkRequest,
  CreateSandboxRequest,
  EndpointRecord,
  NetworkAttachmentRequest,
  NetworkDaemonConfig,
  NetworkRecord,
  PortMapping,
  SandboxPaths,
  SandboxRecord,
} from "./types.ts";

/** mini's defaults: a bridge apart from Docker's 172.17.0.0/16, so both can coexist. */
export const networkDefaults = {
  bridge: "mini0",
  bip: "172.28.0.1/16",
  defaultAddressPools: [
    { base: "172.29.0.0/16", size: 24 },
    { base: "172.30.0.0/16", size: 24 },
  ] as AddressPool[],
};

const networkNamePattern = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

function randomId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return [...bytes].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** Maps an IPAM error onto the API's error kinds. */
function apiErrorFrom(error: unknown): unknown {
  if (!(error instanceof IpamError)) return error;
  if (error.kind === "invalid") return invalidArgument(error.message);
  if (error.kind === "not_found") return notFound(error.message);
  if (error.kind === "exhausted") return new ApiError("resource_exhausted", error.message);
  return failedPrecondition(error.message);
}

/** What `recover()` did at start-up. */
export interface RecoveryReport {
  removedSandboxes: string[];
  removedNamespaces: string[];
  removedInterfaces: string[];
  releasedAddresses: number;
  restartedProxies: number;
}

/** A container's membership in a network, for `network inspect`'s Containers map. */
export interface NetworkMember {
  containerId: string;
  containerName: string;
  endpoint: EndpointRecord;
}

/** The network controller of one daemon. Open it once; call close() at shutdown. */
export class NetworkController {
  readonly store: NetworkStore;
  readonly ipam: AddressAllocator;
  readonly ports: PortMapper;
  readonly namespacesDir: string;
  #host: NetlinkSocket;
  #networks: NetworkRecord[] = [];
  #sandboxes = new Map<string, SandboxRecord>();
  #queue: Promise<unknown> = Promise.resolve();

  private constructor(readonly config: NetworkDaemonConfig) {
    this.store = new NetworkStore(config.stateDir);
    this.ipam = new AddressAllocator(`${config.stateDir}/ipam.json`);
    this.ports = new PortMapper({
      proxyCommand: config.userlandProxyCommand,
      defaultHostIp: config.defaultHostIp,
    });
    this.namespacesDir = `${config.runDir}/netns`;
    Deno.mkdirSync(this.namespacesDir, { recursive: true });
    this.#host = NetlinkSocket.open();
  }

  /**
   * Opens the controller: loads state, creates the predefined networks (and the default
   * bridge unless "bridge" is "none") and makes sure every bridge exists. Call
   * `recover()` next, with the containers that are still running.
   */
  static async open(config: NetworkDaemonConfig): Promise<NetworkController> {
    const controller = new NetworkController(config);
    try {
      await controller.#load();
    } catch (error) {
      controller.close();
      throw error;
    }
    return controller;
  }

  /** Closes the netlink socket. Proxies keep running until their daemon exits. */
  close(): void {
    this.#host.close();
  }

  /** Runs `work` after every earlier change finished: changes never interleave. */
  #serialize<T>(work: () => Promise<T> | T): Promise<T> {
    const next = this.#queue.catch(() => {}).then(work);
    this.#queue = next.catch(() => {});
    return next;
  }

  get #bridgeName(): string | undefined {
    const name = this.config.bridge ?? networkDefaults.bridge;
    return name === "none" ? undefined : name;
  }

  async #load(): Promise<void> {
    this.#networks = this.store.loadNetworks();
    for (const record of this.store.loadSandboxes((message) => console.warn(message))) {
      this.#sandboxes.set(record.containerId, record);
    }
    const now = new Date().toISOString();
    const predefined = (name: string, driver: NetworkRecord["driver"]): NetworkRecord => ({
      id: randomId(),
      name,
      driver,
      created: now,
      predefined: true,
      internal: false,
      labels: {},
      options: {},
    });
    if (!this.#networks.some((network) => network.name === "host")) {
      this.#networks.push(predefined("host", "host"));
    }
    if (!this.#networks.some((network) => network.name === "none")) {
      this.#networks.push(predefined("none", "null"));
    }
    const bridgeName = this.#bridgeName;
    let bridge = this.#networks.find((network) => network.name === "bridge" && network.predefined);
    if (bridgeName === undefined) {
      // "bridge": "none": no default bridge; drop one left by an earlier configuration.
      if (bridge) await this.#dropNetwork(bridge);
    } else {
      const bip = parseAddressWithPrefix(this.config.bip ?? networkDefaults.bip);
      const subnet = formatSubnet({
        network: (bip.address & prefixMask(bip.prefixLength)) >>> 0,
        prefixLength: bip.prefixLength,
      });
      if (bridge && (bridge.subnet !== subnet || bridge.bridgeName !== bridgeName)) {
        // The configuration changed: rebuild the default bridge network.
        await this.#dropNetwork(bridge);
        bridge = undefined;
      }
      if (!bridge) {
        bridge = { ...predefined("bridge", "bridge"), bridgeName };
        bridge.options = { "com.docker.network.bridge.name": bridgeName };
        const pool = await this.ipam.requestPool(bridge.id, {
          subnet,
          gateway: formatIPv4(bip.address),
          avoid: this.#hostRoutes([bridgeName]),
        }).catch((error) => {
          throw new Error(
            `cannot set up the default bridge ${bridgeName} with bip ${
              this.config.bip ?? networkDefaults.bip
            }: ${(error as Error).message}`,
          );
        });
        bridge.subnet = pool.subnet;
        bridge.gateway = pool.gateway;
        this.#networks.push(bridge);
      }
    }
    for (const network of this.#networks) {
      if (network.driver === "bridge") this.#ensureBridge(network);
    }
    this.store.saveNetworks(this.#networks);
  }

  #ensureBridge(network: NetworkRecord): number {
    const gateway = parseAddressWithPrefix(`${network.gateway}/${network.subnet!.split("/")[1]}`);
    return ensureBridge(this.#host, {
      name: network.bridgeName!,
      gateway: gateway.address,
      prefixLength: gateway.prefixLength,
      mtu: this.config.mtu,
    });
  }

  /**
   * Subnets routed on the host other than through our own bridges (never overlap them).
   * `alsoOurs` names bridges about to be (re)used, such as a default bridge that another
   * daemon on the same machine created first: its route is the one we want, not a clash.
   */
  #hostRoutes(alsoOurs: string[] = []): Subnet[] {
    const ours = new Set([
      ...this.#networks.filter((network) => network.bridgeName).map((network) =>
        network.bridgeName
      ),
      ...alsoOurs,
    ]);
    const ownIndexes = new Set(
      listLinks(this.#host).filter((link) => ours.has(link.name)).map((link) => link.index),
    );
    return listRoutes(this.#host)
      .filter((route) => route.prefixLength > 0 && !ownIndexes.has(route.outputIndex ?? -1))
      .map((route) => ({ network: route.destination, prefixLength: route.prefixLength }));
  }

  async #dropNetwork(network: NetworkRecord): Promise<void> {
    if (network.bridgeName) removeBridge(this.#host, network.bridgeName);
    await this.ipam.releasePool(network.id, { force: true });
    this.#networks = this.#networks.filter((candidate) => candidate.id !== network.id);
  }

  // ---- networks -------------------------------------------------------------------

  /** Every network, sorted by name. */
  networks(): NetworkRecord[] {
    return [...this.#networks].sort((a, b) => a.name.localeCompare(b.name));
  }

  /** A network by exact name, exact ID or unique ID prefix; undefined if none. */
  findNetwork(idOrName: string): NetworkRecord | undefined {
    const byName = this.#networks.find((network) => network.name === idOrName);
    if (byName) return byName;
    const byId = this.#networks.find((network) => network.id === idOrName);
    if (byId) return byId;
    const byPrefix = this.#networks.filter((network) => network.id.startsWith(idOrName));
    return idOrName.length > 0 && byPrefix.length === 1 ? byPrefix[0] : undefined;
  }

  /** A network by name or ID; throws not_found. */
  network(idOrName: string): NetworkRecord {
    const network = this.findNetwork(idOrName);
    if (!network) throw notFound(`network ${idOrName} not found`);
    return network;
  }

  /** The containers attached to a network. */
  members(idOrName: string): NetworkMember[] {
    const network = this.network(idOrName);
    const members: NetworkMember[] = [];
    for (const sandbox of this.#sandboxes.values()) {
      for (const endpoint of sandbox.endpoints) {
        if (endpoint.networkId === network.id) {
          members.push({
            containerId: sandbox.containerId,
            containerName: sandbox.containerName,
            endpoint,
          });
        }
      }
    }
    return members;
  }

  /** `docker network create`: a bridge network with its own subnet and Linux bridge. */
  createNetwork(request: CreateNetworkRequest): Promise<NetworkRecord> {
    return this.#serialize(async () => {
      if (!networkNamePattern.test(request.name)) {
        throw invalidArgument(
          `invalid network name "${request.name}": use letters, digits, "_", "." and "-", ` +
            "starting with a letter or digit",
        );
      }
      if (this.#networks.some((network) => network.name === request.name)) {
        throw alreadyExists(`network with name ${request.name} already exists`);
      }
      const driver = request.driver || "bridge";
      if (driver === "host" || driver === "null") {
        throw failedPrecondition(`only one instance of "${driver}" network is allowed`);
      }
      if (driver !== "bridge") {
        throw invalidArgument(`network driver "${driver}" is not supported (mini has "bridge")`);
      }
      if (request.gateway && !request.subnet) {
        throw invalidArgument("--gateway needs --subnet");
      }
      const id = randomId();
      const options = { ...(request.options ?? {}) };
      const bridgeName = options["com.docker.network.bridge.name"] ?? `br-${id.slice(0, 12)}`;
      if (this.#networks.some((network) => network.bridgeName === bridgeName)) {
        throw alreadyExists(`bridge ${bridgeName} is already used by another network`);
      }
      let pool;
      try {
        pool = await this.ipam.requestPool(id, {
          subnet: request.subnet,
          gateway: request.gateway,
          defaultPools: this.config.defaultAddressPools ?? networkDefaults.defaultAddressPools,
          avoid: this.#hostRoutes(),
        });
      } catch (error) {
        throw apiErrorFrom(error);
      }
      const network: NetworkRecord = {
        id,
        name: request.name,
        driver: "bridge",
        created: new Date().toISOString(),
        predefined: false,
        internal: request.internal ?? false,
        labels: { ...(request.labels ?? {}) },
        options,
        bridgeName,
        subnet: pool.subnet,
        gateway: pool.gateway,
      };
      try {
        this.#ensureBridge(network);
      } catch (error) {
        await this.ipam.releasePool(id, { force: true });
        throw error;
      }
      this.#networks.push(network);
      this.store.saveNetworks(this.#networks);
      return network;
    });
  }

  /** `docker network rm`: refuses predefined networks and networks with containers. */
  removeNetwork(idOrName: string): Promise<void> {
    return this.#serialize(async () => {
      const network = this.network(idOrName);
      if (network.predefined) {
        throw failedPrecondition(`${network.name} is a pre-defined network and cannot be removed`);
      }
      const members = this.members(network.id);
      if (members.length > 0) {
        throw failedPrecondition(
          `error while removing network: network ${network.name} id ${network.id} has active ` +
            `endpoints (${members.map((member) => member.containerName).join(", ")})`,
        );
      }
      await this.#dropNetwork(network);
      this.store.saveNetworks(this.#networks);
    });
  }

  // ---- sandboxes ------------------------------------------------------------------

  /** Where a container's namespace and files will be; known before it starts. */
  sandboxPaths(containerId: string): SandboxPaths {
    const directory = this.store.sandboxDir(containerId);
    return {
      namespacePath: `${this.namespacesDir}/${containerId}`,
      hostsPath: `${directory}/hosts`,
      hostnamePath: `${directory}/hostname`,
      resolvConfPath: `${directory}/resolv.conf`,
    };
  }

  /** A running container's sandbox, or undefined. */
  sandbox(containerId: string): SandboxRecord | undefined {
    return this.#sandboxes.get(containerId);
  }

  /** Every sandbox. */
  sandboxes(): SandboxRecord[] {
    return [...this.#sandboxes.values()];
  }

  /**
   * Sets up a container's network before its task is created: namespace (unless host
   * mode), endpoints, files, then published ports. Give `namespacePath` to the runtime
   * as the spec's network namespace (or drop the namespace for mode "host") and bind-mount
   * the three files. On failure everything made so far is undone.
   */
  async createSandbox(request: CreateSandboxRequest): Promise<SandboxRecord> {
    if (this.#sandboxes.has(request.containerId)) await this.removeSandbox(request.containerId);
    const sandbox = await this.#serialize(() => this.#createSandbox(request));
    const requests = request.ports ?? [];
    if (requests.length === 0 || sandbox.mode !== "bridge") return sandbox;
    try {
      const mappings = await this.ports.map(sandbox.endpoints[0].ipAddress, requests);
      await this.#serialize(() => {
        sandbox.ports = mappings;
        this.store.saveSandbox(sandbox);
      });
    } catch (error) {
      await this.removeSandbox(request.containerId);
      throw error;
    }
    return sandbox;
  }

  async #createSandbox(request: CreateSandboxRequest): Promise<SandboxRecord> {
    const attachments: NetworkAttachmentRequest[] = request.networks?.length
      ? request.networks
      : [{ network: this.#bridgeName ? "bridge" : "none" }];
    const networks = attachments.map((attachment) => this.network(attachment.network));
    const drivers = new Set(networks.map((network) => network.driver));
    if ((drivers.has("host") || drivers.has("null")) && networks.length > 1) {
      throw invalidArgument(
        'a container on the "host" or "none" network cannot join other networks',
      );
    }
    const mode = drivers.has("host") ? "host" : drivers.has("null") ? "none" : "bridge";
    const paths = this.sandboxPaths(request.containerId);
    const sandbox: SandboxRecord = {
      ...paths,
      namespacePath: mode === "host" ? "" : paths.namespacePath,
      containerId: request.containerId,
      containerName: request.containerName.replace(/^\//, ""),
      hostname: mode === "host"
        ? Deno.hostname()
        : (request.hostname || request.containerId.slice(0, 12)),
      domainname: request.domainname,
      mode,
      endpoints: [],
      ports: [],
      extraHosts: request.extraHosts ?? [],
      dns: request.dns,
      dnsSearch: request.dnsSearch,
      dnsOptions: request.dnsOptions,
    };
    Deno.mkdirSync(this.store.sandboxDir(request.containerId), { recursive: true });
    // Recorded first: a crash from here on leaves a record recover() can clean up.
    this.#sandboxes.set(sandbox.containerId, sandbox);
    this.store.saveSandbox(sandbox);
    try {
      if (mode !== "host") {
        deleteNetworkNamespace(sandbox.namespacePath); // a leftover of a crash, if any
        createNetworkNamespace(sandbox.namespacePath);
        setLoopbackUp(sandbox.namespacePath);
      }
      if (mode === "bridge") {
        for (const [index, network] of networks.entries()) {
          await this.#join(sandbox, network, attachments[index]);
        }
      }
      this.#writeFiles(sandbox);
      this.#refreshPeers(sandbox);
    } catch (error) {
      await this.#teardown(sandbox);
      throw apiErrorFrom(error);
    }
    return sandbox;
  }

  /** Creates one endpoint: an address, a veth pair, the record. */
  async #join(
    sandbox: SandboxRecord,
    network: NetworkRecord,
    request: NetworkAttachmentRequest,
  ): Promise<EndpointRecord> {
    if (network.driver !== "bridge") {
      throw invalidArgument(`container cannot be connected to the ${network.name} network`);
    }
    if (sandbox.endpoints.some((endpoint) => endpoint.networkId === network.id)) {
      throw alreadyExists(
        `endpoint with name ${sandbox.containerName} already exists in network ${network.name}`,
      );
    }
    if (request.ipAddress && network.predefined) {
      throw invalidArgument("user specified IP address is supported on user defined networks only");
    }
    if (request.aliases?.length && network.predefined) {
      throw invalidArgument("network-scoped aliases are supported for user-defined networks only");
    }
    const id = randomId();
    const lease = await this.ipam.requestAddress(network.id, id, request.ipAddress);
    const used = new Set(sandbox.endpoints.map((endpoint) => endpoint.interfaceName));
    let slot = 0;
    while (used.has(`eth${slot}`)) slot++;
    const endpoint: EndpointRecord = {
      id,
      networkId: network.id,
      networkName: network.name,
      interfaceName: `eth${slot}`,
      hostInterfaceName: `veth${id.slice(0, 7)}`,
      ipAddress: lease.address,
      prefixLength: lease.prefixLength,
      gateway: lease.gateway,
      macAddress: "",
      aliases: request.aliases ?? [],
    };
    // Recorded before the veth exists, so a crash in between is recoverable.
    sandbox.endpoints.push(endpoint);
    this.store.saveSandbox(sandbox);
    try {
      endpoint.macAddress = attachEndpoint(this.#host, {
        bridgeName: network.bridgeName!,
        namespacePath: sandbox.namespacePath,
        hostInterfaceName: endpoint.hostInterfaceName,
        containerInterfaceName: endpoint.interfaceName,
        address: parseIPv4(lease.address),
        prefixLength: lease.prefixLength,
        defaultGateway: network.internal ? undefined : parseIPv4(lease.gateway),
        mtu: this.config.mtu,
      });
    } catch (error) {
      sandbox.endpoints = sandbox.endpoints.filter((candidate) => candidate.id !== id);
      await this.ipam.releaseAddress(network.id, lease.address);
      this.store.saveSandbox(sandbox);
      throw error;
    }
    this.store.saveSandbox(sandbox);
    return endpoint;
  }

  /** `docker network connect`: joins a running container to one more network. */
  connect(
    containerId: string,
    request: NetworkAttachmentRequest,
  ): Promise<EndpointRecord> {
    return this.#serialize(async () => {
      const sandbox = this.#sandboxes.get(containerId);
      if (!sandbox) {
        throw failedPrecondition(`container ${containerId} is not running (no network sandbox)`);
      }
      if (sandbox.mode !== "bridge") {
        throw failedPrecondition(
          `container sharing the ${sandbox.mode} network cannot be connected to any other network`,
        );
      }
      const network = this.network(request.network);
      let endpoint: EndpointRecord;
      try {
        endpoint = await this.#join(sandbox, network, request);
      } catch (error) {
        throw apiErrorFrom(error);
      }
      this.#writeFiles(sandbox);
      this.#refreshPeers(sandbox);
      return endpoint;
    });
  }

  /** `docker network disconnect`: removes a running container from one network. */
  disconnect(containerId: string, idOrName: string): Promise<void> {
    return this.#serialize(async () => {
      const sandbox = this.#sandboxes.get(containerId);
      const network = this.network(idOrName);
      const endpoint = sandbox?.endpoints.find((candidate) => candidate.networkId === network.id);
      if (!sandbox || !endpoint) {
        throw notFound(`container ${containerId} is not connected to network ${network.name}`);
      }
      await this.#leave(sandbox, endpoint);
      this.#writeFiles(sandbox);
      this.#refreshPeers(sandbox, [network.id]);
    });
  }

  async #leave(sandbox: SandboxRecord, endpoint: EndpointRecord): Promise<void> {
    detachEndpoint(this.#host, endpoint.hostInterfaceName);
    await this.ipam.releaseAddress(endpoint.networkId, endpoint.ipAddress);
    sandbox.endpoints = sandbox.endpoints.filter((candidate) => candidate.id !== endpoint.id);
    this.store.saveSandbox(sandbox);
  }

  /**
   * Tears a container's network down: proxies, endpoints (veths and addresses), the
   * namespace, the files, the record; peers' hosts files forget it. Idempotent.
   */
  async removeSandbox(containerId: string): Promise<void> {
    const sandbox = this.#sandboxes.get(containerId);
    if (!sandbox) return;
    await this.ports.unmap(sandbox.ports);
    await this.#serialize(() => this.#teardown(sandbox));
  }

  async #teardown(sandbox: SandboxRecord): Promise<void> {
    const networkIds = sandbox.endpoints.map((endpoint) => endpoint.networkId);
    for (const endpoint of [...sandbox.endpoints]) await this.#leave(sandbox, endpoint);
    if (sandbox.namespacePath) deleteNetworkNamespace(sandbox.namespacePath);
    this.#sandboxes.delete(sandbox.containerId);
    this.store.removeSandbox(sandbox.containerId);
    this.#refreshPeers(sandbox, networkIds);
  }

  // ---- generated files --------------------------------------------------------------

  #userDefined(networkId: string): boolean {
    const network = this.#networks.find((candidate) => candidate.id === networkId);
    return network !== undefined && !network.predefined;
  }

  /** The names a sandbox answers to on a network (hostname everywhere; more on user ones). */
  #namesOn(sandbox: SandboxRecord, endpoint: EndpointRecord): string[] {
    const hostname = sandbox.domainname
      ? [`${sandbox.hostname}.${sandbox.domainname}`, sandbox.hostname]
      : [sandbox.hostname];
    if (!this.#userDefined(endpoint.networkId)) return hostname;
    return [...hostname, sandbox.containerName, ...endpoint.aliases];
  }

  #writeFiles(sandbox: SandboxRecord): void {
    const gateway = sandbox.endpoints[0]?.gateway;
    const extraHosts: HostsEntry[] = parseExtraHosts(sandbox.extraHosts, gateway);
    let hosts: string;
    if (sandbox.mode === "host") {
      const base = Deno.readTextFileSync(this.config.hostHostsPath ?? "/etc/hosts");
      hosts = buildHostsFile({ base, extraHosts });
    } else {
      const self = sandbox.endpoints.map((endpoint) => ({
        address: endpoint.ipAddress,
        names: this.#namesOn(sandbox, endpoint),
      }));
      hosts = buildHostsFile({ extraHosts, self, peers: this.#peersOf(sandbox) });
    }
    writeFileInPlace(sandbox.hostsPath, hosts);
    writeFileInPlace(sandbox.hostnamePath, buildHostnameFile(sandbox.hostname));
    let hostResolvConf = "";
    try {
      hostResolvConf = Deno.readTextFileSync(this.config.hostResolvConfPath ?? "/etc/resolv.conf");
    } catch {
      // no resolv.conf on the host: the defaults apply
    }
    const resolvConf = sandbox.mode === "host" ? hostResolvConf : buildResolvConf(hostResolvConf, {
      dns: sandbox.dns?.length ? sandbox.dns : this.config.dns,
      dnsSearch: sandbox.dnsSearch?.length ? sandbox.dnsSearch : this.config.dnsSearch,
      dnsOptions: sandbox.dnsOptions?.length ? sandbox.dnsOptions : this.config.dnsOptions,
    });
    writeFileInPlace(sandbox.resolvConfPath, resolvConf);
  }

  /** Entries for every other container sharing a user-defined network with `sandbox`. */
  #peersOf(sandbox: SandboxRecord): HostsEntry[] {
    const shared = new Set(
      sandbox.endpoints.map((endpoint) => endpoint.networkId)
        .filter((id) => this.#userDefined(id)),
    );
    const entries: HostsEntry[] = [];
    for (const peer of this.#sandboxes.values()) {
      if (peer.containerId === sandbox.containerId) continue;
      for (const endpoint of peer.endpoints) {
        if (!shared.has(endpoint.networkId)) continue;
        entries.push({
          address: endpoint.ipAddress,
          names: [peer.containerName, ...endpoint.aliases, peer.containerId.slice(0, 12)],
        });
      }
    }
    return entries;
  }

  /** Rewrites the hosts files of every container on the networks `sandbox` touches. */
  #refreshPeers(sandbox: SandboxRecord, extraNetworkIds: string[] = []): void {
    const networkIds = new Set([
      ...sandbox.endpoints.map((endpoint) => endpoint.networkId),
      ...extraNetworkIds,
    ]);
    for (const peer of this.#sandboxes.values()) {
      if (peer.containerId === sandbox.containerId) continue;
      const touched = peer.endpoints.some((endpoint) =>
        networkIds.has(endpoint.networkId) && this.#userDefined(endpoint.networkId)
      );
      if (touched) {
        try {
          this.#writeFiles(peer);
        } catch (error) {
          console.warn(`cannot update /etc/hosts of ${peer.containerName}: ${error}`);
        }
      }
    }
  }

  // ---- recovery ---------------------------------------------------------------------

  /**
   * Start-up cleanup after a crash. Sandboxes of containers `keep` says are still
   * running are kept (their proxies, which died with the old daemon, are restarted);
   * everything else goes: sandboxes, namespace files without a record, veths on our
   * bridges without an endpoint, addresses without an endpoint.
   */
  recover(keep: (containerId: string) => boolean = () => false): Promise<RecoveryReport> {
    return this.#serialize(async () => {
      const report: RecoveryReport = {
        removedSandboxes: [],
        removedNamespaces: [],
        removedInterfaces: [],
        releasedAddresses: 0,
        restartedProxies: 0,
      };
      for (const sandbox of [...this.#sandboxes.values()]) {
        if (keep(sandbox.containerId)) continue;
        await this.ports.unmap(sandbox.ports);
        await this.#teardown(sandbox);
        report.removedSandboxes.push(sandbox.containerId);
      }
      const endpoints = this.sandboxes().flatMap((sandbox) => sandbox.endpoints);
      const wantedVeths = new Set(endpoints.map((endpoint) => endpoint.hostInterfaceName));
      const links = listLinks(this.#host);
      // Veths on our bridges that no endpoint claims are swept, except on the default
      // bridge while it has the stock name (mini0): several daemons on one machine
      // (tests, a bench) may share that one, and another daemon's veths are not ours to
      // delete. Our own veths there were recorded before they were made and went with
      // their sandboxes above. A daemon with its own "bridge" name gets the full sweep.
      const sweep = (network: NetworkRecord) =>
        network.bridgeName !== undefined &&
        !(network.predefined && network.bridgeName === networkDefaults.bridge);
      const bridges = new Set(
        links.filter((link) =>
          this.#networks.some((network) => sweep(network) && network.bridgeName === link.name)
        ).map((link) => link.index),
      );
      for (const link of links) {
        if (link.kind !== "veth" || !bridges.has(link.masterIndex ?? -1)) continue;
        if (wantedVeths.has(link.name)) continue;
        if (detachEndpoint(this.#host, link.name)) report.removedInterfaces.push(link.name);
      }
      // Namespaces after veths: the kernel destroys a namespace (and the veth ends inside
      // it, with their host peers) in the background, so deleting the namespaces first
      // would leave the veth sweep racing the kernel.
      const namespaces = new Set(this.sandboxes().map((sandbox) => sandbox.namespacePath));
      for (const path of listNetworkNamespaces(this.namespacesDir)) {
        if (namespaces.has(path)) continue;
        deleteNetworkNamespace(path);
        report.removedNamespaces.push(path);
      }
      const endpointIds = new Set(endpoints.map((endpoint) => endpoint.id));
      report.releasedAddresses = await this.ipam.releaseWhere((owner) => !endpointIds.has(owner));
      for (const sandbox of this.#sandboxes.values()) {
        report.restartedProxies += await this.#restartProxies(sandbox);
      }
      return report;
    });
  }

  async #restartProxies(sandbox: SandboxRecord): Promise<number> {
    let restarted = 0;
    for (const mapping of sandbox.ports) {
      this.ports.allocator.claim(mapping.protocol, mapping.hostPort);
      if (mapping.proxyPid !== undefined && isProxyProcess(mapping.proxyPid, mapping.hostPort)) {
        continue;
      }
      try {
        mapping.proxyPid = await startProxyProcess(this.ports.proxyCommand, mapping);
        restarted++;
      } catch (error) {
        delete mapping.proxyPid;
        console.warn(`cannot restore port ${formatMapping(mapping)}: ${error}`);
      }
    }
    this.store.saveSandbox(sandbox);
    return restarted;
  }
}

function formatMapping(mapping: PortMapping): string {
  return `${mapping.hostIp}:${mapping.hostPort}->${mapping.containerPort}/${mapping.protocol}`;
}
