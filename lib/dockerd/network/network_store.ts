// What this teaches: every Docker engine starts with three predefined networks, and
// `docker network ls` shows them even before any container exists: `none` (driver
// "null": a container with only a loopback interface), `host` (driver "host": the
// container shares the host's network namespace) and `bridge` (driver "bridge": the
// default docker0 bridge with its 172.17.0.0/16 subnet). daemon.json's `"bridge":
// "none"` disables the default bridge, leaving only the other two. Their IDs are
// random 64-hex strings created once and kept, so they stay the same across restarts.
// The bridge itself (the device, NAT, addresses) belongs to the networking component;
// this store only holds the records the API shows.
// Mirrors moby's daemon/daemon_unix.go (initNetworkController, initBridgeDriver) and
// libnetwork's predefined networks as `docker network inspect` prints them.

import { join } from "node:path";
import { randomHexId } from "../layer/short_id.ts";
import { notFoundError } from "../server/errors.ts";

/** A network as `GET /networks` shows it (moby's types.NetworkResource). */
export interface NetworkResource {
  Name: string;
  Id: string;
  Created: string;
  Scope: string;
  Driver: string;
  EnableIPv6: boolean;
  IPAM: {
    Driver: string;
    Options: Record<string, string> | null;
    Config: Record<string, string>[];
  };
  Internal: boolean;
  Attachable: boolean;
  Ingress: boolean;
  ConfigFrom: { Network: string };
  ConfigOnly: boolean;
  Containers: Record<string, unknown>;
  Options: Record<string, string>;
  Labels: Record<string, string>;
}

interface StoredNetwork {
  name: string;
  id: string;
  created: string;
}

/** Options of the predefined networks. */
export interface NetworkOptions {
  /** daemon.json "bridge": "none" disables the default bridge; "" means docker0. */
  bridge: string;
  /** daemon.json "bip": the bridge's address and prefix, default 172.17.0.1/16. */
  bip?: string;
}

/** Subnet and gateway from a `bip` like 172.17.0.1/16. */
export function bridgeSubnet(bip: string | undefined): { subnet: string; gateway?: string } {
  if (!bip) return { subnet: "172.17.0.0/16" };
  const [address, prefixText] = bip.split("/");
  const prefix = Number(prefixText ?? "16");
  const octets = address.split(".").map(Number);
  const value = ((octets[0] << 24) >>> 0) + (octets[1] << 16) + (octets[2] << 8) + octets[3];
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  const network = (value & mask) >>> 0;
  const text = [24, 16, 8, 0].map((shift) => (network >>> shift) & 255).join(".");
  return { subnet: `${text}/${prefix}`, gateway: address };
}

/** The predefined networks and their stable IDs, in `<data-root>/network/files/networks.json`. */
export class NetworkStore {
  #records: StoredNetwork[] = [];

  private constructor(readonly path: string, private readonly options: NetworkOptions) {}

  static async open(dataRoot: string, options: NetworkOptions): Promise<NetworkStore> {
    const dir = join(dataRoot, "network", "files");
    await Deno.mkdir(dir, { recursive: true });
    const store = new NetworkStore(join(dir, "networks.json"), options);
    try {
      store.#records = JSON.parse(await Deno.readTextFile(store.path));
    } catch { /* first start */ }
    const wanted = ["none", "host", ...(options.bridge === "none" ? [] : ["bridge"])];
    let changed = false;
    for (const name of wanted) {
      if (!store.#records.some((record) => record.name === name)) {
        store.#records.push({ name, id: randomHexId(), created: new Date().toISOString() });
        changed = true;
      }
    }
    if (changed) await Deno.writeTextFile(store.path, JSON.stringify(store.#records));
    return store;
  }

  /** The networks the API shows now. */
  list(): NetworkResource[] {
    return this.#records
      .filter((record) => record.name !== "bridge" || this.options.bridge !== "none")
      .map((record) => this.#resource(record));
  }

  /** A network by full ID, unique ID prefix or name; 404 "network X not found" otherwise. */
  get(idOrName: string): NetworkResource {
    const networks = this.list();
    const found = networks.find((network) => network.Id === idOrName) ??
      networks.find((network) => network.Name === idOrName) ??
      (idOrName.length > 0
        ? onlyOne(networks.filter((network) => network.Id.startsWith(idOrName)))
        : undefined);
    if (!found) throw notFoundError(`network ${idOrName} not found`);
    return found;
  }

  #resource(record: StoredNetwork): NetworkResource {
    const driver = record.name === "none" ? "null" : record.name;
    const base: NetworkResource = {
      Name: record.name,
      Id: record.id,
      Created: record.created,
      Scope: "local",
      Driver: driver,
      EnableIPv6: false,
      IPAM: { Driver: "default", Options: null, Config: [] },
      Internal: false,
      Attachable: false,
      Ingress: false,
      ConfigFrom: { Network: "" },
      ConfigOnly: false,
      Containers: {},
      Options: {},
      Labels: {},
    };
    if (record.name !== "bridge") return base;
    const { subnet, gateway } = bridgeSubnet(this.options.bip);
    base.IPAM.Config = [gateway ? { Subnet: subnet, Gateway: gateway } : { Subnet: subnet }];
    base.Options = {
      "com.docker.network.bridge.default_bridge": "true",
      "com.docker.network.bridge.enable_icc": "true",
      "com.docker.network.bridge.enable_ip_masquerade": "true",
      "com.docker.network.bridge.host_binding_ipv4": "0.0.0.0",
      "com.docker.network.bridge.name": this.options.bridge || "docker0",
      "com.docker.network.driver.mtu": "1500",
    };
    return base;
  }
}

function onlyOne<T>(items: T[]): T | undefined {
  return items.length === 1 ? items[0] : undefined;
}
