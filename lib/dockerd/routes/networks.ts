// What this teaches: the network endpoints `docker network ls` and `docker network
// inspect` use, over the predefined networks (none, host and, unless daemon.json says
// "bridge": "none", bridge). Creating networks belongs to the networking component;
// until it exists those calls answer 501. The predefined networks cannot be removed.
// Mirrors moby's api/server/router/network/network_routes.go (getNetworksList,
// getNetwork, deleteNetwork) and its filter handling (network/filter.go).

import type { Daemon } from "../daemon.ts";
import type { NetworkResource } from "../network/network_store.ts";
import { badParameter, EngineError, notImplementedError } from "../server/errors.ts";
import type { EngineRouter } from "../server/router.ts";
import type { EngineModule } from "../types.ts";

const acceptedFilters = ["driver", "id", "label", "name", "scope", "type", "dangling"];

/** Applies `docker network ls --filter` to the networks. */
export function filterNetworks(
  networks: NetworkResource[],
  filters: Map<string, string[]>,
): NetworkResource[] {
  for (const name of filters.keys()) {
    if (!acceptedFilters.includes(name)) throw badParameter(`invalid filter '${name}'`);
  }
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
            // All three are predefined ("builtin"); user networks come with networking.
            if (value !== "builtin" && value !== "custom") {
              throw badParameter(`invalid filter: 'type'='${value}'`);
            }
            return value === "builtin";
          case "label": {
            const [key, expected] = value.split("=", 2);
            return expected === undefined
              ? key in network.Labels
              : network.Labels[key] === expected;
          }
          case "dangling":
            return false;
        }
        return true;
      });
      if (!ok) return false;
    }
    return true;
  });
}

/** The network endpoints. */
export const networksModule: EngineModule = {
  name: "networks",
  register(router: EngineRouter, daemon: Daemon) {
    router.get("/networks", (request) => filterNetworks(daemon.networks.list(), request.filters()));
    router.get("/networks/{id}", (request) => daemon.networks.get(request.param("id")));
    router.delete("/networks/{id}", (request) => {
      const network = daemon.networks.get(request.param("id"));
      throw new EngineError(403, `${network.Name} is a pre-defined network and cannot be removed`);
    });
    router.post("/networks/prune", () => ({ NetworksDeleted: null }));
    router.fallback("POST", "/networks/create", () => {
      throw notImplementedError("creating networks is not supported by mini-dockerd yet");
    });
    router.fallback("POST", "/networks/{id}/connect", () => {
      throw notImplementedError(
        "connecting containers to networks is not supported by mini-dockerd yet",
      );
    });
    router.fallback("POST", "/networks/{id}/disconnect", () => {
      throw notImplementedError(
        "disconnecting containers from networks is not supported by mini-dockerd yet",
      );
    });
  },
};
