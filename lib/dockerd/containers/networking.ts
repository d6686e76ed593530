// What this teaches: the network side of a container as dockerd prepares it before the
// runtime runs. Every container gets its own /etc/hostname, /etc/hosts and
// /etc/resolv.conf, written into its directory and bind-mounted over the image's:
// that is how `--hostname`, `--add-host` and `--dns` work without touching the image,
// and why editing /etc/hosts inside a container changes a file in
// /var/lib/docker/containers/<id>/. The network mode decides the rest: `host` shares
// the host's network namespace (and copies the host's hosts file), `none` gives a new
// namespace with only loopback, `container:<name>` joins another container's. The
// default mode is the `bridge` network; until the bridge driver is wired into
// mini-dockerd, a default container gets what `none` gives: its own namespace with
// loopback only.
// Mirrors moby's daemon/container_operations_unix.go (setupContainerMountsRoot,
// initializeNetworking for host mode), daemon/network.go (network settings in inspect)
// and libnetwork's sandbox_dns_unix.go (setupResolutionFiles).

import {
  buildHostnameFile,
  buildHostsFile,
  buildResolvConf,
  parseExtraHosts,
} from "../../network/etchosts/mod.ts";
import type { NetworkStore } from "../network/network_store.ts";
import { badParameter } from "../server/errors.ts";
import type { Container } from "./container.ts";
import type { EndpointSettings } from "./types.ts";

/** Network modes a container may be created with. */
export function validateNetworkMode(mode: string, networks: NetworkStore): void {
  if (["default", "bridge", "host", "none"].includes(mode) || mode.startsWith("container:")) {
    if (mode === "bridge") networks.get("bridge"); // 404 "network bridge not found" with "bridge": "none"
    return;
  }
  // A user-defined network by name or ID.
  networks.get(mode);
}

/** True when the container gets a network namespace of its own (not host, not another container's). */
export function hasOwnNetworkNamespace(container: Container): boolean {
  const mode = container.hostConfig.NetworkMode;
  return mode !== "host" && !mode.startsWith("container:");
}

/** The network a container's mode puts it on ("default" is the bridge when there is one). */
export function networkNameOf(mode: string, networks: NetworkStore): string | undefined {
  if (mode.startsWith("container:")) return undefined;
  if (mode === "default") {
    return networks.list().some((network) => network.Name === "bridge") ? "bridge" : "none";
  }
  return mode;
}

/** One empty endpoint in NetworkSettings.Networks for network `id`. */
function endpoint(networkId: string): EndpointSettings {
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
  networks: NetworkStore,
): Record<string, EndpointSettings> {
  const name = networkNameOf(container.hostConfig.NetworkMode, networks);
  if (name === undefined) return {};
  try {
    return { [name]: endpoint(networks.get(name).Id) };
  } catch {
    return {};
  }
}

/** The whole NetworkSettings block of `docker inspect`. */
export function networkSettingsOf(
  container: Container,
  networks: NetworkStore,
): Record<string, unknown> {
  const running = container.state.running && container.state.pid > 0;
  const ownNamespace = container.hostConfig.NetworkMode !== "host" &&
    !container.hostConfig.NetworkMode.startsWith("container:");
  return {
    Bridge: "",
    SandboxID: "",
    HairpinMode: false,
    LinkLocalIPv6Address: "",
    LinkLocalIPv6PrefixLen: 0,
    Ports: portsOf(container),
    SandboxKey: running && ownNamespace ? `/proc/${container.state.pid}/ns/net` : "",
    SecondaryIPAddresses: null,
    SecondaryIPv6Addresses: null,
    EndpointID: "",
    Gateway: "",
    GlobalIPv6Address: "",
    GlobalIPv6PrefixLen: 0,
    IPAddress: "",
    IPPrefixLen: 0,
    IPv6Gateway: "",
    MacAddress: "",
    Networks: networksOf(container, networks),
  };
}

/** NetworkSettings.Ports: every exposed port, unpublished (null) until the bridge driver publishes them. */
export function portsOf(container: Container): Record<string, null> {
  const ports: Record<string, null> = {};
  for (const port of Object.keys(container.config.ExposedPorts ?? {})) ports[port] = null;
  return ports;
}

/** The `Ports` list of `docker ps`: exposed ports with no public side yet. */
export function listPortsOf(container: Container): { PrivatePort: number; Type: string }[] {
  return Object.keys(container.config.ExposedPorts ?? {}).map((port) => {
    const [number, type = "tcp"] = port.split("/");
    return { PrivatePort: Number(number), Type: type };
  }).sort((a, b) => a.PrivatePort - b.PrivatePort);
}

async function readHostFile(path: string): Promise<string> {
  try {
    return await Deno.readTextFile(path);
  } catch {
    return "";
  }
}

/**
 * Writes the container's hostname, hosts and resolv.conf (moby writes them at every
 * start, so a changed host resolv.conf reaches restarted containers).
 */
export async function writeResolutionFiles(container: Container): Promise<void> {
  const { config, hostConfig } = container;
  const hostMode = hostConfig.NetworkMode === "host";
  let extraHosts;
  try {
    extraHosts = parseExtraHosts(hostConfig.ExtraHosts ?? []);
  } catch (error) {
    throw badParameter(error instanceof Error ? error.message : String(error));
  }
  const hosts = buildHostsFile({
    base: hostMode ? await readHostFile("/etc/hosts") : undefined,
    extraHosts,
  });
  const resolvConf = hostMode && (hostConfig.Dns ?? []).length === 0
    ? await readHostFile("/etc/resolv.conf")
    : buildResolvConf(await readHostFile("/etc/resolv.conf"), {
      dns: hostConfig.Dns ?? [],
      dnsSearch: hostConfig.DnsSearch ?? [],
      dnsOptions: hostConfig.DnsOptions ?? [],
    });
  await Deno.writeTextFile(container.hostnamePath, buildHostnameFile(config.Hostname), {
    mode: 0o644,
  });
  await Deno.writeTextFile(container.hostsPath, hosts, { mode: 0o644 });
  await Deno.writeTextFile(container.resolvConfPath, resolvConf, { mode: 0o644 });
}
