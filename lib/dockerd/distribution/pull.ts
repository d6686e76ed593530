// What this teaches: what `docker pull` does, step by step, and the progress lines
// it sends back (the wire traces show real dockerd's):
//   resolve the tag → manifest digest (an index is narrowed to this machine's platform)
//   {"status":"Pulling from library/busybox","id":"latest"}
//   fetch the config; from its diff_ids, each layer's chainID says whether the layer
//   store has it already:   {"status":"Already exists","id":"<12 hex of the blob>"}
//   the others:             "Pulling fs layer" → "Downloading" (bars) →
//                           "Verifying Checksum" → "Download complete"
//   then in order, on top of each other: "Extracting" (bars) → "Pull complete"
//   {"status":"Digest: sha256:…"}, {"status":"Status: Downloaded newer image for …"}
//   (or "Image is up to date" when the tag already named that image).
// Downloads run several at once (max-concurrent-downloads, default 3); extraction is
// sequential because each layer is unpacked on the one below. Failures before the
// first line are plain HTTP errors (404 for an unknown tag); after it, an errorDetail
// line. The compressed blobs only pass through a scratch store and are then dropped.
// The same pull serves `docker build` for a FROM image that is not here (pullImage,
// its lines in the build output). Docker Hub images come from the daemon.json
// "registry-mirrors" when there are any; every registry is pinged (`GET /v2/`) once
// first, so an unreachable one (offline, no DNS) fails at once with dockerd's
// `Get "https://registry-1.docker.io/v2/": dial tcp: lookup registry-1.docker.io: ...`
// instead of after retries.
// Mirrors moby's distribution/pull_v2.go (pullV2Tag, pullSchema2) and
// distribution/xfer/download.go (the download manager's statuses), distribution/pull.go
// (trying each endpoint of registry/service_v2.go in turn).

import { isIndexType } from "../../images/media_types.ts";
import { parseImageIndex, parseImageManifest } from "../../images/manifest.ts";
import type { Descriptor, ImageManifest } from "../../images/types.ts";
import { defaultPlatformMatcher, onlyPlatform } from "../../platforms/compare.ts";
import { formatPlatform, parsePlatform } from "../../platforms/parse.ts";
import { familiarName, familiarString } from "../../reference/normalize.ts";
import type { Credentials } from "../../registry/credentials.ts";
import { RegistryError } from "../../registry/errors.ts";
import type { ResolvedReference, Resolver } from "../../registry/resolver.ts";
import { selectManifests } from "../../registry/handlers.ts";
import { Limiter, settleAll } from "../../registry/limiter.ts";
import { readBounded } from "../../registry/verify.ts";
import type { Daemon } from "../daemon.ts";
import type { ImageRecord } from "../image/image_store.ts";
import { parseImageReference } from "../image/reference_store.ts";
import { createChainId } from "../layer/layer_store.ts";
import type { EngineRequest } from "../server/context.ts";
import { badParameter, EngineError, notFoundError } from "../server/errors.ts";
import { ProgressWriter } from "../server/progress.ts";
import { DistributionMetadata } from "./metadata.ts";
import {
  pingRegistry,
  pullEndpoints,
  registryAuth,
  resolverWithCredentials,
} from "./registry_options.ts";
import { ScratchContent } from "./scratch_content.ts";
import { importManifest } from "./unpack.ts";

const PROGRESS_STEP = 512 * 1024;
const MAX_CONFIG_BYTES = 8 * 1024 * 1024;

/** `fromImage` + `tag` as one reference (`tag` may also be a digest). */
export function pullReference(fromImage: string, tag: string): string {
  if (tag === "") return fromImage;
  const lastPart = fromImage.slice(fromImage.lastIndexOf("/") + 1);
  if (lastPart.includes(":") || fromImage.includes("@")) return fromImage;
  return tag.startsWith("sha256:") ? `${fromImage}@${tag}` : `${fromImage}:${tag}`;
}

/** Turns a registry failure into the status dockerd answers with. */
function engineErrorOf(error: unknown, displayName: string): unknown {
  if (!(error instanceof RegistryError)) return error;
  switch (error.kind) {
    case "not_found":
      return notFoundError(
        `manifest for ${displayName} not found: manifest unknown: ${error.message}`,
      );
    case "unauthorized":
    case "denied":
      return notFoundError(
        `pull access denied for ${
          displayName.replace(/[:@][^/]*$/, "")
        }, repository does not exist ` +
          `or may require 'docker login': ${error.message}`,
      );
    default:
      return new EngineError(500, error.message);
  }
}

/**
 * Finds the manifest on the first endpoint that has it (the mirrors in order for Docker
 * Hub images, else the registry in the reference). Each endpoint is pinged first, so
 * an unreachable registry fails at once with Go's dial error wording.
 */
async function resolveFromEndpoints(
  daemon: Daemon,
  options: PullOptions,
  text: string,
  display: string,
): Promise<{ resolver: Resolver; resolved: ResolvedReference }> {
  const closed = options.signal;
  const endpoints = pullEndpoints(daemon, text);
  let lastError: unknown;
  for (const endpoint of endpoints) {
    try {
      await pingRegistry(endpoint.pingUrl, closed);
      const resolver = resolverWithCredentials(
        daemon,
        options.credentials,
        endpoint.reference,
        endpoint.plainHttp,
      );
      return {
        resolver,
        resolved: await resolver.resolve(endpoint.reference, closed),
      };
    } catch (error) {
      lastError = engineErrorOf(error, display);
      if (closed.aborted) break;
      if (endpoint.mirror) {
        daemon.log.info("mirror failed, trying the next endpoint", {
          mirror: endpoint.pingUrl.origin,
          error: error instanceof Error ? error.message : String(error),
        });
      }
    }
  }
  throw lastError;
}

/** Where a pull reports its progress lines (moby's progress.Output); ProgressWriter is one. */
export interface PullProgress {
  /** `{"status": ..., "id": ...}`. */
  status(status: string, id?: string): Promise<void>;
  /** A status with a progress bar ("Downloading", "Extracting"). */
  progress(status: string, id: string, current: number, total: number): Promise<void>;
}

/** What a pull needs besides the daemon and the reference. */
export interface PullOptions {
  /** Where the progress lines go. */
  progress: PullProgress;
  /** Aborts the pull (the client hung up). */
  signal: AbortSignal;
  /** The registry login for this pull, if any (X-Registry-Auth, X-Registry-Config). */
  credentials?: Credentials;
  /** `os/arch[/variant]` to choose from a multi-platform index (default: this machine). */
  platform?: string;
}

/**
 * Pulls `text` (a reference, `busybox`, `127.0.0.1:5000/bb:v1`) into dockerd's own
 * stores, reporting progress as `docker pull` shows it, and returns the image. Used by
 * `POST /images/create` and by the builder for a FROM that is not here (or `--pull`).
 * Failures are EngineErrors worded as dockerd's.
 */
export async function pullImage(
  daemon: Daemon,
  text: string,
  options: PullOptions,
): Promise<ImageRecord> {
  const reference = parseImageReference(text);
  const display = familiarString(reference);
  const tagOrDigest = reference.digest ?? reference.tag ?? "latest";
  const out = options.progress;
  const closed = options.signal;
  const platformText = options.platform;
  const scratch = await ScratchContent.create(daemon.paths.tmp, "pull-");
  try {
    const { resolver, resolved } = await resolveFromEndpoints(daemon, options, text, display);
    const fetcher = resolver.fetcher(resolved.repository);

    // An index (multi-platform image) is narrowed to one manifest.
    let manifestDescriptor: Descriptor = resolved.descriptor;
    if (isIndexType(manifestDescriptor.mediaType)) {
      const index = parseImageIndex(
        await fetcher.fetchDocument(manifestDescriptor),
        manifestDescriptor,
      );
      const wanted = platformText
        ? onlyPlatform(parsePlatform(platformText))
        : defaultPlatformMatcher();
      const chosen = selectManifests(index.manifests, wanted, 1)[0];
      if (!chosen) {
        const name = platformText
          ? formatPlatform(parsePlatform(platformText))
          : "linux/" + Deno.build.arch;
        throw notFoundError(`no matching manifest for ${name} in the manifest list entries`);
      }
      manifestDescriptor = chosen;
    }
    const manifest: ImageManifest = parseImageManifest(
      await fetcher.fetchDocument(manifestDescriptor),
      manifestDescriptor,
    );
    await out.status(`Pulling from ${reference.path}`, tagOrDigest);
    const configDownload = await fetcher.openBlob(manifest.config);
    const configBytes = await readBounded(configDownload.body, MAX_CONFIG_BYTES, "image config");
    await scratch.write(configBytes, {
      ref: `config-${manifest.config.digest}`,
      expected: manifest.config.digest,
    });
    const diffIds: string[] = JSON.parse(new TextDecoder().decode(configBytes))?.rootfs?.diff_ids ??
      [];
    if (diffIds.length !== manifest.layers.length) {
      throw badParameter(
        `the image config lists ${diffIds.length} layers, its manifest ${manifest.layers.length}`,
      );
    }

    // Which layers are needed: the rest "Already exists".
    const needed: Descriptor[] = [];
    let parent: string | undefined;
    for (let index = 0; index < manifest.layers.length; index++) {
      const chainId = createChainId(parent, diffIds[index]);
      const layer = manifest.layers[index];
      if (daemon.layers.get(chainId)) await out.status("Already exists", layer.digest.slice(7, 19));
      else needed.push(layer);
      parent = chainId;
    }
    for (const layer of needed) await out.status("Pulling fs layer", layer.digest.slice(7, 19));

    // Downloads, several at once; each layer's promise resolves when it is in scratch.
    const limiter = new Limiter(daemon.config.maxConcurrentDownloads);
    const downloads = new Map<string, Promise<void>>();
    for (const layer of needed) {
      downloads.set(
        layer.digest,
        limiter.run(async () => {
          const id = layer.digest.slice(7, 19);
          const download = await fetcher.openBlob(layer, 0, closed);
          let received = 0;
          let reported = 0;
          const metered = download.body.pipeThrough(
            new TransformStream<Uint8Array<ArrayBuffer>, Uint8Array<ArrayBuffer>>({
              async transform(chunk, controller) {
                received += chunk.byteLength;
                if (received - reported >= PROGRESS_STEP || received === layer.size) {
                  reported = received;
                  await out.progress("Downloading", id, received, layer.size);
                }
                controller.enqueue(chunk);
              },
            }),
          );
          await scratch.write(metered, {
            ref: `layer-${layer.digest}`,
            expected: layer.digest,
            total: layer.size,
          });
          await out.status("Verifying Checksum", id);
          await out.status("Download complete", id);
        }),
      );
    }
    const allDownloads = settleAll([...downloads.values()]);
    allDownloads.catch(() => {}); // observed through the per-layer waits below

    const metadata = new DistributionMetadata(daemon.paths.distribution);
    // Under the image's own name, also when a mirror served it.
    const repositoryName = `${reference.domain}/${reference.path}`;
    const image = await importManifest(daemon, scratch, manifest, configBytes, {
      open: async (layer) => {
        await downloads.get(layer.digest);
        return await scratch.read(layer.digest);
      },
      progress: (layer, _diffId, consumed) =>
        out.progress("Extracting", layer.digest.slice(7, 19), consumed, layer.size),
      done: async (layer) => {
        await out.status("Pull complete", layer.digest.slice(7, 19));
      },
    });
    await allDownloads;
    for (let index = 0; index < manifest.layers.length; index++) {
      await metadata.add(diffIds[index], manifest.layers[index].digest, repositoryName);
    }

    const previous = reference.tag !== undefined ? daemon.references.get(reference) : undefined;
    if (reference.tag !== undefined) {
      await daemon.references.addTag(reference, image.id, true);
      await daemon.imageStore.touch(image.id);
    }
    await daemon.references.addDigest({
      ...reference,
      tag: undefined,
      digest: resolved.descriptor.digest,
    }, image.id);
    await out.status(`Digest: ${resolved.descriptor.digest}`);
    await out.status(
      previous === image.id
        ? `Status: Image is up to date for ${display}`
        : `Status: Downloaded newer image for ${display}`,
    );
    daemon.images.logEvent("pull", display, familiarName(reference));
    return image;
  } catch (error) {
    daemon.log.info("pull failed", {
      image: display,
      error: error instanceof Error ? error.message : String(error),
    });
    throw engineErrorOf(error, display);
  } finally {
    await scratch.destroy();
  }
}

/** `POST /images/create?fromImage=&tag=`: pulls into dockerd's own stores, streaming progress. */
export async function pullImageInto(
  daemon: Daemon,
  request: EngineRequest,
  fromImage: string,
  tag: string,
  platformText?: string,
): Promise<void> {
  const text = pullReference(fromImage, tag);
  parseImageReference(text); // a malformed name is a plain 400, before any stream
  const out = new ProgressWriter(request.reply);
  try {
    await pullImage(daemon, text, {
      progress: out,
      signal: request.reply.closed,
      credentials: registryAuth(request),
      platform: platformText,
    });
    await out.end();
  } catch (error) {
    await out.fail(error);
  }
}
