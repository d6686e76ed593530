// What this teaches: `docker load` reads an image archive, either what `docker save`
// writes (manifest.json listing each image's config and layer tars, with RepoTags) or
// an OCI image layout (index.json, blobs/sha256/…, names in annotations), unpacks the
// layers into the layer store and tags the images. The archive is read in one pass
// into a scratch content store (the same importer mini-ctr uses), then each image is
// unpacked from there, and the scratch store is deleted. A tag that already named
// another image is moved, and dockerd says so. Each image loaded is one `load` event
// (actor and name: the image ID; the tags it got are not `tag` events).
// Mirrors moby's image/tarexport/load.go (Load, loadLayer, setLoadedTag) and, for
// OCI layouts, what Docker 25+ accepts.

import { importIndex } from "../../image_archive/import_index.ts";
import { imageNameOf } from "../../image_archive/naming.ts";
import { isIndexType } from "../../images/media_types.ts";
import { parseImageIndex, parseImageManifest } from "../../images/manifest.ts";
import type { Descriptor } from "../../images/types.ts";
import { defaultPlatformMatcher } from "../../platforms/compare.ts";
import { familiarString } from "../../reference/normalize.ts";
import { selectManifests } from "../../registry/handlers.ts";
import type { Daemon } from "../daemon.ts";
import { parseImageReference } from "../image/reference_store.ts";
import { badParameter } from "../server/errors.ts";
import type { ProgressWriter } from "../server/progress.ts";
import { ScratchContent } from "./scratch_content.ts";
import { importManifest } from "./unpack.ts";

/** Options of loadImages(). */
export interface LoadOptions {
  /** Without quiet, "Loading layer" progress lines are sent (as dockerd does for terminals). */
  quiet: boolean;
  progress?: ProgressWriter;
}

/**
 * Loads every image of an archive; returns the lines `docker load` prints:
 * "Loaded image: busybox:latest" per tag, "Loaded image ID: sha256:…" for untagged ones.
 */
export async function loadImages(
  daemon: Daemon,
  archive: ReadableStream<Uint8Array>,
  options: LoadOptions,
): Promise<string[]> {
  const scratch = await ScratchContent.create(daemon.paths.tmp, "load-");
  try {
    let index: Descriptor;
    try {
      index = await importIndex(scratch, archive);
    } catch (error) {
      throw badParameter(error instanceof Error ? error.message : String(error));
    }
    const entries = parseImageIndex(await scratch.readAll(index.digest), index).manifests;
    const lines: string[] = [];
    // An image under several tags is several index entries here but one event.
    const logged = new Set<string>();
    const logLoaded = (imageId: string) => {
      if (logged.has(imageId)) return;
      logged.add(imageId);
      daemon.images.logEvent("load", imageId, imageId);
    };
    for (const entry of entries) {
      const manifestDescriptor = await platformManifest(scratch, entry);
      if (!manifestDescriptor) continue;
      const manifest = parseImageManifest(
        await scratch.readAll(manifestDescriptor.digest),
        manifestDescriptor,
      );
      const configBytes = await scratch.readAll(manifest.config.digest);
      const image = await importManifest(daemon, scratch, manifest, configBytes, {
        progress: options.quiet || !options.progress
          ? undefined
          : (layer, diffId, consumed) =>
            options.progress!.progress("Loading layer", diffId.slice(7, 19), consumed, layer.size),
      });
      const name = imageNameOf(entry.annotations);
      const tag = name ? tagOf(name) : undefined;
      if (!tag) {
        lines.push(`Loaded image ID: ${image.id}`);
        logLoaded(image.id);
        continue;
      }
      const reference = parseImageReference(tag);
      const previous = daemon.references.get(reference);
      if (previous && previous !== image.id) {
        lines.push(
          `The image ${
            familiarString(reference)
          } already exists, renaming the old one with ID ${previous} to empty string`,
        );
      }
      await daemon.references.addTag(reference, image.id, true);
      await daemon.imageStore.touch(image.id);
      lines.push(`Loaded image: ${familiarString(reference)}`);
      logLoaded(image.id);
    }
    if (lines.length === 0) {
      throw badParameter("the archive has no image for this platform");
    }
    return lines;
  } finally {
    await scratch.destroy();
  }
}

/** A full image name with a tag, or undefined for a bare OCI ref name ("latest") or a digest. */
function tagOf(name: string): string | undefined {
  if (!name.includes("/") && !name.includes(":")) return undefined; // a bare tag: no repository
  try {
    const reference = parseImageReference(name);
    return reference.tag !== undefined ? familiarString(reference) : undefined;
  } catch {
    return undefined;
  }
}

/** The manifest for this machine: the entry itself, or the best match inside a nested index. */
async function platformManifest(
  scratch: ScratchContent,
  entry: Descriptor,
): Promise<Descriptor | undefined> {
  if (!isIndexType(entry.mediaType)) return entry;
  const nested = parseImageIndex(await scratch.readAll(entry.digest), entry).manifests;
  const chosen = selectManifests(nested, defaultPlatformMatcher(), 1)[0];
  if (!chosen) return undefined;
  return await platformManifest(scratch, chosen);
}
