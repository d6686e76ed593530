// What this teaches: what `docker push` does when the daemon keeps no compressed
// blobs. For each layer (listed top first, by the 12 hex of its diffID):
//   "Preparing"; the layer tar is reassembled from the diff dir (tar-split) and
//   gzip-compressed into a scratch file (its digest is only known at the end; gzip
//   without timestamps makes it the same every time); if the repository has that blob:
//   "Layer already exists", else it is uploaded: "Pushing" (bars) → "Pushed". The
//   blob digest is recorded in the distribution metadata, as dockerd does.
// Then the config blob, and a Docker schema 2 manifest naming them, under the tag:
//   {"status":"v1: digest: sha256:… size: 527"}, {"aux":{"Tag","Digest","Size"}}
// The pushed name@digest becomes one of the image's RepoDigests. Pushing the same
// image twice uploads nothing the second time. A finished push is one `push` event,
// named like a pull's: the reference pushed, and its repository.
// Mirrors moby's distribution/push_v2.go (pushV2Tag, v2PushDescriptor.Upload,
// layerAlreadyExists) and the manifest builder of distribution/manifest.go.

import { createHash } from "node:crypto";
import { join } from "node:path";
import { compressStream } from "../../archive/compression.ts";
import { MediaTypes } from "../../images/media_types.ts";
import type { Descriptor } from "../../images/types.ts";
import { familiarName, familiarString, parseNormalizedNamed } from "../../reference/normalize.ts";
import { RegistryError } from "../../registry/errors.ts";
import type { Daemon } from "../daemon.ts";
import type { ImageRecord } from "../image/image_store.ts";
import { parseImageReference } from "../image/reference_store.ts";
import type { LayerRecord } from "../layer/layer_store.ts";
import type { EngineRequest } from "../server/context.ts";
import { EngineError, noSuchImage, notFoundError } from "../server/errors.ts";
import { ProgressWriter } from "../server/progress.ts";
import { DistributionMetadata } from "./metadata.ts";
import { resolverFor } from "./registry_options.ts";

const PROGRESS_STEP = 512 * 1024;

/** A layer compressed into a scratch file, ready to upload. */
interface CompressedLayer {
  path: string;
  descriptor: Descriptor;
}

/** Reassembles and gzips a layer into `path`, returning its blob descriptor. */
async function compressLayer(
  daemon: Daemon,
  layer: LayerRecord,
  path: string,
): Promise<CompressedLayer> {
  const { stream } = await daemon.layers.tarStream(layer.chainId);
  const hash = createHash("sha256");
  let size = 0;
  const file = await Deno.open(path, { write: true, create: true, truncate: true, mode: 0o600 });
  const writer = file.writable.getWriter();
  try {
    for await (const chunk of compressStream(stream, "gzip")) {
      hash.update(chunk);
      size += chunk.byteLength;
      await writer.write(chunk);
    }
  } finally {
    await writer.close().catch(() => {});
  }
  return {
    path,
    descriptor: {
      mediaType: MediaTypes.dockerLayerGzip,
      digest: `sha256:${hash.digest("hex")}`,
      size,
    },
  };
}

/** The images and tags a push of `name` + `tag` covers (an empty tag: every tag of the repository). */
function pushTargets(
  daemon: Daemon,
  name: string,
  tag: string,
): { image: ImageRecord; tag: string }[] {
  const base = parseImageReference(name);
  if (tag !== "" || /:[^/]+$/.test(name)) {
    const text = tag !== "" && !/:[^/]+$/.test(name) ? `${name}:${tag}` : name;
    const reference = parseImageReference(text);
    const id = daemon.references.get(reference);
    const image = id ? daemon.imageStore.get(id) : undefined;
    if (!image) throw noSuchImage(familiarString(reference));
    return [{ image, tag: reference.tag ?? "latest" }];
  }
  const repository = familiarName(base);
  const targets = daemon.references.all()
    .filter(({ reference }) =>
      !reference.isDigest && familiarName(reference.reference) === repository
    )
    .map(({ reference, imageId }) => ({
      image: daemon.imageStore.get(imageId)!,
      tag: reference.reference.tag!,
    }))
    .filter((target) => target.image !== undefined);
  if (targets.length === 0) {
    throw notFoundError(`An image does not exist locally with the tag: ${repository}`);
  }
  return targets;
}

/** `POST /images/{name}/push?tag=`: uploads an image from dockerd's stores, streaming progress. */
export async function pushImageFrom(
  daemon: Daemon,
  request: EngineRequest,
  name: string,
  tag: string,
): Promise<void> {
  const targets = pushTargets(daemon, name, tag); // 404 before the stream starts
  const base = parseImageReference(name);
  const out = new ProgressWriter(request.reply);
  const scratchDir = await Deno.makeTempDir({ dir: daemon.paths.tmp, prefix: "push-" });
  const metadata = new DistributionMetadata(daemon.paths.distribution);
  try {
    const repositoryText = familiarName(base);
    const resolver = resolverFor(daemon, request, repositoryText);
    const { repository } = resolver.locate(`${repositoryText}:latest`);
    const fullRepository = `${repository.endpoint.domain}/${repository.path}`;
    const pusher = resolver.pusher(repository);
    await out.status(
      `The push refers to repository [${fullRepository.replace(/^docker\.io\//, "docker.io/")}]`,
    );
    for (const { image, tag: pushTag } of targets) {
      const chain = daemon.layers.chain(image.topLayer); // top first, as docker lists them
      for (const layer of chain) await out.status("Preparing", layer.diffId.slice(7, 19));
      const pushed = new Map<string, Descriptor>();
      for (const layer of chain) {
        const id = layer.diffId.slice(7, 19);
        const compressed = await compressLayer(
          daemon,
          layer,
          join(scratchDir, layer.diffId.slice(7)),
        );
        if (await pusher.blobExists(compressed.descriptor).catch(() => false)) {
          await out.status("Layer already exists", id);
        } else {
          let reported = 0;
          await out.progress("Pushing", id, 0, layer.size);
          await pusher.uploadBlob(
            compressed.descriptor,
            async () =>
              (await Deno.open(compressed.path)).readable as ReadableStream<
                Uint8Array<ArrayBuffer>
              >,
            (sent) => {
              if (sent - reported >= PROGRESS_STEP) {
                reported = sent;
                void out.progress("Pushing", id, sent, compressed.descriptor.size);
              }
            },
          );
          await out.status("Pushed", id);
        }
        await metadata.add(layer.diffId, compressed.descriptor.digest, fullRepository);
        pushed.set(layer.chainId, compressed.descriptor);
      }
      const configDescriptor: Descriptor = {
        mediaType: MediaTypes.dockerConfig,
        digest: image.id,
        size: image.raw.byteLength,
      };
      if (!await pusher.blobExists(configDescriptor).catch(() => false)) {
        await pusher.uploadBlob(
          configDescriptor,
          () =>
            Promise.resolve(
              new Blob([image.raw as Uint8Array<ArrayBuffer>]).stream() as ReadableStream<
                Uint8Array<ArrayBuffer>
              >,
            ),
        );
      }
      const manifest = {
        schemaVersion: 2,
        mediaType: MediaTypes.dockerManifest,
        config: configDescriptor,
        layers: [...chain].reverse().map((layer) => {
          const blob = pushed.get(layer.chainId)!;
          return { mediaType: blob.mediaType, size: blob.size, digest: blob.digest };
        }),
      };
      const bytes = new TextEncoder().encode(JSON.stringify(manifest, null, 3));
      const digest = `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
      const manifestDescriptor = {
        mediaType: MediaTypes.dockerManifest,
        digest,
        size: bytes.byteLength,
      };
      await pusher.putManifest(manifestDescriptor, bytes, pushTag);
      await daemon.references.addDigest({ ...base, tag: undefined, digest }, image.id);
      await out.status(`${pushTag}: digest: ${digest} size: ${bytes.byteLength}`);
      await out.aux({ Tag: pushTag, Digest: digest, Size: bytes.byteLength });
    }
    // One `push` event per request, named as pull events are: the reference pushed
    // (`localhost:5000/bb:latest`, or the bare repository for all its tags) and its repository.
    const pushed = tag !== "" && !/:[^/]+$/.test(name) ? `${name}:${tag}` : name;
    daemon.images.logEvent("push", familiarString(parseNormalizedNamed(pushed)), repositoryText);
    await out.end();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    daemon.log.info("push failed", { image: name, error: message });
    await out.fail(error instanceof RegistryError ? new EngineError(500, message) : error);
  } finally {
    await Deno.remove(scratchDir, { recursive: true }).catch(() => {});
  }
}
