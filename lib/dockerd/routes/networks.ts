// What this teaches: the network endpoints of the Engine API, as thin handlers over the
// daemon's network controller (lib/dockerd/network/daemon_networks.ts): `docker network
// ls` (with its filters), `inspect`, `create` (a user-defined bridge network with its own
// Linux bridge and subnet), `rm` (refused for the built-in networks and for networks
// containers still use), `prune`, and `connect`/`disconnect`, which add or remove one
// veth and address while a container runs, and are remembered for its next starts.
// Mirrors moby's api/server/router/network/network_routes.go (getNetworksList,
// getNetwork, postNetworkCreate, postNetworkConnect, postNetworkDisconnect,
// deleteNetwork, postNetworksPrune) and its filter handling (network/filter.go).

import type { Daemon } from "../daemon.ts";
import type { Container } from "../containers/container.ts";
import { connectContainer, disconnectContainer } from "../containers/networking.ts";
import { containerServiceOf } from "./containers.ts";
import type { NetworkCreateBody, NetworkResource } from "../network/daemon_networks.ts";
import { badParameter, notFoundError } from "../server/errors.ts";
import type { EngineRouter } from "../server/router.ts";
import type { EngineModule } from "../types.ts";

const acceptedFilters = ["driver", "id", "label", "name", "scope", "type", "dangling"];
const builtinNames = ["bridge", "host", "none"];

/** Applies `docker network ls --filter` to the networks. */
export function filterNetworks(
  networks: NetworkResource[],
  filters: Map<string, string[]>,
): NetworkResource[] {
  for (const name of filters.keys()) {
    if (!acceptedFilters.includes(name)) throw badParameter(`invalid filter '${name}'`);
  }
  const isBuiltin = (network: NetworkResource) =>
    builtinNames.includes(network.Name) && network.Driver !== "bridge" ||
    network.Options["com.docker.network.bridge.default_bridge"] === "true";
  return networks.filter((network) => {
    for (const [name, values] of filters) {
      if (values.length === 0) continue;
      const ok = values.some((value) => {
        switch (name) {
          case "driver":
            return network.Driver === value;
          case "id":
            return network.Id.startsWith(value);
          case "name":
            return network.Name.includes(value);
          case "scope":
            return network.Scope === value;
          case "type":
            if (value !== "builtin" && value !== "custom") {
              throw badParameter(`invalid filter: 'type'='${value}'`);
            }
            return (value === "builtin") === isBuiltin(network);
          case "label": {
            const [key, expected] = value.split("=", 2);
            return expected === undefined
              ? key in network.Labels
              : network.Labels[key] === expected;
          }
          case "dangling": {
            const dangling = !isBuiltin(network) && Object.keys(network.Containers).length === 0;
            return (value === "true" || value === "1") === dangling;
          }
        }
        return true;
      });
      if (!ok) return false;
    }
    return true;
  });
}

interface ConnectBody {
  Container?: string;
  EndpointConfig?: {
    IPAMConfig?: { IPv4Address?: string } | null;
    Aliases?: string[] | null;
  } | null;
  Force?: boolean;
}

/** The container a connect/disconnect body names; 404 otherwise. */
function containerOf(daemon: Daemon, body: ConnectBody): Container {
  const reference = body?.Container ?? "";
  if (reference === "") throw badParameter("no container given (Container is empty)");
  const service = containerServiceOf(daemon);
  if (!service) throw notFoundError(`No such container: ${reference}`);
  return service.get(reference);
}

/** The network endpoints. */
export const networksModule: EngineModule = {
  name: "networks",
  register(router: EngineRouter, daemon: Daemon) {
    const networks = () => daemon.networks;
    router.get("/networks", (request) => filterNetworks(networks().list(), request.filters()));
    router.get("/networks/{id}", (request) => networks().get(request.param("id")));
    router.post("/networks/create", async (request) => {
      const body = await request.json<NetworkCreateBody>();
      request.reply.json(await networks().create(body), 201);
    });
    router.delete("/networks/{id}", async (request) => {
      await networks().remove(request.param("id"));
    });
    router.post("/networks/prune", async () => {
      const removed = await networks().prune();
      return { NetworksDeleted: removed.length > 0 ? removed : null };
    });
    router.post("/networks/{id}/connect", async (request) => {
      const body = await request.json<ConnectBody>();
      const container = containerOf(daemon, body);
      await container.lock.run(() =>
        connectContainer(containerServiceOf(daemon)!, container, request.param("id"), {
          aliases: body.EndpointConfig?.Aliases ?? undefined,
          ipAddress: body.EndpointConfig?.IPAMConfig?.IPv4Address || undefined,
        })
      );
    });
    router.post("/networks/{id}/disconnect", async (request) => {
      const body = await request.json<ConnectBody>();
      const container = containerOf(daemon, body);
      await container.lock.run(() =>
        disconnectContainer(containerServiceOf(daemon)!, container, request.param("id"))
      );
    });
  },
};
