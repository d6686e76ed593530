// What this teaches: the legacy builder's cache needs no cache store. Every step's
// image is kept with its parent recorded, so "has this step been done before?" is a
// question to the image store: is there a child of the current image whose config,
// with the step written into its Cmd (`/bin/sh -c #(nop)  ENV A=b`, the RUN command
// with its build args, `COPY file:<content hash> in /dest`), equals the one this step
// would produce? If so, that image is the step's result (" ---> Using cache"). The
// first miss ends the hits: the steps after it start from a new image that has no
// children yet. Because the answer lives in the image store, it survives restarts.
// Mirrors moby's image/cache/cache.go (LocalImageCache.GetCache, getLocalCachedImage)
// and image/cache/compare.go (compare: every field except Image and Hostname).

import type { ImageRecord, ImageStore } from "../dockerd/image/image_store.ts";
import type { DockerContainerConfig } from "../dockerd/image/types.ts";
import { orderedConfig } from "./commit.ts";

/** The part of a config that decides a cache hit, as comparable text. */
function cacheKey(config: DockerContainerConfig | undefined): string {
  const ordered = orderedConfig(config ?? {});
  delete ordered.Image;
  delete ordered.Hostname;
  return JSON.stringify(ordered);
}

/**
 * The image a step can reuse: a child of `parentId` (for `FROM scratch`, an image
 * without parent and with one history entry) whose container config matches.
 * The most recently created match wins, as in Docker.
 */
export function findCachedStep(
  store: ImageStore,
  parent: ImageRecord | undefined,
  containerConfig: DockerContainerConfig,
): ImageRecord | undefined {
  const wanted = cacheKey(containerConfig);
  const historyLength = (parent?.config.history?.length ?? 0) + 1;
  const candidates = parent
    ? store.children(parent.id)
    : store.list().filter((image) => !image.parent);
  let best: ImageRecord | undefined;
  for (const candidate of candidates) {
    if ((candidate.config.history?.length ?? 0) !== historyLength) continue;
    if (cacheKey(candidate.config.container_config) !== wanted) continue;
    if (!best || (candidate.config.created ?? "") > (best.config.created ?? "")) best = candidate;
  }
  return best;
}
