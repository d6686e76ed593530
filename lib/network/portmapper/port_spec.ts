// What this teaches: the three spellings of a published port. On the command line it is
// `-p [hostIp:][hostPort:]containerPort[/protocol]` (ranges allowed: 8000-8001:80-81);
// in the Engine API it is HostConfig.PortBindings {"80/tcp": [{HostIp, HostPort}]} plus
// PublishAllPorts with Config.ExposedPorts for `-P`; and in the answers it is
// NetworkSettings.Ports and the "Ports" column of `docker ps`
// ("127.0.0.1:49153->80/tcp"). These functions convert between them.
// Mirrors github.com/docker/go-connections/nat (ParsePortSpec, ParsePortSpecs).

import { isIPv4 } from "../ipv4.ts";
import type { PortMapping, PortRequest } from "../types.ts";

function parsePortNumber(text: string, what: string, allowZero = false): number {
  const number = Number(text);
  if (!/^\d+$/.test(text) || number > 65535 || (number === 0 && !allowZero)) {
    throw new Error(`invalid ${what} "${text}": expected a number from 1 to 65535`);
  }
  return number;
}

function parseRange(text: string, what: string): [number, number] {
  const [first, last, extra] = text.split("-");
  if (extra !== undefined) throw new Error(`invalid ${what} range "${text}"`);
  const start = parsePortNumber(first, what);
  const end = last === undefined ? start : parsePortNumber(last, what);
  if (end < start) throw new Error(`invalid ${what} range "${text}": end before start`);
  return [start, end];
}

/** Parses a "80/tcp" key (protocol defaults to tcp). */
export function parsePortKey(key: string): { port: number; protocol: "tcp" | "udp" } {
  const [portText, protocolText = "tcp", extra] = key.split("/");
  const protocol = protocolText.toLowerCase();
  if (extra !== undefined || (protocol !== "tcp" && protocol !== "udp")) {
    throw new Error(`invalid port "${key}": expected PORT[/tcp|/udp]`);
  }
  return { port: parsePortNumber(portText, "container port"), protocol };
}

/** Parses one `-p` value into one request per container port. */
export function parsePortSpec(spec: string): PortRequest[] {
  const slash = spec.lastIndexOf("/");
  const protocolText = slash >= 0 ? spec.slice(slash + 1).toLowerCase() : "tcp";
  const rest = slash >= 0 ? spec.slice(0, slash) : spec;
  if (protocolText !== "tcp" && protocolText !== "udp") {
    throw new Error(`invalid protocol "${protocolText}" in -p ${spec}: use tcp or udp`);
  }
  const parts = rest.split(":");
  let hostIp = "";
  let hostPart = "";
  let containerPart: string;
  if (parts.length === 1) [containerPart] = parts;
  else if (parts.length === 2) [hostPart, containerPart] = parts;
  else if (parts.length === 3) [hostIp, hostPart, containerPart] = parts;
  else throw new Error(`invalid -p ${spec}: expected [HOST_IP:][HOST_PORT:]CONTAINER_PORT`);
  if (hostIp !== "" && !isIPv4(hostIp)) {
    throw new Error(`invalid host address "${hostIp}" in -p ${spec} (IPv4 only)`);
  }
  const [containerStart, containerEnd] = parseRange(containerPart, "container port");
  const count = containerEnd - containerStart + 1;
  let hostStart = 0;
  if (hostPart !== "") {
    const [start, end] = parseRange(hostPart, "host port");
    if (end - start + 1 !== count && end !== start) {
      throw new Error(`invalid -p ${spec}: host and container port ranges differ in size`);
    }
    hostStart = start;
  }
  const requests: PortRequest[] = [];
  for (let offset = 0; offset < count; offset++) {
    requests.push({
      containerPort: containerStart + offset,
      protocol: protocolText,
      hostIp,
      hostPort: hostStart === 0 ? 0 : hostStart + offset,
    });
  }
  return requests;
}

/** The Engine API's port binding shape ("HostConfig.PortBindings" values). */
export interface ApiPortBinding {
  HostIp?: string;
  HostPort?: string;
}

/**
 * Requests from the Engine API's PortBindings, plus every ExposedPorts entry when
 * PublishAllPorts is set (`-P`) and it is not bound explicitly.
 */
export function portRequestsFromApi(
  portBindings: Record<string, ApiPortBinding[] | null> | null | undefined,
  exposedPorts: Record<string, unknown> | null | undefined,
  publishAll: boolean,
): PortRequest[] {
  const requests: PortRequest[] = [];
  const bound = new Set<string>();
  for (const [key, bindings] of Object.entries(portBindings ?? {})) {
    const { port, protocol } = parsePortKey(key);
    bound.add(`${port}/${protocol}`);
    for (const binding of bindings ?? [{}]) {
      const hostIp = binding.HostIp ?? "";
      if (hostIp !== "" && !isIPv4(hostIp)) {
        throw new Error(`invalid HostIp "${hostIp}" for port ${key} (IPv4 only)`);
      }
      const hostPort = binding.HostPort ? parsePortNumber(binding.HostPort, "host port", true) : 0;
      requests.push({ containerPort: port, protocol, hostIp, hostPort });
    }
  }
  if (publishAll) {
    for (const key of Object.keys(exposedPorts ?? {})) {
      const { port, protocol } = parsePortKey(key);
      if (bound.has(`${port}/${protocol}`)) continue;
      requests.push({ containerPort: port, protocol, hostIp: "", hostPort: 0 });
    }
  }
  return requests;
}

/** NetworkSettings.Ports: every exposed port, with its host bindings or null. */
export function mappingsToApiPorts(
  mappings: readonly PortMapping[],
  exposedPorts: Record<string, unknown> | null | undefined = {},
): Record<string, ApiPortBinding[] | null> {
  const ports: Record<string, ApiPortBinding[] | null> = {};
  for (const key of Object.keys(exposedPorts ?? {})) {
    const { port, protocol } = parsePortKey(key);
    ports[`${port}/${protocol}`] = null;
  }
  for (const mapping of mappings) {
    const key = `${mapping.containerPort}/${mapping.protocol}`;
    const list = ports[key] ?? [];
    list.push({ HostIp: mapping.hostIp, HostPort: String(mapping.hostPort) });
    ports[key] = list;
  }
  return ports;
}

/** The `Ports` array of GET /containers/json. */
export function mappingsToSummaryPorts(
  mappings: readonly PortMapping[],
): { IP: string; PrivatePort: number; PublicPort: number; Type: string }[] {
  return mappings.map((mapping) => ({
    IP: mapping.hostIp,
    PrivatePort: mapping.containerPort,
    PublicPort: mapping.hostPort,
    Type: mapping.protocol,
  }));
}

/** One mapping as `docker ps` and `docker port` print it: "127.0.0.1:49153->80/tcp". */
export function formatPortMapping(mapping: PortMapping): string {
  return `${mapping.hostIp}:${mapping.hostPort}->${mapping.containerPort}/${mapping.protocol}`;
}
