// What this teaches: the endpoint behind `docker build` (the legacy builder that
// `DOCKER_BUILDKIT=0` selects). The CLI sends the context as a tar body and the options
// in the query string; the daemon answers 200 with a stream of JSON messages. A
// failure before the first step (unreadable context, Dockerfile syntax, bad options)
// is a plain HTTP error, as in dockerd; once steps ran, it is an `errorDetail`
// message in the stream whose `code` (a RUN's exit code) becomes the CLI's exit code.
// A FROM image that has to be pulled uses the logins the CLI put in `X-Registry-Config`
// (base64url JSON: registry address → {username, password}; `e30=` is `{}`): the CLI
// cannot know which registries the Dockerfile names, so it sends all it has.
// The builder itself is lib/builder.
// Mirrors moby's api/server/router/build/build.go and build_routes.go (postBuild).

import { BuildStepError } from "../../builder/types.ts";
import { buildImage, buildOptionsFromQuery, NdjsonBuildOutput } from "../../builder/mod.ts";
import type { Daemon } from "../daemon.ts";
import { badParameter, EngineError, notImplementedError } from "../server/errors.ts";
import { ProgressWriter } from "../server/progress.ts";
import type { EngineRouter } from "../server/router.ts";
import type { EngineModule } from "../types.ts";
import { containerServiceOf } from "./containers.ts";
import { describe } from "../containers/service.ts";
import { registryConfigs } from "../distribution/registry_options.ts";

/** `POST /build`. */
export const buildModule: EngineModule = {
  name: "build",
  register(router: EngineRouter, daemon: Daemon) {
    router.post("/build", async (request) => {
      const containers = containerServiceOf(daemon);
      if (!containers) {
        throw notImplementedError("docker build needs the containers module of mini-dockerd");
      }
      const registryCredentials = registryConfigs(request);
      let options;
      try {
        options = buildOptionsFromQuery(request.query);
      } catch (error) {
        throw badParameter(describe(error));
      }
      const output = new NdjsonBuildOutput(new ProgressWriter(request.reply), options.quiet);
      try {
        const result = await buildImage(
          { daemon, containers, registryCredentials },
          request.bodyStream(),
          options,
          output,
        );
        await output.finish(result.imageId);
      } catch (error) {
        daemon.log.debug("build failed", { error: describe(error) });
        if (!output.started) {
          if (error instanceof EngineError) throw error;
          throw badParameter(describe(error));
        }
        const code = error instanceof BuildStepError ? error.code : undefined;
        await output.failWith(describe(error), code).catch(() => {});
      }
    });
  },
  async start(daemon: Daemon) {
    // COPY/ADD/WORKDIR steps write into read-write layers that belong to no container;
    // a daemon killed in the middle of such a step leaves one behind. Containers are
    // restored by now (their module starts first), so a layer of no container is such
    // a leftover.
    const containers = containerServiceOf(daemon);
    if (!containers) return;
    const known = new Set(containers.store.list().map((container) => container.id));
    for (const layer of daemon.layers.listContainerLayers()) {
      if (known.has(layer.containerId)) continue;
      daemon.log.info("removing the layer of an interrupted build step", {
        layer: layer.containerId,
      });
      await daemon.layers.removeContainerLayer(layer.containerId).catch((error) =>
        daemon.log.warn("cannot remove a leftover build layer", { error: describe(error) })
      );
    }
  },
};
