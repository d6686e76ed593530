// What this teaches: the nouns of container networking as libnetwork names them. A
// *network* is a broadcast domain (here a Linux bridge) with an address pool; a
// *sandbox* is one container's network stack (a network namespace plus its /etc/hosts,
// /etc/hostname and /etc/resolv.conf); an *endpoint* joins a sandbox to a network (a
// veth pair with an address from the network's pool); a *port mapping* makes one
// container port reachable on a host port through a proxy process.
// Mirrors libnetwork's network.go, sandbox.go, endpoint.go and types/types.go.

/** daemon.json "default-address-pools" entry: carve `size`-prefix subnets out of `base`. */
export interface AddressPool {
  base: string;
  size: number;
}

/** The network-related settings of the daemon (daemon.json keys in comments). */
export interface NetworkDaemonConfig {
  /** Persistent state: networks.json, ipam.json, sandboxes/<id>/ (hosts files...). */
  stateDir: string;
  /** Runtime state: netns/<id> namespace files. Cleared of leftovers at start. */
  runDir: string;
  /** "bridge": name of the default bridge (default "mini0"); "none" = no default bridge. */
  bridge?: string;
  /** "bip": the default bridge's gateway address with prefix (default 172.28.0.1/16). */
  bip?: string;
  /** "default-address-pools": where user-defined networks get subnets from. */
  defaultAddressPools?: AddressPool[];
  /** "ip": host address published ports bind to when none is given (mini: 127.0.0.1). */
  defaultHostIp?: string;
  /** "dns", "dns-search", "dns-opts": written into every container's resolv.conf. */
  dns?: string[];
  dnsSearch?: string[];
  dnsOptions?: string[];
  /** "mtu" of bridges and veths (default: the kernel's, 1500). */
  mtu?: number;
  /** The userland proxy command line before its flags (default: deno run cmd/mini_docker_proxy.ts). */
  userlandProxyCommand?: string[];
  /** The host's resolv.conf to derive containers' from (default /etc/resolv.conf). */
  hostResolvConfPath?: string;
  /** The host's hosts file, copied for `--network host` (default /etc/hosts). */
  hostHostsPath?: string;
}

/** Drivers mini knows: a Linux bridge, the host's own stack, or no network at all. */
export type NetworkDriver = "bridge" | "host" | "null";

/** A network, as `docker network inspect` describes it. */
export interface NetworkRecord {
  /** 64 hex characters, like Docker's. */
  id: string;
  name: string;
  driver: NetworkDriver;
  /** RFC 3339 creation time. */
  created: string;
  /** True for the built-in `bridge`, `host` and `none`: they cannot be removed. */
  predefined: boolean;
  /** No default route for containers (`network create --internal`). */
  internal: boolean;
  labels: Record<string, string>;
  options: Record<string, string>;
  /** For bridge networks: the Linux bridge ("mini0", "br-<12 hex of id>"). */
  bridgeName?: string;
  /** For bridge networks: CIDR subnet and gateway address. */
  subnet?: string;
  gateway?: string;
}

/** What `network create` asks for. */
export interface CreateNetworkRequest {
  name: string;
  driver?: string;
  subnet?: string;
  gateway?: string;
  internal?: boolean;
  labels?: Record<string, string>;
  options?: Record<string, string>;
}

/** One container's attachment to one network. */
export interface EndpointRecord {
  /** 64 hex characters. */
  id: string;
  networkId: string;
  networkName: string;
  /** The interface name inside the container ("eth0", "eth1"...). */
  interfaceName: string;
  /** The veth end on the host's bridge. */
  hostInterfaceName: string;
  ipAddress: string;
  prefixLength: number;
  gateway: string;
  macAddress: string;
  /** Extra names this container answers to on this network (`--network-alias`). */
  aliases: string[];
}

/** A network a container asks to join, with its per-network options. */
export interface NetworkAttachmentRequest {
  /** Network name or ID; "bridge", "host", "none" or a user-defined network. */
  network: string;
  aliases?: string[];
  /** A fixed address (`--ip`): user-defined networks only, as in Docker. */
  ipAddress?: string;
}

/** A published-port request: `-p [hostIp:][hostPort:]containerPort[/protocol]`. */
export interface PortRequest {
  containerPort: number;
  protocol: "tcp" | "udp";
  /** "" = the daemon's default host address. */
  hostIp: string;
  /** 0 = any free port from the ephemeral range (`-P`, or `-p 80`). */
  hostPort: number;
  /**
   * With `hostPort`, the last port of a host range to pick one free port from
   * (`-p 8000-8010:80`, sent as HostPort "8000-8010"). Absent: exactly `hostPort`.
   */
  hostPortEnd?: number;
}

/** A port that is published: where it listens and where it forwards. */
export interface PortMapping {
  containerPort: number;
  protocol: "tcp" | "udp";
  hostIp: string;
  hostPort: number;
  containerIp: string;
  /** The proxy process forwarding this port (absent when none runs). */
  proxyPid?: number;
}

/** How a container's network is set up. */
export type NetworkMode = "bridge" | "host" | "none";

/** What a container's network set-up needs from the daemon. */
export interface CreateSandboxRequest {
  containerId: string;
  /** The container's name without "/" (used in peers' /etc/hosts). */
  containerName: string;
  /** Default: the first 12 characters of the container ID. */
  hostname?: string;
  domainname?: string;
  /** The networks to join, first one first ("eth0"). Empty = the daemon's default. */
  networks?: NetworkAttachmentRequest[];
  ports?: PortRequest[];
  /** `--add-host NAME:IP` entries. */
  extraHosts?: string[];
  dns?: string[];
  dnsSearch?: string[];
  dnsOptions?: string[];
}

/** Where a container's generated files and namespace live (known before it starts). */
export interface SandboxPaths {
  /** The network namespace file (bind mount), for the OCI spec's network namespace path. */
  namespacePath: string;
  hostsPath: string;
  hostnamePath: string;
  resolvConfPath: string;
}

/** A container's network stack, as recorded for teardown and recovery. */
export interface SandboxRecord extends SandboxPaths {
  containerId: string;
  containerName: string;
  hostname: string;
  domainname?: string;
  mode: NetworkMode;
  /** For "host" mode there is no namespace of our own: namespacePath is "". */
  endpoints: EndpointRecord[];
  ports: PortMapping[];
  extraHosts: string[];
  dns?: string[];
  dnsSearch?: string[];
  dnsOptions?: string[];
}
