// What this teaches: the network side of a container as dockerd prepares it before the
// runtime runs, and tears it down after. At every start dockerd asks the network
// controller (lib/network) for a *sandbox*: a network namespace held by a bind mount at
// `<exec-root>/netns/<id>`, one veth pair per network with an address from the
// persistent IPAM and a default route via the bridge's gateway, `lo` up, and the
// container's /etc/hosts, /etc/hostname and /etc/resolv.conf. The OCI spec then names
// that namespace file instead of asking for a new namespace, and bind-mounts the three
// files (the container directory's `hosts`, `hostname`, `resolv.conf` are links to
// them, which is what `docker inspect` shows as HostsPath...). Published ports (`-p`,
// `-P`) become one proxy process each. When the container stops, all of it goes: the
// proxies, the veths, the addresses, the namespace. The mode decides the shape: `host`
// shares the host's namespace (no sandbox namespace, the host's hosts file), `none`
// gets a namespace with only `lo`, a bridge network (the default `bridge` or a
// user-defined one) gets an endpoint, and `container:<name>` joins another container's
// namespace (no sandbox of its own; its files are written here as before).
// Mirrors moby's daemon/container_operations.go (initializeNetworking, allocateNetwork,
// releaseNetwork, connectToNetwork), daemon/container_operations_unix.go,
// daemon/network.go (buildEndpointInfo: NetworkSettings in inspect) and
// libnetwork's sandbox_dns_unix.go (setupResolutionFiles).

import {
  buildHostnameFile,
  buildHostsFile,
  buildResolvConf,
  parseExtraHosts,
} from "../../network/etchosts/mod.ts";
import type { NetworkAttachmentRequest, PortRequest, SandboxRecord } from "../../network/types.ts";
import type { Spec } from "../../oci_spec/types.ts";
import { type DaemonNetworks, engineErrorFrom } from "../network/daemon_networks.ts";
import { badParameter, EngineError } from "../server/errors.ts";
import type { Container } from "./container.ts";
import type { ContainerService } from "./service.ts";
import type { EndpointSettings } from "./types.ts";

/** One published port as NetworkSettings.Ports shows it. */
export interface PortBindingView {
  HostIp: string;
  HostPort: string;
}

/** One row of the `Ports` list of `GET /containers/json`. */
export interface PortSummaryView {
  IP?: string;
  PrivatePort: number;
  PublicPort?: number;
  Type: string;
}

/** Network modes a container may be created with; 404 for an unknown network. */
export function validateNetworkMode(mode: string, networks: DaemonNetworks): void {
  if (["default", "host", "none"].includes(mode) || mode.startsWith("container:")) return;
  // "bridge" (404 with "bridge": "none") or a user-defined network by name or ID.
  networks.record(mode);
}

/** True when the container gets a network namespace of its own (not host, not another's). */
export function hasOwnNetworkNamespace(container: Container): boolean {
  const mode = container.hostConfig.NetworkMode;
  return mode !== "host" && !mode.startsWith("container:");
}

/** The network a container's mode puts it on ("default" is the bridge when there is one). */
export function networkNameOf(mode: string, networks: DaemonNetworks): string | undefined {
  if (mode.startsWith("container:")) return undefined;
  if (mode === "default") return networks.defaultNetworkName();
  return mode;
}

/** `-p` and `-P` as port requests: PortBindings, plus every other EXPOSEd port with -P. */
export function portRequestsOf(container: Container): PortRequest[] {
  const requests: PortRequest[] = [];
  const bindings = { ...(container.hostConfig.PortBindings ?? {}) };
  if (container.hostConfig.PublishAllPorts) {
    for (const port of Object.keys(container.config.ExposedPorts ?? {})) {
      if (!bindings[port] || bindings[port]!.length === 0) {
        bindings[port] = [{ HostIp: "", HostPort: "" }];
      }
    }
  }
  for (const [key, hosts] of Object.entries(bindings)) {
    const [portText, protocol = "tcp"] = key.split("/");
    const containerPort = Number(portText);
    if (!Number.isInteger(containerPort) || containerPort < 1 || containerPort > 65535) {
      throw badParameter(`invalid container port "${key}": use PORT[/tcp|/udp]`);
    }
    if (protocol !== "tcp" && protocol !== "udp") {
      throw badParameter(`protocol ${protocol} of port ${key} is not supported (tcp or udp)`);
    }
    for (const host of hosts ?? []) {
      const hostPortText = host?.HostPort ?? "";
      // "8000-8010": the CLI sends a host range for one container port as is, and the
      // daemon picks a free port in it (moby's portallocator RequestPortInRange).
      const range = /^(\d+)(?:-(\d+))?$/.exec(hostPortText);
      const hostPort = hostPortText === "" ? 0 : range ? Number(range[1]) : NaN;
      const hostPortEnd = range?.[2] === undefined ? hostPort : Number(range[2]);
      if (
        !Number.isInteger(hostPort) || hostPort < 0 || hostPortEnd > 65535 ||
        hostPortEnd < hostPort || (hostPort === 0 && hostPortEnd !== 0)
      ) {
        throw badParameter(
          `invalid host port "${hostPortText}" for ${key}: give one port (8080), a range ` +
            "to pick one from (8000-8010), or none",
        );
      }
      const request: PortRequest = {
        containerPort,
        protocol,
        hostIp: host?.HostIp ?? "",
        hostPort,
      };
      if (hostPortEnd > hostPort) request.hostPortEnd = hostPortEnd;
      requests.push(request);
    }
  }
  return requests;
}

/** What `docker run --network NET --network-alias A --ip IP` asks of its first network. */
export interface EndpointRequest {
  aliases?: string[];
  ipAddress?: string;
}

/**
 * The networks a container is attached to beyond what its NetworkMode says: the create
 * request's endpoint settings for its own network, and the networks `docker network
 * connect` added (by network ID), so that they come back at every start.
 */
interface StoredAttachments {
  primary: EndpointRequest;
  extra: NetworkAttachmentRequest[];
}

/** `containers/<id>/network-attachments.json` (moby keeps this in config.v2.json). */
function attachmentsPath(container: Container): string {
  return `${container.root}/network-attachments.json`;
}

async function loadAttachments(container: Container): Promise<StoredAttachments> {
  try {
    const stored = JSON.parse(await Deno.readTextFile(attachmentsPath(container)));
    return { primary: stored.primary ?? {}, extra: stored.extra ?? [] };
  } catch {
    return { primary: {}, extra: [] };
  }
}

async function saveAttachments(container: Container, stored: StoredAttachments): Promise<void> {
  const path = attachmentsPath(container);
  const temporary = `${path}.tmp`;
  await Deno.writeTextFile(temporary, JSON.stringify(stored));
  await Deno.rename(temporary, path);
}

/**
 * Keeps the endpoint settings of `POST /containers/create` (NetworkingConfig: aliases
 * and a fixed address for the container's network) for every start.
 */
export async function saveEndpointRequest(
  container: Container,
  networkingConfig: { EndpointsConfig?: Record<string, unknown> | null } | null | undefined,
): Promise<void> {
  const configs = networkingConfig?.EndpointsConfig ?? {};
  const mode = container.hostConfig.NetworkMode;
  const entry = (configs[mode] ?? Object.values(configs)[0]) as {
    Aliases?: string[] | null;
    IPAMConfig?: { IPv4Address?: string } | null;
  } | undefined;
  const request: EndpointRequest = {};
  if (entry?.Aliases && entry.Aliases.length > 0) request.aliases = [...entry.Aliases];
  if (entry?.IPAMConfig?.IPv4Address) request.ipAddress = entry.IPAMConfig.IPv4Address;
  if (Object.keys(request).length === 0) return;
  await saveAttachments(container, { primary: request, extra: [] });
}

/**
 * `docker network connect NETWORK CONTAINER`: a running container gets the endpoint at
 * once; either way the network is remembered for the container's next starts.
 */
export async function connectContainer(
  service: ContainerService,
  container: Container,
  networkReference: string,
  request: EndpointRequest,
): Promise<void> {
  const networks = service.daemon.networks;
  const network = networks.record(networkReference);
  const mode = container.hostConfig.NetworkMode;
  const primary = networkNameOf(mode, networks);
  if (primary === undefined || primary === "host" || primary === "none") {
    throw forbidden(
      `container sharing the ${
        primary ?? "network namespace of another container"
      } cannot be connected to any other network`,
    );
  }
  if (network.driver !== "bridge") {
    throw forbidden(`container cannot be connected to the ${network.name} network`);
  }
  const stored = await loadAttachments(container);
  const primaryRecord = networks.controller.findNetwork(primary);
  if (
    primaryRecord?.id === network.id ||
    stored.extra.some((attachment) => attachment.network === network.id)
  ) {
    throw forbidden(
      `endpoint with name ${container.shortName} already exists in network ${network.name}`,
    );
  }
  const attachment: NetworkAttachmentRequest = { network: network.id, ...request };
  if (networks.controller.sandbox(container.id)) {
    try {
      await networks.connect(container.id, attachment);
    } catch (error) {
      throw engineErrorFrom(error);
    }
  }
  stored.extra.push(attachment);
  await saveAttachments(container, stored);
}

/**
 * `docker network disconnect NETWORK CONTAINER`: removes the endpoint of a running
 * container and forgets a connected network for the next starts.
 */
export async function disconnectContainer(
  service: ContainerService,
  container: Container,
  networkReference: string,
): Promise<void> {
  const networks = service.daemon.networks;
  const network = networks.record(networkReference);
  const stored = await loadAttachments(container);
  const remembered = stored.extra.some((attachment) => attachment.network === network.id);
  const attached = networks.controller.sandbox(container.id)?.endpoints
    .some((endpoint) => endpoint.networkId === network.id) ?? false;
  if (!remembered && !attached) {
    throw forbidden(`container ${container.id} is not connected to network ${network.name}`);
  }
  if (attached) {
    try {
      await networks.disconnect(container.id, network.id);
    } catch (error) {
      throw engineErrorFrom(error);
    }
  }
  if (remembered) {
    stored.extra = stored.extra.filter((attachment) => attachment.network !== network.id);
    await saveAttachments(container, stored);
  }
}

function forbidden(message: string): EngineError {
  return new EngineError(403, message);
}

/** Replaces `path` with a symbolic link to `target`. */
async function linkFile(path: string, target: string): Promise<void> {
  await Deno.remove(path).catch(() => {});
  await Deno.symlink(target, path);
}

/**
 * Sets up the container's network before its task is created and returns its sandbox
 * (undefined for `container:<name>` modes, which get their files written here).
 */
export async function setUpNetworking(
  service: ContainerService,
  container: Container,
): Promise<SandboxRecord | undefined> {
  const networks = service.daemon.networks;
  const { config, hostConfig } = container;
  const mode = hostConfig.NetworkMode;
  let extraHosts: string[];
  try {
    parseExtraHosts(hostConfig.ExtraHosts ?? []);
    extraHosts = hostConfig.ExtraHosts ?? [];
  } catch (error) {
    throw badParameter(error instanceof Error ? error.message : String(error));
  }
  const networkName = networkNameOf(mode, networks);
  if (networkName === undefined) {
    await writeResolutionFiles(container);
    return undefined;
  }
  const ports = portRequestsOf(container);
  const attachments = await loadAttachments(container);
  const onBridge = networkName !== "host" && networkName !== "none";
  let sandbox: SandboxRecord;
  try {
    sandbox = await networks.createSandbox({
      containerId: container.id,
      containerName: container.shortName,
      hostname: config.Hostname,
      domainname: config.Domainname || undefined,
      networks: [
        { network: networkName, ...attachments.primary },
        ...(onBridge ? attachments.extra : []),
      ],
      ports: onBridge ? ports : [],
      extraHosts,
      dns: hostConfig.Dns ?? [],
      dnsSearch: hostConfig.DnsSearch ?? [],
      dnsOptions: hostConfig.DnsOptions ?? [],
    });
  } catch (error) {
    throw engineErrorFrom(error);
  }
  try {
    await linkFile(container.hostsPath, sandbox.hostsPath);
    await linkFile(container.hostnamePath, sandbox.hostnamePath);
    await linkFile(container.resolvConfPath, sandbox.resolvConfPath);
  } catch (error) {
    await tearDownNetworking(service, container);
    throw error;
  }
  return sandbox;
}

/**
 * Points the spec at the sandbox: its namespace file as the network namespace (host
 * mode has none: the spec builder already left the namespace out) and its generated
 * files as the /etc bind mounts.
 */
export function applySandboxToSpec(spec: Spec, sandbox: SandboxRecord | undefined): void {
  if (!sandbox) return;
  if (sandbox.namespacePath) {
    spec.linux!.namespaces = (spec.linux!.namespaces ?? []).map((namespace) =>
      namespace.type === "network" ? { type: "network", path: sandbox.namespacePath } : namespace
    );
  }
  const sources: Record<string, string> = {
    "/etc/hosts": sandbox.hostsPath,
    "/etc/hostname": sandbox.hostnamePath,
    "/etc/resolv.conf": sandbox.resolvConfPath,
  };
  spec.mounts = (spec.mounts ?? []).map((mount) =>
    mount.type === "bind" && mount.destination in sources
      ? { ...mount, source: sources[mount.destination] }
      : mount
  );
}

/** Releases the container's network (proxies, veths, addresses, namespace). Idempotent. */
export async function tearDownNetworking(
  service: ContainerService,
  container: Container,
): Promise<void> {
  try {
    await service.daemon.networks.removeSandbox(container.id);
  } catch (error) {
    service.log.warn("cannot release the container's network", {
      container: container.id,
      error: error instanceof Error ? error.message : String(error),
    });
  }
}

/** The container's live sandbox, if it runs with one. */
function sandboxOf(container: Container, networks: DaemonNetworks): SandboxRecord | undefined {
  return networks.controller.sandbox(container.id);
}

/** An endpoint view with nothing attached (a stopped container, host, none). */
function emptyEndpoint(networkId: string): EndpointSettings {
  return {
    IPAMConfig: null,
    Links: null,
    Aliases: null,
    NetworkID: networkId,
    EndpointID: "",
    Gateway: "",
    IPAddress: "",
    IPPrefixLen: 0,
    IPv6Gateway: "",
    GlobalIPv6Address: "",
    GlobalIPv6PrefixLen: 0,
    MacAddress: "",
    DriverOpts: null,
  };
}

/** NetworkSettings.Networks of a container (`docker ps` JSON and `docker inspect`). */
export function networksOf(
  container: Container,
  networks: DaemonNetworks,
): Record<string, EndpointSettings> {
  const sandbox = sandboxOf(container, networks);
  if (sandbox && sandbox.endpoints.length > 0) {
    const views: Record<string, EndpointSettings> = {};
    for (const endpoint of sandbox.endpoints) {
      views[endpoint.networkName] = {
        ...emptyEndpoint(endpoint.networkId),
        Aliases: endpoint.aliases.length > 0 ? [...endpoint.aliases] : null,
        EndpointID: endpoint.id,
        Gateway: endpoint.gateway,
        IPAddress: endpoint.ipAddress,
        IPPrefixLen: endpoint.prefixLength,
        MacAddress: endpoint.macAddress,
      };
    }
    return views;
  }
  const name = networkNameOf(container.hostConfig.NetworkMode, networks);
  if (name === undefined) return {};
  const record = networks.controller.findNetwork(name);
  return record ? { [record.name]: emptyEndpoint(record.id) } : {};
}

/** NetworkSettings.Ports: published ports with their host side, other exposed ports null. */
export function portsOf(
  container: Container,
  networks: DaemonNetworks,
): Record<string, PortBindingView[] | null> {
  const ports: Record<string, PortBindingView[] | null> = {};
  for (const port of Object.keys(container.config.ExposedPorts ?? {})) ports[port] = null;
  for (const mapping of sandboxOf(container, networks)?.ports ?? []) {
    const key = `${mapping.containerPort}/${mapping.protocol}`;
    ports[key] = [
      ...(ports[key] ?? []),
      { HostIp: mapping.hostIp, HostPort: String(mapping.hostPort) },
    ];
  }
  return ports;
}

/** The `Ports` list of `docker ps`: published ports with their host side, then the others. */
export function listPortsOf(container: Container, networks: DaemonNetworks): PortSummaryView[] {
  const rows: PortSummaryView[] = [];
  const published = new Set<string>();
  for (const mapping of sandboxOf(container, networks)?.ports ?? []) {
    published.add(`${mapping.containerPort}/${mapping.protocol}`);
    rows.push({
      IP: mapping.hostIp,
      PrivatePort: mapping.containerPort,
      PublicPort: mapping.hostPort,
      Type: mapping.protocol,
    });
  }
  for (const port of Object.keys(container.config.ExposedPorts ?? {})) {
    const [number, type = "tcp"] = port.split("/");
    if (!published.has(`${number}/${type}`)) rows.push({ PrivatePort: Number(number), Type: type });
  }
  return rows.sort((a, b) => a.PrivatePort - b.PrivatePort);
}

/** The whole NetworkSettings block of `docker inspect`. */
export function networkSettingsOf(
  container: Container,
  networks: DaemonNetworks,
): Record<string, unknown> {
  const sandbox = sandboxOf(container, networks);
  const running = container.state.running && container.state.pid > 0;
  const primary = sandbox?.endpoints[0];
  const firstNetwork = primary ? networks.controller.findNetwork(primary.networkId) : undefined;
  const onDefaultBridge = firstNetwork?.predefined === true && firstNetwork.driver === "bridge";
  let sandboxKey = "";
  if (running && sandbox?.namespacePath) sandboxKey = sandbox.namespacePath;
  else if (running && hasOwnNetworkNamespace(container)) {
    sandboxKey = `/proc/${container.state.pid}/ns/net`;
  }
  return {
    Bridge: "",
    SandboxID: sandbox ? container.id : "",
    HairpinMode: false,
    LinkLocalIPv6Address: "",
    LinkLocalIPv6PrefixLen: 0,
    Ports: portsOf(container, networks),
    SandboxKey: sandboxKey,
    SecondaryIPAddresses: null,
    SecondaryIPv6Addresses: null,
    // The top-level fields describe the default bridge's endpoint only, as in Docker.
    EndpointID: onDefaultBridge ? primary!.id : "",
    Gateway: onDefaultBridge ? primary!.gateway : "",
    GlobalIPv6Address: "",
    GlobalIPv6PrefixLen: 0,
    IPAddress: onDefaultBridge ? primary!.ipAddress : "",
    IPPrefixLen: onDefaultBridge ? primary!.prefixLength : 0,
    IPv6Gateway: "",
    MacAddress: onDefaultBridge ? primary!.macAddress : "",
    Networks: networksOf(container, networks),
  };
}

async function readHostFile(path: string): Promise<string> {
  try {
    return await Deno.readTextFile(path);
  } catch {
    return "";
  }
}

/**
 * Writes the hostname, hosts and resolv.conf of a container that joins another's
 * network namespace (`container:<name>`): it has no sandbox of its own.
 */
export async function writeResolutionFiles(container: Container): Promise<void> {
  const { config, hostConfig } = container;
  let extraHosts;
  try {
    extraHosts = parseExtraHosts(hostConfig.ExtraHosts ?? []);
  } catch (error) {
    throw badParameter(error instanceof Error ? error.message : String(error));
  }
  const hosts = buildHostsFile({ extraHosts });
  const resolvConf = buildResolvConf(await readHostFile("/etc/resolv.conf"), {
    dns: hostConfig.Dns ?? [],
    dnsSearch: hostConfig.DnsSearch ?? [],
    dnsOptions: hostConfig.DnsOptions ?? [],
  });
  for (
    const [path, content] of [
      [container.hostnamePath, buildHostnameFile(config.Hostname)],
      [container.hostsPath, hosts],
      [container.resolvConfPath, resolvConf],
    ]
  ) {
    // A link left from an earlier run with a sandbox must not be written through.
    await Deno.remove(path).catch(() => {});
    await Deno.writeTextFile(path, content, { mode: 0o644 });
  }
}
