// What this teaches: the questions `ctr images ls` answers for each image record, and
// how each is a walk from the target: which manifest this host would run, how big the
// image is for this host, and which platforms it offers.
// Mirrors containerd's `core/images/image.go` (Manifest, Config, Platforms, Size).

import { invalidArgument, notFound } from "../api/errors.ts";
import { defaultPlatformMatcher } from "../platforms/compare.ts";
import { formatPlatform, normalizePlatform } from "../platforms/parse.ts";
import type { PlatformMatchComparer } from "../platforms/types.ts";
import { parseImageConfig } from "./manifest.ts";
import { isConfigType } from "./media_types.ts";
import type { Descriptor, ImageConfig, ImageIndex, ImageManifest, Platform } from "./types.ts";
import {
  type BlobReader,
  filterIndexEntries,
  readIndexOrManifest,
  readSmallBlob,
  walkImage,
} from "./walk.ts";

/** An image resolved for one platform: the chain from target to config. */
export interface ResolvedImage {
  /** The record's target (an index or a manifest). */
  target: Descriptor;
  /** The indexes passed through, outermost first (empty for a single-manifest image). */
  indexes: { descriptor: Descriptor; index: ImageIndex }[];
  manifestDescriptor: Descriptor;
  manifest: ImageManifest;
  config: ImageConfig;
}

/** Reads and validates an image config. */
export async function readImageConfig(
  reader: BlobReader,
  descriptor: Descriptor,
): Promise<ImageConfig> {
  return parseImageConfig(await readSmallBlob(reader, descriptor), descriptor);
}

/** The platform an image config declares, normalized (`ConfigPlatform`). */
export function configPlatform(config: ImageConfig): Platform {
  const platform: Platform = { os: config.os, architecture: config.architecture };
  if (config.variant) platform.variant = config.variant;
  return normalizePlatform(platform);
}

/**
 * Finds the manifest this platform would run (`images.Manifest` + `Config`): in an
 * index the best matching entry, in a manifest without a declared platform the
 * config's platform must match. Throws not_found naming what the image offers.
 */
export async function resolveImage(
  reader: BlobReader,
  target: Descriptor,
  platform: PlatformMatchComparer = defaultPlatformMatcher(),
): Promise<ResolvedImage> {
  const indexes: ResolvedImage["indexes"] = [];
  let descriptor = target;
  for (;;) {
    const document = await readIndexOrManifest(reader, descriptor);
    if (document.kind === "manifest") {
      const config = await readImageConfig(reader, document.manifest.config);
      // A lone manifest (or an index entry without a platform) is checked by its config.
      if (!descriptor.platform && !platform.match(configPlatform(config))) {
        throw notFound(
          `image ${target.digest} is for ${formatPlatform(configPlatform(config))}, ` +
            `which this platform cannot run`,
        );
      }
      return {
        target,
        indexes,
        manifestDescriptor: descriptor,
        manifest: document.manifest,
        config,
      };
    }
    indexes.push({ descriptor, index: document.index });
    const [best] = filterIndexEntries(document.index.manifests, { platform, limitManifests: 1 });
    if (!best) {
      const offered = document.index.manifests
        .map((entry) => entry.platform ? formatPlatform(entry.platform) : "unknown")
        .join(", ");
      throw notFound(
        `no manifest for this platform in index ${descriptor.digest} (it has: ${
          offered || "none"
        })`,
      );
    }
    if (indexes.length > 8) {
      throw invalidArgument(`image ${target.digest} nests indexes more than 8 deep`);
    }
    descriptor = best;
  }
}

/**
 * The size `ctr images ls` shows: the target, plus for the best matching platform
 * its manifest, config and layers, as their descriptors state (`Image.Size`).
 * Throws when a manifest cannot be read; see measureImage for the partial sum.
 */
export async function imageSize(
  reader: BlobReader,
  target: Descriptor,
  platform: PlatformMatchComparer = defaultPlatformMatcher(),
): Promise<number> {
  const { size, error } = await measureImage(reader, target, platform);
  if (error !== undefined) throw error;
  return size;
}

/**
 * Like imageSize, but returns the sum reached so far together with the error when
 * some blob is missing or broken, which is what ctr prints (with a logged error)
 * for a partially present image.
 */
export async function measureImage(
  reader: BlobReader,
  target: Descriptor,
  platform: PlatformMatchComparer = defaultPlatformMatcher(),
): Promise<{ size: number; error?: unknown }> {
  let size = 0;
  try {
    await walkImage(reader, target, (descriptor) => {
      size += descriptor.size;
    }, { platform, limitManifests: 1 });
    return { size };
  } catch (error) {
    return { size, error };
  }
}

/**
 * The platforms an image offers (`images.Platforms`): an index's entries as
 * declared (skipping `unknown/unknown` attestation entries), or a manifest's config.
 */
export async function imagePlatforms(reader: BlobReader, target: Descriptor): Promise<Platform[]> {
  const found: Platform[] = [];
  await walkImage(reader, target, async (descriptor) => {
    if (descriptor.platform) {
      if (descriptor.platform.os !== "unknown" && descriptor.platform.architecture !== "unknown") {
        found.push(descriptor.platform);
      }
      return false;
    }
    if (isConfigType(descriptor.mediaType)) {
      found.push(configPlatform(await readImageConfig(reader, descriptor)));
    }
  });
  return found;
}

/** The PLATFORMS column of `ctr images ls`: sorted, de-duplicated, comma-joined; `-` if none. */
export function formatPlatformsColumn(platforms: Platform[]): string {
  const names = [...new Set(platforms.map(formatPlatform))].sort();
  return names.length === 0 ? "-" : names.join(",");
}
