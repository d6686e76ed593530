// What this teaches: how a pull fills the content store. Resolve the name to a
// descriptor; fetch that document (an index or a manifest), verify it, and store it
// with GC labels naming its children; pick the manifest for the wanted platform;
// then stream the config and the layers, several at once, straight from the HTTP
// response into content-store ingests named `layer-sha256:…`. The store verifies
// size and digest before a blob becomes visible, so a tampered byte means nothing is
// committed. A download cut off half way leaves its bytes in the ingest, and the
// next attempt asks the registry for the rest with a Range request. Content already
// in the store is not fetched again ("exists"). Last, the image record points the
// name at the root descriptor. Unpacking into snapshots is a separate step.
// Mirrors containerd's `client/pull.go` (`Pull`, `fetch`), `core/remotes/handlers.go`
// (`FetchHandler`, `fetch`) and `core/content/helpers.go` (`OpenWriter`, `Copy`).

import { ApiError, isErrorCode } from "../api/errors.ts";
import type { ContentInfo } from "../content/types.ts";
import { isIndexType } from "../images/media_types.ts";
import type { Descriptor, ImageIndex, ImageManifest, Platform } from "../images/types.ts";
import type { Labels } from "../metadata/db.ts";
import { defaultPlatform, onlyPlatform } from "../platforms/compare.ts";
import { formatPlatform } from "../platforms/parse.ts";
import { RegistryError } from "./errors.ts";
import type { Fetcher } from "./fetcher.ts";
import {
  appendDistributionSource,
  childGcLabels,
  childrenOf,
  distributionSourceKey,
  isDocumentType,
  parseDocument,
  platformOfConfig,
  refKey,
  selectManifests,
} from "./handlers.ts";
import { repositoryDisplayName } from "./hosts.ts";
import { Limiter, settleAll } from "./limiter.ts";
import { TransferTracker } from "./progress.ts";
import { type ResolvedReference, Resolver } from "./resolver.ts";
import { MeteredStream } from "./streams.ts";
import type { PullOptions, PullResult, RegistryServices } from "./types.ts";
import { MAX_MANIFEST_BYTES } from "./verify.ts";

/** Attempts per blob when the connection drops mid-transfer (each resumes). */
const BLOB_ATTEMPTS = 6;
const RESUME_BASE_DELAY_MS = 50;

/**
 * Pulls `reference` into the content store and records the image. Returns the image
 * and the manifests fetched; throws a RegistryError (or the store's ApiError).
 */
export async function pullImage(
  services: RegistryServices,
  reference: string,
  options: PullOptions = {},
): Promise<PullResult> {
  const resolver = options.resolver ?? new Resolver(options);
  const tracker = options.tracker ?? new TransferTracker();
  const { name } = resolver.locate(reference);
  tracker.update(name, "resolving");
  const resolved = await resolver.resolve(reference, options.signal);
  tracker.update(name, "resolved");
  const session = new PullSession(services, resolver.fetcher(resolved.repository), resolved, {
    ...options,
    tracker,
  });
  await session.handle(resolved.descriptor, undefined);
  const image = await services.images.put({
    name: resolved.name,
    target: resolved.descriptor,
    labels: options.imageLabels ?? {},
  });
  return {
    image,
    resolved,
    manifests: await session.fetchedManifests(),
    bytesFetched: session.bytesFetched,
  };
}

/** One pull's walk over the image graph. */
class PullSession {
  readonly #limiter: Limiter;
  readonly #tracker: TransferTracker;
  readonly #sourceKey: string;
  readonly #sourceRepository: string;
  readonly #wanted: Platform[] | "all";
  readonly #manifests: { descriptor: Descriptor; platform?: Platform; config?: Descriptor }[] = [];
  readonly #abort = new AbortController();
  bytesFetched = 0;

  constructor(
    private readonly services: RegistryServices,
    private readonly fetcher: Fetcher,
    private readonly resolved: ResolvedReference,
    private readonly options: PullOptions & { tracker: TransferTracker },
  ) {
    this.#limiter = new Limiter(options.maxConcurrentDownloads ?? 3);
    this.#tracker = options.tracker;
    this.#sourceKey = distributionSourceKey(resolved.repository.endpoint.domain);
    this.#sourceRepository = resolved.repository.path;
    this.#wanted = options.allPlatforms
      ? "all"
      : options.platforms?.length
      ? options.platforms
      : [defaultPlatform()];
    options.signal?.addEventListener("abort", () => this.#abort.abort(options.signal?.reason));
  }

  get #signal(): AbortSignal {
    return this.#abort.signal;
  }

  /** Fetches one node and everything below it that the platform choice keeps. */
  async handle(descriptor: Descriptor, platform: Platform | undefined): Promise<void> {
    try {
      if (isDocumentType(descriptor.mediaType)) {
        await this.#handleDocument(descriptor, platform);
      } else {
        await this.#handleBlob(descriptor);
      }
    } catch (error) {
      this.#abort.abort(error); // stop the sibling downloads early
      throw error;
    }
  }

  async #handleDocument(descriptor: Descriptor, platform: Platform | undefined): Promise<void> {
    const key = refKey(descriptor);
    this.#tracker.update(key, "waiting", { total: descriptor.size });
    const existing = await this.#info(descriptor);
    const bytes = existing
      ? await this.services.content.readAll(descriptor.digest, MAX_MANIFEST_BYTES)
      : await this.fetcher.fetchDocument(descriptor, this.#signal);
    const document = parseDocument(descriptor, bytes);
    const children = childrenOf(document);
    const labels: Labels = { ...childGcLabels(children) };
    // For an index, which manifests to follow (this may refuse: no platform matches).
    const next = isIndexType(descriptor.mediaType)
      ? this.#selectFromIndex(document as ImageIndex).map((child) => ({
        child,
        platform: child.platform,
      }))
      : children.map((child) => ({ child, platform }));
    if (!isIndexType(descriptor.mediaType)) {
      this.#manifests.push({ descriptor, platform, config: (document as ImageManifest).config });
    }
    // Storing this document and fetching its children overlap; the lease keeps the
    // children safe from garbage collection until the image record points at them.
    const store = existing
      ? this.#addSourceLabel(existing).then(() => this.#tracker.update(key, "exists"))
      : this.#storeDocument(descriptor, bytes, {
        ...labels,
        [this.#sourceKey]: this.#sourceRepository,
      });
    await settleAll([store, ...next.map(({ child, platform }) => this.handle(child, platform))]);
  }

  async #storeDocument(descriptor: Descriptor, bytes: Uint8Array, labels: Labels): Promise<void> {
    await this.services.content.write(bytes as Uint8Array<ArrayBuffer>, {
      ref: refKey(descriptor),
      expected: descriptor.digest,
      total: descriptor.size,
      labels,
    });
    this.bytesFetched += bytes.byteLength;
    this.#tracker.update(refKey(descriptor), "done", {
      offset: descriptor.size,
      total: descriptor.size,
    });
  }

  /** The manifests of an index this pull wants: the best match per wanted platform. */
  #selectFromIndex(index: ImageIndex): Descriptor[] {
    if (this.#wanted === "all") return index.manifests;
    const chosen = new Map<string, Descriptor>();
    for (const platform of this.#wanted) {
      for (const manifest of selectManifests(index.manifests, onlyPlatform(platform), 1)) {
        chosen.set(manifest.digest, manifest);
      }
    }
    if (chosen.size === 0) {
      const available = index.manifests
        .map((manifest) => manifest.platform ? formatPlatform(manifest.platform) : "unknown")
        .join(", ");
      throw new RegistryError(
        "not_found",
        `${this.resolved.name} has no manifest for ${
          this.#wanted.map(formatPlatform).join(", ")
        } (it has: ${available || "nothing"}); choose one with --platform, or --all-platforms`,
      );
    }
    return [...chosen.values()];
  }

  async #handleBlob(descriptor: Descriptor): Promise<void> {
    const key = refKey(descriptor);
    this.#tracker.update(key, "waiting", { total: descriptor.size });
    const existing = await this.#info(descriptor);
    if (existing) {
      await this.#addSourceLabel(existing);
      this.#tracker.update(key, "exists");
      return;
    }
    await this.#limiter.run(() => this.#download(descriptor, key));
  }

  /**
   * Streams one blob into its ingest, resuming from the ingest's offset after a
   * dropped connection, until the store commits it or refuses its bytes.
   */
  async #download(descriptor: Descriptor, key: string): Promise<void> {
    const labels: Labels = { [this.#sourceKey]: this.#sourceRepository };
    for (let attempt = 1;; attempt++) {
      this.#signal.throwIfAborted();
      let start = await this.#ingestOffset(key, descriptor);
      this.#tracker.update(key, "downloading", { offset: start, total: descriptor.size });
      const download = await this.fetcher.openBlob(descriptor, start, this.#signal);
      if (download.offset !== start) start = 0; // the registry ignored Range: start over
      const metered = new MeteredStream(download.body, {
        limit: descriptor.size - start,
        what: key,
        // A dropped connection ends the body early instead of failing it, so the bytes
        // already on their way still reach the ingest and the resume starts after them.
        onSourceError: "close",
        onProgress: (count) => this.#tracker.advance(key, start + count),
      });
      try {
        await this.services.content.write(metered.readable, {
          ref: key,
          expected: descriptor.digest,
          total: descriptor.size,
          // Without an offset the store truncates the ingest and starts over.
          offset: start > 0 ? start : undefined,
          labels,
        });
        this.bytesFetched += metered.transferred;
        this.#tracker.update(key, "done", { offset: descriptor.size });
        return;
      } catch (error) {
        this.bytesFetched += metered.transferred;
        await metered.cancelSource(error);
        const allBytesArrived = metered.sourceError === undefined &&
          metered.transferred === descriptor.size - start;
        if (allBytesArrived && isErrorCode(error, "failed_precondition")) {
          await this.services.content.abort(key).catch(() => {});
          throw new RegistryError(
            "digest_mismatch",
            `${key} from ${repositoryDisplayName(this.resolved.repository)}: the bytes received ` +
              `are not the blob its digest names, so nothing was stored ` +
              `(content store: ${(error as ApiError).message})`,
          );
        }
        if (error instanceof RegistryError || this.#signal.aborted || attempt >= BLOB_ATTEMPTS) {
          throw error;
        }
        // The connection dropped (or the ingest was still locked by the interrupted
        // write): pause, then resume from whatever offset the ingest reached.
        await delay(RESUME_BASE_DELAY_MS * 2 ** (attempt - 1));
      }
    }
  }

  /** Where to resume an ingest; 0 (after discarding it) when it cannot be resumed. */
  async #ingestOffset(key: string, descriptor: Descriptor): Promise<number> {
    let status;
    try {
      status = await this.services.content.status(key);
    } catch (error) {
      if (isErrorCode(error, "not_found")) return 0;
      throw error;
    }
    const sameBlob = (status.total === 0 || status.total === descriptor.size) &&
      (status.expected === undefined || status.expected === descriptor.digest);
    if (sameBlob && status.offset <= descriptor.size) return status.offset;
    await this.services.content.abort(key).catch(() => {});
    return 0;
  }

  async #info(descriptor: Descriptor): Promise<ContentInfo | undefined> {
    try {
      return await this.services.content.info(descriptor.digest);
    } catch (error) {
      if (isErrorCode(error, "not_found")) return undefined;
      throw error;
    }
  }

  /** Records that existing content is also available from this repository. */
  async #addSourceLabel(info: ContentInfo): Promise<void> {
    const current = info.labels?.[this.#sourceKey];
    const updated = appendDistributionSource(current, this.#sourceRepository);
    if (updated === current) return;
    await this.services.content.updateLabels(info.digest, { [this.#sourceKey]: updated }, {
      merge: true,
    });
  }

  /** The manifests fetched, with their platforms (read from the config when the index had none). */
  async fetchedManifests(): Promise<PullResult["manifests"]> {
    const result: PullResult["manifests"] = [];
    for (const { descriptor, platform, config } of this.#manifests) {
      let found = platform;
      if (!found && config) {
        try {
          const bytes = await this.services.content.readAll(config.digest, MAX_MANIFEST_BYTES);
          found = platformOfConfig(JSON.parse(new TextDecoder().decode(bytes)));
        } catch { /* a config that is not an image config (an artifact) has no platform */ }
      }
      result.push({ descriptor, platform: found });
    }
    return result;
  }
}

function delay(milliseconds: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, milliseconds));
}
