// What this teaches: the Images service, the API behind `ctr images` and Docker's
// containerd image store. It manages only the records (name → target); pushing
// bytes is the Content service's job, and freeing them is garbage collection's,
// which `Delete` with `sync` runs before it answers.
// Mirrors containerd's `api/services/images/v1/images.proto` and
// `plugins/services/images/local.go`.
//
// Route → containerd method:
//   /containerd.services.images.v1.Images/Get     {name}                     → {image}
//   /containerd.services.images.v1.Images/List    {filters}                  → {images}
//   /containerd.services.images.v1.Images/Create  {image}                    → {image}
//   /containerd.services.images.v1.Images/Update  {image, updateMask.paths}  → {image}
//   /containerd.services.images.v1.Images/Delete  {name, sync, target}       → {}
// containerd has no Put: clients Create and, on already_exists, Update (so does mini's).

import { invalidArgument } from "../../api/errors.ts";
import type { RequestContext, Router } from "../../api/server.ts";
import type { GcScheduler } from "../../gc/types.ts";
import type { ImageInput, ImageStore } from "../../images/store.ts";
import type { Labels } from "../../metadata/db.ts";
import type { Descriptor } from "../../images/types.ts";
import { IMAGES_SERVICE } from "../../api/services.ts";

interface ImagesRequest {
  name?: unknown;
  filters?: unknown;
  image?: { name?: unknown; target?: Descriptor; labels?: Labels };
  updateMask?: { paths?: unknown };
  sync?: unknown;
  target?: unknown;
}

function stringField(value: unknown, field: string): string {
  if (typeof value !== "string") throw invalidArgument(`${field} must be a string`);
  return value;
}

function stringList(value: unknown, field: string): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || value.some((item) => typeof item !== "string")) {
    throw invalidArgument(`${field} must be an array of strings`);
  }
  return value;
}

function imageInput(request: ImagesRequest): ImageInput {
  if (typeof request.image !== "object" || request.image === null) {
    throw invalidArgument("image is required: {name, target, labels}");
  }
  return {
    name: stringField(request.image.name ?? "", "image.name"),
    target: request.image.target,
    labels: request.image.labels,
  };
}

/**
 * Registers Get, List, Create, Update and Delete. `gc`, when given, is asked for a
 * collection after each delete (and awaited when the caller asked for `sync`).
 */
export function registerImagesService(router: Router, images: ImageStore, gc?: GcScheduler): void {
  const add = (
    method: string,
    handler: (namespace: string, request: ImagesRequest) => unknown | Promise<unknown>,
  ) =>
    router.add(IMAGES_SERVICE, method, async (context: RequestContext) => {
      const namespace = context.requireNamespace();
      return await handler(namespace, await context.json<ImagesRequest>());
    });

  add("Get", (namespace, request) => ({
    image: images.get(namespace, stringField(request.name, "name")),
  }));
  add("List", (namespace, request) => ({
    images: images.list(namespace, stringList(request.filters, "filters")),
  }));
  add("Create", (namespace, request) => ({
    image: images.create(namespace, imageInput(request)),
  }));
  add("Update", (namespace, request) => ({
    image: images.update(
      namespace,
      imageInput(request),
      stringList(request.updateMask?.paths, "updateMask.paths"),
    ),
  }));
  add("Delete", async (namespace, request) => {
    const target = request.target === undefined || request.target === null || request.target === ""
      ? undefined
      : stringField(request.target, "target");
    images.delete(namespace, stringField(request.name, "name"), { target });
    if (request.sync === true) await gc?.collect();
    else gc?.schedule();
    return {};
  });
}
