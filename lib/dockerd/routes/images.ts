// What this teaches: the image endpoints and which docker command uses each:
//   docker images           GET    /images/json?all=&filters=
//   docker image inspect    GET    /images/{name}/json
//   docker history          GET    /images/{name}/history
//   docker tag              POST   /images/{name}/tag?repo=&tag=      (201)
//   docker rmi              DELETE /images/{name}?force=&noprune=
//   docker image prune      POST   /images/prune?filters=
//   docker pull             POST   /images/create?fromImage=&tag=     (NDJSON progress)
//   docker push             POST   /images/{name}/push?tag=           (NDJSON progress)
//   docker save             GET    /images/get?names=… and /images/{name}/get
//   docker load             POST   /images/load?quiet=                (NDJSON)
// Image names contain slashes (`localhost:5000/bb`), so `{name:.*}` is greedy.
// Mirrors moby's api/server/router/image/image.go and image_routes.go.

import type { Daemon } from "../daemon.ts";
import { loadImages } from "../distribution/load.ts";
import { pullImageInto } from "../distribution/pull.ts";
import { pushImageFrom } from "../distribution/push.ts";
import { saveImages } from "../distribution/save.ts";
import { badParameter, EngineError, notFoundError, notImplementedError } from "../server/errors.ts";
import { ProgressWriter } from "../server/progress.ts";
import type { EngineRouter } from "../server/router.ts";
import type { EngineModule } from "../types.ts";

/** The image endpoints. */
export const imagesModule: EngineModule = {
  name: "images",
  register(router: EngineRouter, daemon: Daemon) {
    const images = daemon.images;

    router.get(
      "/images/json",
      (request) => images.list({ all: request.bool("all"), filters: request.filters() }),
    );

    router.get("/images/{name:.*}/json", (request) => {
      const name = request.param("name");
      const image = images.find(name);
      if (!image) {
        // dockerd wraps the lookup error for inspect: "no such image: X: No such image: X:latest".
        try {
          images.get(name);
        } catch (error) {
          throw notFoundError(`no such image: ${name}: ${(error as Error).message}`);
        }
      }
      return images.inspect(image!);
    });

    router.get(
      "/images/{name:.*}/history",
      (request) => images.history(images.get(request.param("name"))),
    );

    router.post("/images/{name:.*}/tag", async (request) => {
      const image = images.get(request.param("name"));
      await images.tag(image, request.string("repo") ?? "", request.string("tag") || undefined);
      request.reply.text("", 201);
    });

    router.delete("/images/{name:.*}", (request) => {
      const name = request.param("name");
      if (name.trim() === "") throw badParameter("image name cannot be blank");
      return images.delete(name, { force: request.bool("force"), prune: !request.bool("noprune") });
    });

    router.post("/images/prune", (request) => images.prune(request.filters()));

    router.post("/images/create", async (request) => {
      const fromImage = request.string("fromImage");
      if (request.string("fromSrc") !== undefined) {
        throw notImplementedError("docker import (fromSrc) is not supported by mini-dockerd");
      }
      if (!fromImage) throw badParameter("fromImage or fromSrc is required");
      await pullImageInto(
        daemon,
        request,
        fromImage,
        request.string("tag") ?? "",
        request.string("platform"),
      );
    });

    router.post("/images/{name:.*}/push", async (request) => {
      await pushImageFrom(daemon, request, request.param("name"), request.string("tag") ?? "");
    });

    router.get("/images/get", async (request) => {
      const names = request.query.getAll("names");
      if (names.length === 0) throw badParameter("no image names given: use ?names=IMAGE");
      await saveImages(daemon, request, names);
    });

    router.get("/images/{name:.*}/get", async (request) => {
      await saveImages(daemon, request, [request.param("name")]);
    });

    router.post("/images/load", async (request) => {
      const quiet = request.bool("quiet");
      const body = request.bodyStream();
      const out = new ProgressWriter(request.reply.stream(200, "application/json"));
      try {
        const loaded = await loadImages(daemon, body, { quiet, progress: out });
        for (const line of loaded) await out.stream(line + "\n");
      } catch (error) {
        const message = error instanceof EngineError || error instanceof Error
          ? error.message
          : String(error);
        await out.error(message);
        await body.cancel().catch(() => {});
      }
      await out.end();
    });
  },
};
