// What this teaches: how dockerd sits on top of libnetwork. The engine does not build
// bridges or veths itself: at start it opens one network controller with the settings
// from daemon.json ("bridge", "bip", "default-address-pools") and its own state
// directories (`<data-root>/network/` for what must survive a restart: networks, the
// IPAM book, sandbox records; `<exec-root>/netns/` for the namespace handles), and from
// then on translates API objects into controller calls and controller records back into
// the JSON the docker CLI expects (`docker network ls`, `network inspect`, the
// NetworkSettings of a container). The built-in networks are `bridge` (a Linux bridge,
// mini0 unless daemon.json names another), `host` and `none`; `"bridge": "none"` leaves
// out the first, and containers then default to `none`.
// What happens is logged for `docker events`, always with the network's ID as the actor
// and its name and driver ("type": bridge, host, null) as attributes: `create`,
// `destroy` (also for each network a prune removes), one `prune`, and `connect` /
// `disconnect` with the container's ID whenever a container's endpoint really joins or
// leaves a network: at its start and stop, and on `network connect/disconnect` while it
// runs (a stopped container only has its settings changed: no event). The container code
// therefore goes through this class's createSandbox/removeSandbox/connect/disconnect.
// Mirrors moby's daemon/daemon_unix.go (initNetworkController, configureNetworking),
// daemon/network.go (CreateNetwork, DeleteNetwork, GetNetworks), daemon/events.go
// (LogNetworkEvent), daemon/container_operations.go (connectToNetwork,
// tryDetachContainerFromClusterNetwork), daemon/prune.go (NetworkPrune) and
// api/types/network's NetworkResource.

import { join } from "node:path";
import { ApiError } from "../../api/errors.ts";
import { NetworkController, networkDefaults } from "../../network/controller.ts";
import type {
  CreateSandboxRequest,
  EndpointRecord,
  NetworkAttachmentRequest,
  NetworkRecord,
  RecoveryReport,
  SandboxRecord,
} from "../../network/mod.ts";
import type { DockerdConfig } from "../config.ts";
import type { EventsService } from "../events.ts";
import type { DaemonPaths } from "../paths.ts";
import { badParameter, EngineError, notFoundError } from "../server/errors.ts";

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
  Containers: Record<string, NetworkContainer>;
  Options: Record<string, string>;
  Labels: Record<string, string>;
}

/** One entry of a network's `Containers` map. */
export interface NetworkContainer {
  Name: string;
  EndpointID: string;
  MacAddress: string;
  IPv4Address: string;
  IPv6Address: string;
}

/** The body of `POST /networks/create` (the parts mini reads). */
export interface NetworkCreateBody {
  Name?: string;
  Driver?: string;
  Internal?: boolean;
  EnableIPv6?: boolean;
  IPAM?: { Driver?: string; Config?: { Subnet?: string; Gateway?: string; IPRange?: string }[] };
  Options?: Record<string, string> | null;
  Labels?: Record<string, string> | null;
}

/** The options `docker network inspect bridge` shows for the default bridge. */
function defaultBridgeOptions(
  bridgeName: string,
  mtu: number,
  hostBindingIp: string,
): Record<string, string> {
  return {
    "com.docker.network.bridge.default_bridge": "true",
    "com.docker.network.bridge.enable_icc": "true",
    "com.docker.network.bridge.enable_ip_masquerade": "false",
    "com.docker.network.bridge.host_binding_ipv4": hostBindingIp,
    "com.docker.network.bridge.name": bridgeName,
    "com.docker.network.driver.mtu": String(mtu),
  };
}

/** Translates controller errors (containerd-style kinds) into Engine API errors. */
export function engineErrorFrom(error: unknown): unknown {
  if (!(error instanceof ApiError)) return error;
  const status = {
    invalid_argument: 400,
    not_found: 404,
    already_exists: 409,
    failed_precondition: 403,
    resource_exhausted: 503,
  }[error.code as string] ?? 500;
  return new EngineError(status, error.message);
}

/** The daemon's networks: one NetworkController and its API view. */
export class DaemonNetworks {
  #events?: EventsService;

  /** Containers whose sandbox is being removed (the exit monitor and `rm -f` can race). */
  readonly #removing = new Set<string>();

  private constructor(readonly controller: NetworkController) {}

  /** Sends network events to the daemon's event log from now on (the daemon calls this at start). */
  useEvents(events: EventsService): void {
    this.#events = events;
  }

  /** Logs a network event (moby's LogNetworkEventWithAttributes). */
  #logEvent(network: NetworkRecord | string, action: string, containerId?: string): void {
    if (!this.#events) return;
    const record = typeof network === "string" ? this.controller.findNetwork(network) : network;
    if (!record) return;
    const attributes: Record<string, string> = {};
    if (containerId !== undefined) attributes.container = containerId;
    attributes.name = record.name;
    attributes.type = record.driver;
    this.#events.log("network", action, record.id, attributes);
  }

  /** Gives a starting container its network namespace and endpoints; logs `connect`s. */
  async createSandbox(request: CreateSandboxRequest): Promise<SandboxRecord> {
    const sandbox = await this.controller.createSandbox(request);
    for (const networkId of this.#networksOf(sandbox)) {
      this.#logEvent(networkId, "connect", sandbox.containerId);
    }
    return sandbox;
  }

  /** Tears down a stopped container's sandbox; logs a `disconnect` per network it was on. */
  async removeSandbox(containerId: string): Promise<void> {
    const sandbox = this.controller.sandbox(containerId);
    if (!sandbox || this.#removing.has(containerId)) {
      await this.controller.removeSandbox(containerId);
      return;
    }
    // Read before the removal, which empties the record's endpoints.
    const networkIds = this.#networksOf(sandbox);
    this.#removing.add(containerId);
    try {
      await this.controller.removeSandbox(containerId);
    } finally {
      this.#removing.delete(containerId);
    }
    for (const networkId of networkIds) {
      this.#logEvent(networkId, "disconnect", containerId);
    }
  }

  /** Joins a running container to one more network (`network connect`). */
  async connect(containerId: string, request: NetworkAttachmentRequest): Promise<EndpointRecord> {
    const endpoint = await this.controller.connect(containerId, request);
    this.#logEvent(endpoint.networkId, "connect", containerId);
    return endpoint;
  }

  /** Takes a running container off a network (`network disconnect`). */
  async disconnect(containerId: string, idOrName: string): Promise<void> {
    const networkId = this.controller.findNetwork(idOrName)?.id;
    await this.controller.disconnect(containerId, idOrName);
    if (networkId !== undefined) this.#logEvent(networkId, "disconnect", containerId);
  }

  /** The networks a sandbox is on: its endpoints' (bridge), or the one host/null network. */
  #networksOf(sandbox: SandboxRecord): string[] {
    if (sandbox.mode === "bridge") return sandbox.endpoints.map((endpoint) => endpoint.networkId);
    const driver = sandbox.mode === "host" ? "host" : "null";
    const network = this.controller.networks().find((record) => record.driver === driver);
    return network ? [network.id] : [];
  }

  /** Opens the controller with daemon.json's settings (creates the default bridge). */
  static async open(config: DockerdConfig, paths: DaemonPaths): Promise<DaemonNetworks> {
    const controller = await NetworkController.open({
      stateDir: join(paths.dataRoot, "network"),
      runDir: paths.execRoot,
      bridge: config.bridge === "" ? undefined : config.bridge,
      bip: config.bip,
      defaultHostIp: config.ip,
      defaultAddressPools: config.defaultAddressPools.length > 0
        ? config.defaultAddressPools
        : undefined,
    }).catch((error) => {
      throw new Error(`cannot set up networking: ${(error as Error).message}`);
    });
    return new DaemonNetworks(controller);
  }

  /** Start-up cleanup: keeps the sandboxes of containers `isRunning` says still run. */
  recover(isRunning: (containerId: string) => boolean): Promise<RecoveryReport> {
    return this.controller.recover(isRunning);
  }

  /** Closes the controller's netlink socket (shutdown). */
  close(): void {
    this.controller.close();
  }

  /** True unless daemon.json says `"bridge": "none"`. */
  hasDefaultBridge(): boolean {
    return this.controller.findNetwork("bridge")?.predefined === true;
  }

  /** The network a container with NetworkMode "default" joins. */
  defaultNetworkName(): "bridge" | "none" {
    return this.hasDefaultBridge() ? "bridge" : "none";
  }

  /** A network record by name, ID or unique ID prefix; 404 "network X not found". */
  record(idOrName: string): NetworkRecord {
    const record = this.controller.findNetwork(idOrName);
    if (!record) throw notFoundError(`network ${idOrName} not found`);
    return record;
  }

  /** Every network as the API shows it. */
  list(): NetworkResource[] {
    return this.controller.networks().map((record) => this.resource(record));
  }

  /** One network as the API shows it; 404 when unknown. */
  get(idOrName: string): NetworkResource {
    return this.resource(this.record(idOrName));
  }

  /** True when a user-defined network has no container attached. */
  isDangling(record: NetworkRecord): boolean {
    return !record.predefined && this.controller.members(record.id).length === 0;
  }

  /** The API view of a record, with the containers attached now. */
  resource(record: NetworkRecord): NetworkResource {
    const containers: Record<string, NetworkContainer> = {};
    for (const member of this.controller.members(record.id)) {
      containers[member.containerId] = {
        Name: member.containerName,
        EndpointID: member.endpoint.id,
        MacAddress: member.endpoint.macAddress,
        IPv4Address: `${member.endpoint.ipAddress}/${member.endpoint.prefixLength}`,
        IPv6Address: "",
      };
    }
    const isDefaultBridge = record.predefined && record.driver === "bridge";
    return {
      Name: record.name,
      Id: record.id,
      Created: record.created,
      Scope: "local",
      Driver: record.driver,
      EnableIPv6: false,
      IPAM: {
        Driver: "default",
        Options: isDefaultBridge ? null : {},
        Config: record.subnet ? [{ Subnet: record.subnet, Gateway: record.gateway ?? "" }] : [],
      },
      Internal: record.internal,
      Attachable: false,
      Ingress: false,
      ConfigFrom: { Network: "" },
      ConfigOnly: false,
      Containers: containers,
      Options: isDefaultBridge
        ? defaultBridgeOptions(
          record.bridgeName ?? networkDefaults.bridge,
          this.controller.config.mtu ?? 1500,
          this.controller.config.defaultHostIp ?? "127.0.0.1",
        )
        : { ...record.options },
      Labels: { ...record.labels },
    };
  }

  /** `POST /networks/create`: a user-defined bridge network. */
  async create(body: NetworkCreateBody): Promise<{ Id: string; Warning: string }> {
    if (typeof body !== "object" || body === null) badRequest("the request body must be JSON");
    const name = body.Name ?? "";
    if (name === "") badRequest("network name must not be empty (docker network create NAME)");
    if (body.EnableIPv6) badRequest("IPv6 networks are not supported by mini-dockerd");
    const configs = body.IPAM?.Config ?? [];
    if (configs.length > 1) {
      badRequest("mini-dockerd networks have one subnet: give --subnet at most once");
    }
    if (configs[0]?.IPRange) badRequest("--ip-range is not supported by mini-dockerd");
    try {
      const record = await this.controller.createNetwork({
        name,
        driver: body.Driver || "bridge",
        subnet: configs[0]?.Subnet || undefined,
        gateway: configs[0]?.Gateway || undefined,
        internal: body.Internal ?? false,
        labels: body.Labels ?? {},
        options: body.Options ?? {},
      });
      this.#logEvent(record, "create");
      return { Id: record.id, Warning: "" };
    } catch (error) {
      throw engineErrorFrom(error);
    }
  }

  /** `DELETE /networks/{id}`: 403 for built-in networks and networks in use. */
  async remove(idOrName: string): Promise<void> {
    const record = this.record(idOrName);
    try {
      await this.controller.removeNetwork(record.id);
    } catch (error) {
      throw engineErrorFrom(error);
    }
    this.#logEvent(record, "destroy");
  }

  /** `POST /networks/prune`: removes every user-defined network no container uses. */
  async prune(): Promise<string[]> {
    const removed: string[] = [];
    for (const record of this.controller.networks()) {
      if (!this.isDangling(record)) continue;
      try {
        await this.controller.removeNetwork(record.id);
        removed.push(record.name);
      } catch {
        /* became used meanwhile */
        continue;
      }
      this.#logEvent(record, "destroy");
    }
    // Bridges free no disk space: dockerd reports 0 too.
    this.#events?.log("network", "prune", "", { reclaimed: "0" });
    return removed;
  }
}

function badRequest(message: string): never {
  throw badParameter(message);
}
