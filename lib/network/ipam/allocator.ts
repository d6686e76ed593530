// What this teaches: IP address management is bookkeeping that must never be wrong.
// Each network owns a *pool* (a subnet and its gateway); each container endpoint takes
// one free address from it and gives it back on removal. The book lives in one JSON
// file, changed only as read-modify-write under an exclusive flock, and replaced by an
// atomic rename, so that concurrent allocators in separate processes never hand out the
// same address, a crash never leaves half a file, and allocations survive restarts.
// Mirrors libnetwork's ipam/allocator.go (RequestPool, RequestAddress, ReleaseAddress)
// and its default address pools (ipamutils), with a file instead of a bitmap in boltdb.
//
// Addresses are handed out lowest-free-first; Docker instead continues after the last
// one it gave (so a just-released address is reused last). Lowest-first is easier to
// reason about and to test; a stale ARP entry for a reused address ages out in seconds.

import { writeJsonAtomically } from "../atomic_write.ts";
import { withFileLock } from "./file_lock.ts";
import {
  broadcastAddress,
  formatIPv4,
  formatSubnet,
  parseIPv4,
  parseSubnet,
  type Subnet,
  subnetContains,
  subnetsOverlap,
} from "../ipv4.ts";
import type { AddressPool } from "../types.ts";

/** One network's pool in the book. */
export interface PoolRecord {
  subnet: string;
  gateway: string;
  /** address → owner (an endpoint ID, or whatever the caller names its holder). */
  allocations: Record<string, string>;
}

interface IpamFile {
  version: 1;
  pools: Record<string, PoolRecord>;
}

/** What a pool request may pin down; everything else comes from the default pools. */
export interface PoolRequest {
  subnet?: string;
  gateway?: string;
  /** Where to carve a subnet from when none is given. */
  defaultPools?: AddressPool[];
  /** Subnets in use outside IPAM (the host's routes): never overlap them. */
  avoid?: Subnet[];
}

/** An address handed out: the address and its subnet's prefix length and gateway. */
export interface AddressLease {
  address: string;
  prefixLength: number;
  gateway: string;
}

/** An IPAM error the API layer can map to a status (conflict, exhausted, bad input). */
export class IpamError extends Error {
  constructor(readonly kind: "invalid" | "conflict" | "exhausted" | "not_found", message: string) {
    super(message);
    this.name = "IpamError";
  }
}

/** A persistent, multi-process-safe address allocator over one JSON file. */
export class AddressAllocator {
  readonly lockPath: string;

  constructor(readonly statePath: string) {
    this.lockPath = `${statePath}.lock`;
  }

  /** A consistent snapshot of every pool (a reader never sees half a write: rename is atomic). */
  pools(): Record<string, PoolRecord> {
    return this.#read().pools;
  }

  /**
   * Registers pool `poolId` (idempotent for the same subnet) and returns its subnet and
   * gateway. Without a subnet, the first free one from `defaultPools` is taken.
   */
  requestPool(poolId: string, request: PoolRequest = {}): Promise<PoolRecord> {
    return this.#change((book) => {
      const existing = book.pools[poolId];
      if (existing) {
        if (request.subnet && formatSubnet(parseSubnet(request.subnet)) !== existing.subnet) {
          throw new IpamError(
            "conflict",
            `pool ${poolId} already has subnet ${existing.subnet}, not ${request.subnet}`,
          );
        }
        return existing;
      }
      const taken = Object.entries(book.pools).map(([id, pool]) => ({
        id,
        subnet: parseSubnet(pool.subnet),
      }));
      const subnet = request.subnet
        ? this.#checkRequestedSubnet(request.subnet, taken, request.avoid ?? [])
        : this.#pickSubnet(request.defaultPools ?? [], taken, request.avoid ?? []);
      const gateway = this.#gatewayFor(subnet, request.gateway);
      const pool: PoolRecord = {
        subnet: formatSubnet(subnet),
        gateway: formatIPv4(gateway),
        allocations: {},
      };
      book.pools[poolId] = pool;
      return pool;
    });
  }

  /** Forgets a pool; refuses while addresses are still allocated from it. */
  releasePool(poolId: string, options: { force?: boolean } = {}): Promise<void> {
    return this.#change((book) => {
      const pool = book.pools[poolId];
      if (!pool) return;
      const holders = Object.values(pool.allocations);
      if (holders.length > 0 && !options.force) {
        throw new IpamError(
          "conflict",
          `pool ${poolId} (${pool.subnet}) still has ${holders.length} address(es) allocated`,
        );
      }
      delete book.pools[poolId];
    });
  }

  /**
   * Hands `owner` an address from pool `poolId`: `preferred` if given and free, else
   * the lowest free one. Never the network, broadcast or gateway address.
   */
  requestAddress(poolId: string, owner: string, preferred?: string): Promise<AddressLease> {
    return this.#change((book) => {
      const pool = book.pools[poolId];
      if (!pool) throw new IpamError("not_found", `no address pool ${poolId}`);
      const subnet = parseSubnet(pool.subnet);
      const gateway = parseIPv4(pool.gateway);
      const lease = (address: number): AddressLease => {
        pool.allocations[formatIPv4(address)] = owner;
        return {
          address: formatIPv4(address),
          prefixLength: subnet.prefixLength,
          gateway: pool.gateway,
        };
      };
      if (preferred !== undefined) {
        const address = parseIPv4(preferred);
        if (!this.#usable(subnet, address) || address === gateway) {
          throw new IpamError(
            "invalid",
            `${preferred} is not a usable address of ${pool.subnet} (gateway ${pool.gateway})`,
          );
        }
        const holder = pool.allocations[formatIPv4(address)];
        if (holder !== undefined && holder !== owner) {
          throw new IpamError("conflict", `address ${preferred} is already in use`);
        }
        return lease(address);
      }
      const last = broadcastAddress(subnet);
      for (let address = subnet.network + 1; address < last; address++) {
        if (address === gateway) continue;
        if (pool.allocations[formatIPv4(address)] === undefined) return lease(address);
      }
      throw new IpamError(
        "exhausted",
        `no free address left in ${pool.subnet}: remove containers from this network`,
      );
    });
  }

  /** Gives an address back (unknown addresses are ignored: release is idempotent). */
  releaseAddress(poolId: string, address: string): Promise<void> {
    return this.#change((book) => {
      const pool = book.pools[poolId];
      if (pool) delete pool.allocations[formatIPv4(parseIPv4(address))];
    });
  }

  /** Releases every address for which `release` says yes (crash recovery); returns how many. */
  releaseWhere(release: (owner: string, poolId: string) => boolean): Promise<number> {
    return this.#change((book) => {
      let released = 0;
      for (const [poolId, pool] of Object.entries(book.pools)) {
        for (const [address, owner] of Object.entries(pool.allocations)) {
          if (release(owner, poolId)) {
            delete pool.allocations[address];
            released++;
          }
        }
      }
      return released;
    });
  }

  #usable(subnet: Subnet, address: number): boolean {
    if (!subnetContains(subnet, address)) return false;
    if (subnet.prefixLength >= 31) return true;
    return address !== subnet.network && address !== broadcastAddress(subnet);
  }

  #checkRequestedSubnet(
    text: string,
    taken: { id: string; subnet: Subnet }[],
    avoid: Subnet[],
  ): Subnet {
    let subnet: Subnet;
    try {
      subnet = parseSubnet(text);
    } catch (error) {
      throw new IpamError("invalid", (error as Error).message);
    }
    if (subnet.prefixLength > 30) {
      throw new IpamError(
        "invalid",
        `subnet ${text} is too small (use a prefix of /30 or shorter)`,
      );
    }
    const clash = taken.find((entry) => subnetsOverlap(entry.subnet, subnet));
    if (clash) {
      throw new IpamError(
        "conflict",
        `subnet ${text} overlaps ${formatSubnet(clash.subnet)} of network ${clash.id}`,
      );
    }
    const route = avoid.find((entry) => subnetsOverlap(entry, subnet));
    if (route) {
      throw new IpamError(
        "conflict",
        `subnet ${text} overlaps the host route ${formatSubnet(route)}: choose another subnet`,
      );
    }
    return subnet;
  }

  #pickSubnet(
    defaults: AddressPool[],
    taken: { id: string; subnet: Subnet }[],
    avoid: Subnet[],
  ): Subnet {
    for (const pool of defaults) {
      const base = parseSubnet(pool.base);
      if (pool.size < base.prefixLength || pool.size > 30) continue;
      const count = 2 ** (pool.size - base.prefixLength);
      const step = 2 ** (32 - pool.size);
      for (let index = 0; index < count; index++) {
        const candidate = { network: (base.network + index * step) >>> 0, prefixLength: pool.size };
        const busy = taken.some((entry) => subnetsOverlap(entry.subnet, candidate)) ||
          avoid.some((entry) => subnetsOverlap(entry, candidate));
        if (!busy) return candidate;
      }
    }
    throw new IpamError(
      "exhausted",
      "all predefined address pools are in use: remove unused networks or add " +
        '"default-address-pools" to daemon.json',
    );
  }

  #gatewayFor(subnet: Subnet, requested?: string): number {
    if (requested === undefined || requested === "") return subnet.network + 1;
    let gateway: number;
    try {
      gateway = parseIPv4(requested);
    } catch (error) {
      throw new IpamError("invalid", (error as Error).message);
    }
    if (!this.#usable(subnet, gateway)) {
      throw new IpamError(
        "invalid",
        `gateway ${requested} is not a usable address of subnet ${formatSubnet(subnet)}`,
      );
    }
    return gateway;
  }

  #read(): IpamFile {
    try {
      const parsed = JSON.parse(Deno.readTextFileSync(this.statePath)) as IpamFile;
      if (parsed.version !== 1 || typeof parsed.pools !== "object") {
        throw new Error(`unexpected content (version ${parsed.version})`);
      }
      return parsed;
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return { version: 1, pools: {} };
      throw new Error(
        `cannot read the IPAM state ${this.statePath}: ${(error as Error).message}; ` +
          "restore it from a backup or remove it (all addresses will be considered free)",
      );
    }
  }

  /** Read, change, write, all under the file lock. The change runs synchronously. */
  #change<T>(change: (book: IpamFile) => T): Promise<T> {
    return withFileLock(this.lockPath, () => {
      const book = this.#read();
      const result = change(book);
      writeJsonAtomically(this.statePath, book);
      return result;
    });
  }
}
