// What this teaches: publishing a container's ports is three steps per port: pick the
// host port, start a proxy that forwards it to the container's address, remember both.
// All ports of a container are published or none: if the third fails, the first two
// are undone. Only loopback addresses and 0.0.0.0 are accepted as host addresses here,
// and the default is 127.0.0.1 (Docker's default is 0.0.0.0): mini is for learning on
// one machine, and nothing it publishes should be reachable from the network by accident.
// Mirrors libnetwork's portmapper/mapper.go (Map, Unmap) with the bridge driver's
// port_mapping.go.

import { isIPv4, isLoopback, parseIPv4 } from "../ipv4.ts";
import type { PortMapping, PortRequest } from "../types.ts";
import { HostPortAllocator } from "./host_ports.ts";
import { defaultProxyCommand, startProxyProcess, stopProxyProcess } from "./proxy_process.ts";

/** How the port mapper runs. */
export interface PortMapperOptions {
  /** The proxy program and its leading arguments (default: mini-docker-proxy). */
  proxyCommand?: string[];
  /** Host address for requests that give none (default 127.0.0.1). */
  defaultHostIp?: string;
  allocator?: HostPortAllocator;
}

/** Checks a host address is one mini may publish on. */
export function checkPublishAddress(hostIp: string): void {
  if (!isIPv4(hostIp)) throw new Error(`host address "${hostIp}" is not an IPv4 address`);
  const address = parseIPv4(hostIp);
  if (address !== 0 && !isLoopback(address)) {
    throw new Error(
      `mini publishes ports only on loopback (127.x.x.x) or 0.0.0.0, not on ${hostIp}`,
    );
  }
}

/** Publishes and unpublishes ports with one proxy process per port. */
export class PortMapper {
  readonly allocator: HostPortAllocator;
  readonly proxyCommand: string[];
  readonly defaultHostIp: string;

  constructor(options: PortMapperOptions = {}) {
    this.allocator = options.allocator ?? new HostPortAllocator();
    this.proxyCommand = options.proxyCommand ?? defaultProxyCommand();
    this.defaultHostIp = options.defaultHostIp ?? "127.0.0.1";
    checkPublishAddress(this.defaultHostIp);
  }

  /** Publishes every request to `containerIp`; all or nothing. */
  async map(containerIp: string, requests: readonly PortRequest[]): Promise<PortMapping[]> {
    const done: PortMapping[] = [];
    try {
      for (const request of requests) done.push(await this.#mapOne(containerIp, request));
    } catch (error) {
      await this.unmap(done);
      throw error;
    }
    return done;
  }

  async #mapOne(containerIp: string, request: PortRequest): Promise<PortMapping> {
    const hostIp = request.hostIp || this.defaultHostIp;
    checkPublishAddress(hostIp);
    // A port chosen by us may be taken between the check and the proxy's bind: retry.
    const chosenByUs = request.hostPort === 0 || (request.hostPortEnd ?? 0) > request.hostPort;
    const attempts = chosenByUs ? 5 : 1;
    for (let attempt = 1;; attempt++) {
      const hostPort = await this.allocator.reserve(
        request.protocol,
        hostIp,
        request.hostPort,
        request.hostPortEnd,
      );
      const mapping: PortMapping = {
        containerPort: request.containerPort,
        protocol: request.protocol,
        hostIp,
        hostPort,
        containerIp,
      };
      try {
        mapping.proxyPid = await startProxyProcess(this.proxyCommand, mapping);
        return mapping;
      } catch (error) {
        this.allocator.release(request.protocol, hostPort);
        if (attempt >= attempts) throw error;
      }
    }
  }

  /** Stops the proxies of `mappings` and releases their host ports. */
  async unmap(mappings: readonly PortMapping[]): Promise<void> {
    await Promise.all(mappings.map(async (mapping) => {
      if (mapping.proxyPid !== undefined) {
        await stopProxyProcess(mapping.proxyPid, mapping.hostPort);
      }
      this.allocator.release(mapping.protocol, mapping.hostPort);
    }));
  }
}
