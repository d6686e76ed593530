// What this teaches: a daemon that does not implement an endpoint must still answer,
// clearly and at once: a client left waiting on a socket that never replies is the
// worst failure mode. Known Engine API areas mini-dockerd leaves out answer 501 with a
// message that says so ("... is not supported by mini-dockerd"; the docker CLI treats
// "not supported" as "try the next kind of object" in `docker inspect`), unknown paths
// answer 404 "page not found" as dockerd's router does. Volumes and plugins answer
// their "none here" truthfully, because there are none.
// Mirrors the routers moby registers (volume, plugin, swarm, session, distribution,
// build, checkpoint) as seen from a client.

import { notFoundError, notImplementedError } from "../server/errors.ts";
import type { EngineMethod, EngineRouter } from "../server/router.ts";
import type { EngineModule } from "../types.ts";

const unsupported: [EngineMethod, string, string][] = [
  ["POST", "/build/prune", "docker builder prune"],
  ["POST", "/commit", "docker commit"],
  ["GET", "/images/search", "docker search (mini has no access to Docker Hub)"],
  ["POST", "/volumes/create", "docker volume create"],
  ["DELETE", "/volumes/{name}", "docker volume rm"],
  ["POST", "/plugins/pull", "docker plugin install"],
  ["GET", "/swarm", "swarm mode"],
  ["POST", "/swarm/init", "swarm mode"],
  ["POST", "/swarm/join", "swarm mode"],
  ["GET", "/nodes", "swarm mode"],
  ["GET", "/services", "swarm mode"],
  ["GET", "/tasks", "swarm mode"],
  ["GET", "/secrets", "swarm mode"],
  ["GET", "/configs", "swarm mode"],
  ["POST", "/session", "build sessions (BuildKit)"],
  ["GET", "/distribution/{name:.*}/json", "docker manifest inspect through the daemon"],
  // The container component registers the real routes; until it is loaded these answer.
  ["GET", "/containers/json", "containers (the containers module is not loaded)"],
  ["POST", "/containers/create", "containers (the containers module is not loaded)"],
  ["GET", "/containers/{id}/json", "containers (the containers module is not loaded)"],
  ["POST", "/containers/prune", "containers (the containers module is not loaded)"],
  ["POST", "/exec/{id}/start", "exec (the containers module is not loaded)"],
];

/** The 501 answers and the empty volume/plugin lists; load it last. */
export const notImplementedModule: EngineModule = {
  name: "not-implemented",
  register(router: EngineRouter) {
    for (const [method, pattern, what] of unsupported) {
      router.fallback(method, pattern, () => {
        throw notImplementedError(
          `${what} is not supported by mini-dockerd (${method} ${pattern})`,
        );
      });
    }
    router.fallback("GET", "/volumes", () => ({ Volumes: [], Warnings: null }));
    router.fallback("GET", "/volumes/{name}", (request) => {
      throw notFoundError(`get ${request.param("name")}: no such volume`);
    });
    router.fallback("POST", "/volumes/prune", () => ({ VolumesDeleted: null, SpaceReclaimed: 0 }));
    router.fallback("GET", "/plugins", () => []);
    router.fallback("GET", "/plugins/{name:.*}/json", (request) => {
      throw notFoundError(`plugin "${request.param("name")}" not found`);
    });
  },
};
