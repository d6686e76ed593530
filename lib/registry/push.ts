// What this teaches: a push is a pull run backwards, children first. Walk the image
// from its record in the local content store; upload the blobs (configs and layers)
// the registry lacks, several at once, mounting them from another repository of the
// same registry when their `containerd.io/distribution.source.*` label says they live
// there; then put the manifests, deepest first, because a registry refuses a manifest
// that names blobs (or manifests) it does not have; the root last, under the tag.
// Mirrors containerd's `client.Push` and `core/remotes/handlers.go` (`PushContent`,
// `PushHandler`, `annotateDistributionSourceHandler`).

import { isErrorCode } from "../api/errors.ts";
import type { ContentInfo } from "../content/types.ts";
import { isIndexType } from "../images/media_types.ts";
import type { Descriptor, ImageIndex, Platform } from "../images/types.ts";
import { onlyPlatform } from "../platforms/compare.ts";
import { formatPlatform } from "../platforms/parse.ts";
import { isRegistryError, RegistryError } from "./errors.ts";
import {
  appendDistributionSource,
  childrenOf,
  distributionSourceKey,
  distributionSources,
  isDocumentType,
  parseDocument,
  refKey,
  selectManifests,
} from "./handlers.ts";
import { Limiter, settleAll } from "./limiter.ts";
import { TransferTracker } from "./progress.ts";
import type { Pusher } from "./pusher.ts";
import { Resolver } from "./resolver.ts";
import type { PushOptions, PushResult, RegistryServices } from "./types.ts";
import { MAX_MANIFEST_BYTES } from "./verify.ts";

/** A document read from the local store, waiting to be pushed after its children. */
interface PendingDocument {
  descriptor: Descriptor;
  bytes: Uint8Array<ArrayBuffer>;
}

/**
 * Pushes the local image `localName` to `remote` (default: the same name).
 * Throws when content is missing locally or the registry refuses something.
 */
export async function pushImage(
  services: RegistryServices,
  localName: string,
  remote: string = localName,
  options: PushOptions = {},
): Promise<PushResult> {
  const resolver = options.resolver ?? new Resolver(options);
  const tracker = options.tracker ?? new TransferTracker();
  const image = await services.images.get(localName);
  const root = options.platform
    ? await platformManifest(services, image.target, options.platform, localName)
    : image.target;
  const { name, reference, repository } = resolver.locate(remote);
  const pusher = resolver.pusher(repository, { chunkSize: options.chunkSize });
  const sourceKey = distributionSourceKey(repository.endpoint.domain);

  // 1. Walk the local graph: documents in discovery order, blobs once each.
  const documents: PendingDocument[] = [];
  const blobs = new Map<string, { descriptor: Descriptor; info: ContentInfo }>();
  const visit = async (descriptor: Descriptor, parent?: Descriptor): Promise<void> => {
    const info = await localInfo(services, descriptor, parent, localName);
    if (!isDocumentType(descriptor.mediaType)) {
      if (!blobs.has(descriptor.digest)) blobs.set(descriptor.digest, { descriptor, info });
      tracker.update(refKey(descriptor), "waiting", { total: descriptor.size });
      return;
    }
    const bytes = await services.content.readAll(descriptor.digest, MAX_MANIFEST_BYTES);
    documents.push({ descriptor, bytes: bytes as Uint8Array<ArrayBuffer> });
    tracker.update(refKey(descriptor), "waiting", { total: descriptor.size });
    const document = parseDocument(descriptor, bytes);
    for (const child of childrenOf(document)) await visit(child, descriptor);
  };
  await visit(root);

  // 2. The blobs, several at once.
  const counts = { uploaded: 0, mounted: 0, existing: 0, bytesUploaded: 0 };
  const limiter = new Limiter(options.maxConcurrentUploads ?? 3);
  await settleAll([...blobs.values()].map(({ descriptor, info }) =>
    limiter.run(async () => {
      const key = refKey(descriptor);
      const outcome = await pushBlob(services, pusher, descriptor, info, tracker);
      counts[outcome]++;
      if (outcome === "uploaded") counts.bytesUploaded += descriptor.size;
      tracker.update(key, outcome === "uploaded" ? "done" : "exists", {
        offset: outcome === "uploaded" ? descriptor.size : 0,
      });
      const updated = appendDistributionSource(info.labels?.[sourceKey], repository.path);
      if (updated !== info.labels?.[sourceKey]) {
        await services.content.updateLabels(descriptor.digest, { [sourceKey]: updated }, {
          merge: true,
        });
      }
    })
  ));

  // 3. The documents, deepest first; the root under the tag (or its digest).
  for (let index = documents.length - 1; index >= 0; index--) {
    const { descriptor, bytes } = documents[index];
    const key = refKey(descriptor);
    const isRoot = index === 0;
    if (!isRoot && await pusher.manifestExists(descriptor)) {
      tracker.update(key, "exists");
      continue;
    }
    tracker.update(key, "uploading", { offset: 0, total: descriptor.size });
    await pusher.putManifest(
      descriptor,
      bytes,
      isRoot ? reference.tag ?? descriptor.digest : descriptor.digest,
    );
    tracker.update(key, "done", { offset: descriptor.size });
  }
  return { name, descriptor: root, ...counts };
}

/**
 * With --platform, the manifest of that platform (pushed alone, under the tag) when
 * the image is an index; a single-platform image is pushed as it is.
 */
async function platformManifest(
  services: RegistryServices,
  target: Descriptor,
  platform: Platform,
  localName: string,
): Promise<Descriptor> {
  if (!isIndexType(target.mediaType)) return target;
  const bytes = await services.content.readAll(target.digest, MAX_MANIFEST_BYTES);
  const index = parseDocument(target, bytes) as ImageIndex;
  const [best] = selectManifests(index.manifests, onlyPlatform(platform), 1);
  if (!best) {
    throw new RegistryError(
      "not_found",
      `cannot push ${localName} for ${formatPlatform(platform)}: its index has no manifest ` +
        `for that platform`,
    );
  }
  return best;
}

/** The local content info of a descriptor, or a clear error when it is missing. */
async function localInfo(
  services: RegistryServices,
  descriptor: Descriptor,
  parent: Descriptor | undefined,
  localName: string,
): Promise<ContentInfo> {
  try {
    return await services.content.info(descriptor.digest);
  } catch (error) {
    if (!isErrorCode(error, "not_found")) throw error;
    const platform = descriptor.platform
      ? ` (for ${descriptor.platform.os}/${descriptor.platform.architecture})`
      : "";
    const advice = parent && isIndexType(parent.mediaType)
      ? "the image was pulled for fewer platforms than its index lists; pull it with " +
        "--all-platforms before pushing it, or push one platform with --platform"
      : "pull or import the image again";
    throw new RegistryError(
      "not_found",
      `cannot push ${localName}: ${refKey(descriptor)}${platform} is not in the local ` +
        `content store; ${advice}`,
    );
  }
}

/** Pushes one blob unless the registry has it or can mount it. */
async function pushBlob(
  services: RegistryServices,
  pusher: Pusher,
  descriptor: Descriptor,
  info: ContentInfo,
  tracker: TransferTracker,
): Promise<"uploaded" | "mounted" | "existing"> {
  const key = refKey(descriptor);
  if (await pusher.blobExists(descriptor)) return "existing";
  const candidates = distributionSources(info.labels, pusher.repository.endpoint.domain)
    .filter((path) => path !== pusher.repository.path);
  for (const fromPath of candidates) {
    try {
      if (await pusher.mountBlob(descriptor, fromPath)) return "mounted";
    } catch (error) {
      // No pull right on the source repository: upload instead.
      if (!isRegistryError(error, "unauthorized") && !isRegistryError(error, "denied")) {
        throw error;
      }
    }
  }
  tracker.update(key, "uploading", { offset: 0, total: descriptor.size });
  await pusher.uploadBlob(
    descriptor,
    async () =>
      await services.content.read(descriptor.digest) as ReadableStream<Uint8Array<ArrayBuffer>>,
    (transferred) => tracker.advance(key, transferred),
  );
  return "uploaded";
}
