// What this teaches: how a manifest becomes a Docker image. The config says which
// layers the image has (rootfs.diff_ids, base first); the manifest says where each
// layer's blob is. Layer by layer, the chainID tells whether the layer store already
// has it ("Already exists": nothing to do, two images now share it) or whether the
// blob must be unpacked on top of the layer below. When every layer is in, the config
// is stored and becomes the image, and its ID is the config's digest. Registering a
// layer gives the caller a reference; once the image holds its own reference on its
// top layer, the caller's are dropped.
// Mirrors moby's distribution/pull_v2.go (pullSchema2Layers → the layer download
// manager → imageStore.Put) and image/tarexport/load.go (loadLayer, Load).

import type { ContentApi } from "../../content/types.ts";
import type { Descriptor, ImageManifest } from "../../images/types.ts";
import { badParameter } from "../server/errors.ts";
import type { Daemon } from "../daemon.ts";
import type { ImageRecord } from "../image/image_store.ts";
import { parseImageConfigBytes } from "../image/image_store.ts";
import { createChainId } from "../layer/layer_store.ts";
import { MAX_IMAGE_LAYERS } from "../layer/short_id.ts";

/** Progress callbacks of importManifest(). */
export interface UnpackEvents {
  /** The layer is in the store already. */
  exists?(layer: Descriptor, diffId: string): void | Promise<void>;
  /** Bytes of the blob consumed while unpacking. */
  progress?(layer: Descriptor, diffId: string, consumed: number): void | Promise<void>;
  /** The layer is unpacked and registered. */
  done?(layer: Descriptor, diffId: string): void | Promise<void>;
  /** Opens a layer blob (default: read it from `content`). */
  open?(layer: Descriptor): Promise<ReadableStream<Uint8Array>>;
}

/** Layer descriptors of a manifest that carry filesystem changes (not attestations etc.). */
function layerDescriptors(manifest: ImageManifest): Descriptor[] {
  return manifest.layers;
}

/**
 * Unpacks the layers of `manifest` (blobs in `content`) into the layer store and stores
 * `configBytes` as the image. Returns the image.
 */
export async function importManifest(
  daemon: Daemon,
  content: ContentApi,
  manifest: ImageManifest,
  configBytes: Uint8Array,
  events: UnpackEvents = {},
): Promise<ImageRecord> {
  const config = parseImageConfigBytes(configBytes);
  const diffIds = config.rootfs.diff_ids;
  const layers = layerDescriptors(manifest);
  if (layers.length !== diffIds.length) {
    throw badParameter(
      `the manifest lists ${layers.length} layers but the image config ${diffIds.length} diff_ids`,
    );
  }
  if (layers.length > MAX_IMAGE_LAYERS) {
    throw badParameter(
      `max depth exceeded: the image has ${layers.length} layers, at most ${MAX_IMAGE_LAYERS} are supported`,
    );
  }
  const held: string[] = [];
  try {
    let parent: string | undefined;
    for (let index = 0; index < layers.length; index++) {
      const layer = layers[index];
      const diffId = diffIds[index];
      const chainId = createChainId(parent, diffId);
      if (daemon.layers.get(chainId)) {
        daemon.layers.retain(chainId);
        held.push(chainId);
        await events.exists?.(layer, diffId);
      } else {
        const blob = events.open ? await events.open(layer) : await content.read(layer.digest);
        const record = await daemon.layers.register(blob, parent, {
          expectedDiffId: diffId,
          onProgress: (consumed) => void events.progress?.(layer, diffId, consumed),
        });
        held.push(record.chainId);
        await events.done?.(layer, diffId);
      }
      parent = chainId;
    }
    return await daemon.imageStore.create(configBytes);
  } finally {
    for (const chainId of held) await daemon.layers.release(chainId);
  }
}
