// What this teaches: what `ctr images import` does after the bytes are in the store.
// The archive's index is the root; each of its entries that has a name becomes an
// image record (name → manifest descriptor). The content below the entries for the
// wanted platforms is checked and linked with GC labels, and only then are the
// records written, so an image never points at a tree with holes. The index itself
// is thrown away unless --index-name keeps it.
// Mirrors containerd's client/import.go (Client.Import, imageName) on top of
// core/images/archive/importer.go.

import { invalidArgument } from "../api/errors.ts";
import type { Descriptor, Image } from "../images/types.ts";
import { defaultPlatformMatcher } from "../platforms/compare.ts";
import { importIndex } from "./import_index.ts";
import { parseImageIndex } from "../images/manifest.ts";
import { readSmallBlob } from "../images/walk.ts";
import {
  addRefPrefix,
  defaultImportPrefix,
  digestReference,
  filterRefPrefix,
  imageNameOf,
} from "./naming.ts";
import type { ArchiveServices, ImportOptions, ImportResult } from "./types.ts";
import { labelImageTree } from "./walk.ts";

/** An image record to create, in the order the index lists them. */
interface PlannedImage {
  name: string;
  target: Descriptor;
}

/**
 * Imports an OCI layout or `docker save` archive: stores its blobs, links them for
 * the garbage collector, and creates (or repoints) an image record per named entry.
 */
export async function importImages(
  services: ArchiveServices,
  archive: ReadableStream<Uint8Array>,
  options: ImportOptions = {},
): Promise<ImportResult> {
  // Blobs written now are referenced by nothing until the image records exist: a
  // lease keeps the garbage collector away from them meanwhile (containerd's
  // client.WithLease, which expires after 24 hours should the client die).
  const lease = services.leases && services.content.withLease
    ? await services.leases.create({ expiresInMs: LEASE_EXPIRY_MS })
    : undefined;
  try {
    const content = lease ? services.content.withLease!(lease.id) : services.content;
    return await importUnderLease({ content, images: services.images }, archive, options);
  } finally {
    // Deleting the lease hands unreferenced leftovers (the index, unless --index-name
    // keeps it) to the next collection.
    if (lease) await services.leases!.delete(lease.id).catch(() => {});
  }
}

/** How long an import lease protects its blobs if the importer dies before deleting it. */
const LEASE_EXPIRY_MS = 24 * 60 * 60 * 1000;

async function importUnderLease(
  services: ArchiveServices,
  archive: ReadableStream<Uint8Array>,
  options: ImportOptions,
): Promise<ImportResult> {
  const { content, images } = services;
  const index = await importIndex(content, archive, {
    onBlob: options.onBlob,
    signal: options.signal,
  });

  // Without --base-name ctr invents `import-<date>` for tag-only names; with it, only
  // names under the base are kept.
  const prefix = options.baseName || defaultImportPrefix(options.now ?? new Date());
  const translate = options.baseName ? filterRefPrefix(prefix) : addRefPrefix(prefix);
  const planned: PlannedImage[] = [];
  if (options.indexName) planned.push({ name: options.indexName, target: index });

  const platforms = options.platforms ?? defaultPlatformMatcher();
  const matched = await labelImageTree(content, index, {
    platforms,
    childrenFor: async (descriptor) => {
      if (descriptor.digest !== index.digest) return undefined;
      const entries = parseImageIndex(await readSmallBlob(content, index), index).manifests;
      for (const entry of entries) {
        const name = imageNameOf(entry.annotations, translate);
        if (name) planned.push({ name, target: entry });
        if (options.digests && !(options.skipDigestForNamed && name)) {
          planned.push({ name: digestReference(prefix, entry.digest), target: entry });
        }
      }
      return entries;
    },
  });
  if (matched === 0) {
    throw invalidArgument(
      "the archive has no image for the requested platform (the default is this machine's): " +
        "use --all-platforms or --platform",
    );
  }

  const created: Image[] = [];
  for (const image of planned) {
    created.push(
      await images.put({
        name: image.name,
        target: stripForRecord(image.target),
        labels: options.labels,
      }),
    );
  }
  return { index, images: created };
}

/** The descriptor an image record keeps: the archive's name annotations stay on it, as in containerd. */
function stripForRecord(descriptor: Descriptor): Descriptor {
  const target: Descriptor = {
    mediaType: descriptor.mediaType,
    digest: descriptor.digest,
    size: descriptor.size,
  };
  if (descriptor.annotations) target.annotations = descriptor.annotations;
  if (descriptor.platform) target.platform = descriptor.platform;
  if (descriptor.urls) target.urls = descriptor.urls;
  return target;
}
