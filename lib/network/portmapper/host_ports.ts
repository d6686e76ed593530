// What this teaches: choosing a host port. An explicit `-p 8080:80` must get exactly
// 8080, or fail with "port is already allocated"; `-p 8000-8010:80` takes the lowest
// free port of that range; `-P` takes any free port from an ephemeral range. "Free" is asked of the kernel itself, by binding the port for a
// moment: the only check that knows about every other program on the machine. Ports
// this process has handed out are also remembered, so two containers starting at the
// same time never pick the same one.
// Mirrors libnetwork's portallocator/portallocator.go.

import dgram from "node:dgram";

/** Docker's default range for `-P` (portallocator's DefaultPortRangeStart/End). */
export const defaultEphemeralRange = { start: 49153, end: 60999 };

/** True when `port` can be bound right now on `hostIp` for `protocol`. */
export async function isHostPortFree(
  protocol: "tcp" | "udp",
  hostIp: string,
  port: number,
): Promise<boolean> {
  if (protocol === "tcp") {
    try {
      Deno.listen({ hostname: hostIp, port }).close();
      return true;
    } catch {
      return false;
    }
  }
  const socket = dgram.createSocket("udp4");
  try {
    return await new Promise<boolean>((resolve) => {
      socket.once("error", () => resolve(false));
      socket.bind(port, hostIp, () => resolve(true));
    });
  } finally {
    try {
      socket.close();
    } catch {
      // never bound
    }
  }
}

/** Hands out host ports; one allocator per daemon. */
export class HostPortAllocator {
  #taken = new Set<string>();
  #next: number;

  constructor(readonly range = defaultEphemeralRange) {
    // Docker starts at the bottom of the range; mini starts at a random place in it, so
    // that several daemons on one machine (tests, or a restarted daemon whose proxies
    // died with its predecessor) do not all reach for 49153 first.
    this.#next = range.start + Math.floor(Math.random() * (range.end - range.start + 1));
  }

  // Keyed on protocol and port only: 0.0.0.0:P and 127.0.0.1:P cannot both be bound.
  #key(protocol: string, port: number): string {
    return `${protocol}/${port}`;
  }

  /**
   * Takes `port` (or, when 0, a free port from the ephemeral range) for `protocol` on
   * `hostIp`; with `lastPort` above `port`, the first free port of port..lastPort.
   */
  async reserve(
    protocol: "tcp" | "udp",
    hostIp: string,
    port: number,
    lastPort = port,
  ): Promise<number> {
    if (port !== 0 && lastPort > port) {
      return await this.#reserveInRange(protocol, hostIp, port, lastPort);
    }
    if (port !== 0) {
      const key = this.#key(protocol, port);
      if (this.#taken.has(key) || !await isHostPortFree(protocol, hostIp, port)) {
        throw new Error(
          `Bind for ${hostIp}:${port} failed: port is already allocated (choose another host ` +
            "port, or -P for any free one)",
        );
      }
      this.#taken.add(key);
      return port;
    }
    const size = this.range.end - this.range.start + 1;
    for (let tried = 0; tried < size; tried++) {
      const candidate = this.#next;
      this.#next = candidate >= this.range.end ? this.range.start : candidate + 1;
      if (await this.#tryReserve(protocol, hostIp, candidate)) return candidate;
    }
    throw new Error(
      `no free host port left in ${this.range.start}-${this.range.end} for ${protocol}`,
    );
  }

  // Takes `port` unless we or the kernel already use it.
  async #tryReserve(protocol: "tcp" | "udp", hostIp: string, port: number): Promise<boolean> {
    const key = this.#key(protocol, port);
    if (this.#taken.has(key)) return false;
    this.#taken.add(key); // hold it while asking the kernel
    if (await isHostPortFree(protocol, hostIp, port)) return true;
    this.#taken.delete(key);
    return false;
  }

  // An explicit host range (`-p 8000-8010:80`): the lowest free port in it, as moby's
  // portallocator does for a range it was given.
  async #reserveInRange(
    protocol: "tcp" | "udp",
    hostIp: string,
    first: number,
    last: number,
  ): Promise<number> {
    for (let candidate = first; candidate <= last; candidate++) {
      if (await this.#tryReserve(protocol, hostIp, candidate)) return candidate;
    }
    throw new Error(
      `Bind for ${hostIp}:${first}-${last} failed: every port of the range is already ` +
        "allocated (choose another range, or -P for any free port)",
    );
  }

  /** Marks a port as taken without checking (recovery of mappings that still run). */
  claim(protocol: "tcp" | "udp", port: number): void {
    this.#taken.add(this.#key(protocol, port));
  }

  /** Gives a port back. */
  release(protocol: "tcp" | "udp", port: number): void {
    this.#taken.delete(this.#key(protocol, port));
  }
}
