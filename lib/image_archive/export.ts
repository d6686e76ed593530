// What this teaches: exporting is the import read backwards. The images to export
// are looked up by name; their trees are walked to list every blob (for an index:
// the index itself, then the manifests of the wanted platforms); index.json lists
// the image targets annotated with their names; a docker-style manifest.json names
// one manifest per image so `docker load` can read the same tar. Blobs are streamed
// from the content store into the tar one at a time, and each is re-hashed on the way
// out, so a damaged store can never produce an archive that lies about its content.
// Mirrors containerd's core/images/archive/exporter.go (Export, getRecords,
// manifestsRecord, blobRecord) and client/export.go.

import { createHash } from "node:crypto";
import { invalidArgument, isErrorCode, notFound } from "../api/errors.ts";
import type { ContentApi } from "../content/types.ts";
import { parseImageIndex, parseImageManifest } from "../images/manifest.ts";
import { isIndexType, isManifestType } from "../images/media_types.ts";
import type { Descriptor } from "../images/types.ts";
import { imageChildren, readSmallBlob } from "../images/walk.ts";
import { defaultPlatform, onlyPlatformStrict, sortByPreference } from "../platforms/compare.ts";
import { blobPath } from "./entry_names.ts";
import { familiarReference, ociReferenceName } from "./naming.ts";
import {
  ANNOTATION_IMAGE_NAME,
  ANNOTATION_REF_NAME,
  type LayoutBlob,
  layoutIndex,
  ociLayoutRecords,
} from "./oci_layout.ts";
import { writeTar } from "./tar_stream.ts";
import type { ArchiveServices, DockerManifestEntry, ExportOptions } from "./types.ts";

/** A manifest that goes into manifest.json, with the names that point at it. */
interface DockerManifestPlan {
  manifest: Descriptor;
  names: string[];
}

/** Everything an export will write, decided before the first byte goes out. */
export interface ExportPlan {
  /** The image targets, annotated with their names: index.json's entries. */
  targets: Descriptor[];
  /** Every blob to include, in walk order (duplicates removed). */
  blobs: Descriptor[];
  /** The entries of manifest.json (absent with skipManifestJson). */
  dockerManifest?: DockerManifestEntry[];
}

/** The target with the two name annotations an OCI archive carries (addNameAnnotation). */
function annotateWithName(target: Descriptor, name: string): Descriptor {
  return {
    ...target,
    annotations: {
      ...target.annotations,
      [ANNOTATION_IMAGE_NAME]: name,
      [ANNOTATION_REF_NAME]: ociReferenceName(name),
    },
  };
}

/** The error for a blob an export needs but the store does not have. */
function missingBlob(descriptor: Descriptor): Error {
  const platform = descriptor.platform
    ? ` for ${descriptor.platform.os}/${descriptor.platform.architecture}`
    : "";
  return notFound(
    `blob ${descriptor.digest} (${descriptor.mediaType}${platform}) is not in the content ` +
      "store: the image is incomplete here (with --all-platforms every platform must be present)",
  );
}

/** Adds `root` and every blob under it (all children, whatever their platform) to `blobs`. */
async function collectTree(
  content: ContentApi,
  root: Descriptor,
  blobs: Map<string, Descriptor>,
): Promise<void> {
  if (blobs.has(root.digest)) return;
  blobs.set(root.digest, root);
  let children: Descriptor[];
  try {
    children = await imageChildren(content, root);
  } catch (error) {
    throw isErrorCode(error, "not_found") ? missingBlob(root) : error;
  }
  for (const child of children) await collectTree(content, child, blobs);
}

/**
 * Decides what an export of `names` contains: looks up the images, picks the
 * manifests of the wanted platforms, and checks every blob is present, so a missing
 * layer fails the export before any output is written.
 */
export async function planExport(
  services: ArchiveServices,
  names: string[],
  options: ExportOptions = {},
): Promise<ExportPlan> {
  const { content, images } = services;
  if (names.length === 0) throw invalidArgument("name at least one image to export");
  const platforms = options.platforms ?? onlyPlatformStrict(defaultPlatform());
  const targets: Descriptor[] = [];
  const blobs = new Map<string, Descriptor>();
  const dockerManifests = new Map<string, DockerManifestPlan>();
  const addName = (manifest: Descriptor, name: string) => {
    const plan = dockerManifests.get(manifest.digest) ?? { manifest, names: [] };
    plan.names.push(name);
    dockerManifests.set(manifest.digest, plan);
  };

  for (const name of names) {
    const image = await images.get(name);
    const target = annotateWithName(image.target, name);
    targets.push(target);
    if (isManifestType(target.mediaType)) {
      await collectTree(content, target, blobs);
      addName(target, name);
    } else if (isIndexType(target.mediaType)) {
      blobs.set(target.digest, target);
      let index;
      try {
        index = parseImageIndex(await readSmallBlob(content, target), target);
      } catch (error) {
        throw isErrorCode(error, "not_found") ? missingBlob(target) : error;
      }
      const wanted = index.manifests.filter((entry) =>
        entry.platform === undefined || platforms.match(entry.platform)
      );
      const included = options.allPlatforms ? index.manifests : wanted;
      for (const entry of included) await collectTree(content, entry, blobs);
      const [best] = sortByPreference(wanted, (entry) => entry.platform, platforms);
      if (best === undefined) {
        throw notFound(
          `image ${name} has no manifest for the requested platform; ` +
            "use --platform or --all-platforms",
        );
      }
      if (isManifestType(best.mediaType)) addName(best, name);
    } else {
      throw invalidArgument(
        `image ${name} points at a ${target.mediaType}: only manifests and indexes can be exported`,
      );
    }
  }

  for (const blob of blobs.values()) {
    try {
      const info = await content.info(blob.digest);
      if (info.size !== blob.size) {
        throw invalidArgument(
          `blob ${blob.digest} is stored with ${info.size} bytes but referenced with ${blob.size}`,
        );
      }
    } catch (error) {
      throw isErrorCode(error, "not_found") ? missingBlob(blob) : error;
    }
  }

  const plan: ExportPlan = { targets, blobs: [...blobs.values()] };
  if (!options.skipManifestJson) {
    plan.dockerManifest = [];
    for (const { manifest, names: manifestNames } of dockerManifests.values()) {
      const parsed = parseImageManifest(await readSmallBlob(content, manifest), manifest);
      plan.dockerManifest.push({
        Config: blobPath(parsed.config.digest),
        RepoTags: manifestNames.map(familiarReference),
        Layers: parsed.layers.map((layer) => blobPath(layer.digest)),
      });
    }
  }
  return plan;
}

/** A blob's bytes from the store, hashed on the way; a mismatch fails the export. */
async function* verifiedBlob(
  content: ContentApi,
  descriptor: Descriptor,
): AsyncGenerator<Uint8Array> {
  const hash = createHash("sha256");
  for await (const chunk of await content.read(descriptor.digest)) {
    hash.update(chunk);
    yield chunk;
  }
  const actual = `sha256:${hash.digest("hex")}`;
  if (actual !== descriptor.digest) {
    throw new Error(
      `blob ${descriptor.digest} read back as ${actual}: the content store is damaged`,
    );
  }
}

/** The OCI archive of a plan, as a tar stream. */
export function exportArchive(content: ContentApi, plan: ExportPlan): ReadableStream<Uint8Array> {
  const blobs: LayoutBlob[] = plan.blobs.map((descriptor) => ({
    digest: descriptor.digest,
    size: descriptor.size,
    body: () => verifiedBlob(content, descriptor),
  }));
  return writeTar(ociLayoutRecords(layoutIndex(plan.targets), blobs, plan.dockerManifest));
}

/**
 * Exports images as an OCI image-layout tar (with a docker manifest.json unless
 * skipped). Everything is checked before the stream starts.
 */
export async function exportImages(
  services: ArchiveServices,
  names: string[],
  options: ExportOptions = {},
): Promise<ReadableStream<Uint8Array>> {
  const plan = await planExport(services, names, options);
  return exportArchive(services.content, plan);
}
