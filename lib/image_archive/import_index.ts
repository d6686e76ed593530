// What this teaches: how one importer reads both archive formats in a single pass.
// Tar entries arrive in whatever order the writer chose, so every file is streamed
// into the content store as it comes (an OCI blob under the digest its name
// promises, a `docker save` file under the digest computed on the way), and the
// small JSON files that say what everything is (oci-layout, index.json,
// manifest.json) are only interpreted at the end:
// - OCI layout: index.json already is an image index; it is stored as a blob and
//   becomes the root of the import.
// - docker save: manifest.json lists, per image, a config file and layer files. The
//   importer writes a Docker schema 2 manifest for each, and one OCI index listing
//   them all, naming each entry after its RepoTags (normalized: `busybox:latest` →
//   `docker.io/library/busybox:latest`).
// Mirrors containerd's core/images/archive/importer.go (ImportIndex) and
// reference.go (normalizeReference, ociReferenceName).

import { invalidArgument } from "../api/errors.ts";
import type { ContentApi } from "../content/types.ts";
import type { Descriptor, ImageIndex } from "../images/types.ts";
import { configPlatform, readImageConfig } from "../images/image.ts";
import { MediaTypes } from "../images/media_types.ts";
import { decompressStream } from "../archive/compression.ts";
import { formatReference } from "../reference/reference.ts";
import { parseDockerRef } from "../reference/normalize.ts";
import { sha256Digest } from "./digest.ts";
import { cleanEntryName, digestOfBlobPath, resolveArchivePath } from "./entry_names.ts";
import {
  ingestBlob,
  type IngestedBlob,
  parseJson,
  readSmallEntry,
  writeSmallBlob,
} from "./ingest.ts";
import { ociReferenceName } from "./naming.ts";
import {
  ANNOTATION_IMAGE_NAME,
  ANNOTATION_REF_NAME,
  DOCKER_MANIFEST_FILE,
  IMAGE_LAYOUT_VERSION,
  OCI_INDEX_FILE,
  OCI_LAYOUT_FILE,
} from "./oci_layout.ts";
import { readTarEntries } from "./tar_stream.ts";
import type { DockerManifestEntry, OciLayoutFile } from "./types.ts";

/** Options of importIndex(). */
export interface ImportIndexOptions {
  /** Called after each blob is stored (progress output). */
  onBlob?: (event: { name: string; digest: string; size: number }) => void;
  signal?: AbortSignal;
}

// Files of the legacy docker v1 layout (`<id>/json`, `<id>/VERSION`, `repositories`)
// that no manifest.json refers to; storing them would only make garbage.
function isLegacyDockerFile(name: string): boolean {
  return name === "repositories" || /^[^/]+\/(json|VERSION)$/.test(name);
}

/** Everything the single pass over the archive collected. */
interface ArchiveContents {
  ociLayout?: OciLayoutFile;
  indexBytes?: Uint8Array<ArrayBuffer>;
  dockerManifests?: DockerManifestEntry[];
  /** Stored files by clean entry name. */
  files: Map<string, IngestedBlob>;
  /** Symlinks by clean entry name → clean target name (old `docker save` dedups layers so). */
  links: Map<string, string>;
}

/** Wraps the decompressed stream so a broken gzip layer says so in plain words. */
async function* explainingCompressionErrors(
  chunks: AsyncIterable<Uint8Array>,
  compression: string,
): AsyncGenerator<Uint8Array> {
  try {
    yield* chunks;
  } catch (error) {
    if (compression === "none") throw error;
    throw invalidArgument(
      `the archive's ${compression} stream is corrupt or truncated ` +
        `(${error instanceof Error ? error.message : error})`,
    );
  }
}

async function decompressArchive(archive: ReadableStream<Uint8Array>) {
  let decompressed;
  try {
    decompressed = await decompressStream(archive);
  } catch (error) {
    // The detector speaks of layers (its usual input); here it is the whole archive.
    throw invalidArgument(
      `cannot read the archive: ${error instanceof Error ? error.message : error}`.replace(
        "layer is",
        "the archive is",
      ),
    );
  }
  return explainingCompressionErrors(decompressed.chunks, decompressed.compression);
}

/** Reads the whole archive once, storing every file and keeping the JSON that describes them. */
async function readArchive(
  content: ContentApi,
  archive: ReadableStream<Uint8Array>,
  options: ImportIndexOptions,
): Promise<ArchiveContents> {
  const found: ArchiveContents = { files: new Map(), links: new Map() };
  const importId = crypto.randomUUID().slice(0, 8);
  for await (const { header, body } of readTarEntries(await decompressArchive(archive))) {
    options.signal?.throwIfAborted();
    const name = cleanEntryName(header.name);
    const blobDigest = digestOfBlobPath(name);
    const isRegularFile = header.type === "file" || header.type === "contiguous-file";
    if (!isRegularFile) {
      if (blobDigest !== undefined || (name.startsWith("blobs/") && header.type !== "directory")) {
        throw invalidArgument(
          `archive entry ${name} is a ${header.type}, not a regular file: blobs must be files`,
        );
      }
      if (header.type === "symlink" || header.type === "link") {
        const base = header.type === "symlink" ? name.split("/").slice(0, -1).join("/") : "";
        found.links.set(name, resolveArchivePath(header.linkname ?? "", base));
      }
      continue; // directories (and devices, which an image archive has no use for)
    }
    if (name === OCI_LAYOUT_FILE) {
      const bytes = await readSmallEntry(body, header.size, name);
      found.ociLayout = parseJson<OciLayoutFile>(bytes, name);
    } else if (name === OCI_INDEX_FILE) {
      found.indexBytes = await readSmallEntry(body, header.size, name) as Uint8Array<ArrayBuffer>;
    } else if (name === DOCKER_MANIFEST_FILE) {
      const bytes = await readSmallEntry(body, header.size, name);
      found.dockerManifests = validateDockerManifests(parseJson<unknown>(bytes, name));
    } else if (isLegacyDockerFile(name)) {
      continue;
    } else {
      // An OCI blob is written under the digest its name promises (the store refuses
      // other bytes); another file (a docker `<id>/layer.tar`) under its own digest.
      // Refs are unique per import, so two imports of one archive never wait on each
      // other's ref lock; the second commit just finds the blob already there.
      const ref = `import-${importId}-${blobDigest ?? name}`;
      const blob = await ingestBlob(content, body, {
        ref,
        expected: blobDigest,
        size: header.size,
        entryName: name,
      });
      found.files.set(name, blob);
      options.onBlob?.({ name, digest: blob.digest, size: blob.size });
    }
  }
  return found;
}

function validateDockerManifests(value: unknown): DockerManifestEntry[] {
  const fail = (problem: string): never => {
    throw invalidArgument(`${DOCKER_MANIFEST_FILE} is not a docker save manifest: ${problem}`);
  };
  if (!Array.isArray(value)) fail("expected a JSON array");
  return (value as unknown[]).map((entry, position) => {
    const item = entry as Partial<DockerManifestEntry>;
    if (typeof item !== "object" || item === null) fail(`entry ${position} is not an object`);
    if (typeof item.Config !== "string") fail(`entry ${position} has no Config path`);
    if (!Array.isArray(item.Layers) || item.Layers.some((layer) => typeof layer !== "string")) {
      fail(`entry ${position} has no Layers list of paths`);
    }
    if (
      item.RepoTags != null &&
      (!Array.isArray(item.RepoTags) || item.RepoTags.some((tag) => typeof tag !== "string"))
    ) {
      fail(`entry ${position} has a RepoTags that is not a list of names`);
    }
    return item as DockerManifestEntry;
  });
}

/** Finds a stored file by the path manifest.json uses, following symlinks inside the archive. */
function lookupFile(found: ArchiveContents, path: string, what: string): IngestedBlob {
  let name = resolveArchivePath(path);
  for (let hops = 0; hops < 16; hops++) {
    const file = found.files.get(name);
    if (file) return file;
    const target = found.links.get(name);
    if (target === undefined) break;
    name = target;
  }
  throw invalidArgument(
    `${what} ${JSON.stringify(path)} listed in manifest.json is not in the archive`,
  );
}

/** The docker media type of a layer file, judged from its first bytes (as containerd does). */
function dockerLayerMediaType(blob: IngestedBlob): string {
  if (blob.compression === "gzip") return MediaTypes.dockerLayerGzip;
  if (blob.compression === "zstd") return MediaTypes.ociLayerZstd;
  return MediaTypes.dockerLayer;
}

const encoder = new TextEncoder();

/** Stores a JSON document as a blob and returns its descriptor. */
async function storeJson(content: ContentApi, value: unknown, mediaType: string) {
  const bytes = encoder.encode(JSON.stringify(value));
  const digest = sha256Digest(bytes);
  await writeSmallBlob(content, bytes, digest);
  return { mediaType, digest, size: bytes.byteLength } satisfies Descriptor;
}

/** Turns `docker save`'s manifest.json into schema 2 manifests and one OCI index. */
async function indexFromDockerManifests(
  content: ContentApi,
  found: ArchiveContents,
  entries: DockerManifestEntry[],
): Promise<Descriptor> {
  const manifests: Descriptor[] = [];
  for (const entry of entries) {
    const configFile = lookupFile(found, entry.Config, "image config");
    const config: Descriptor = {
      mediaType: MediaTypes.dockerConfig,
      digest: configFile.digest,
      size: configFile.size,
    };
    const layers = entry.Layers.map((path): Descriptor => {
      const layer = lookupFile(found, path, "layer");
      return { mediaType: dockerLayerMediaType(layer), digest: layer.digest, size: layer.size };
    });
    const manifest = await storeJson(content, {
      schemaVersion: 2,
      mediaType: MediaTypes.dockerManifest,
      config,
      layers,
    }, MediaTypes.dockerManifest);
    // The index entry carries the platform, taken from the config (os, architecture).
    const platform = configPlatform(await readImageConfig(content, config));
    const descriptor: Descriptor = { ...manifest, platform };
    const tags = entry.RepoTags ?? [];
    if (tags.length === 0) manifests.push(descriptor);
    for (const tag of tags) {
      let name: string;
      try {
        name = formatReference(parseDockerRef(tag));
      } catch (error) {
        throw invalidArgument(
          `manifest.json has an invalid RepoTag ${JSON.stringify(tag)}: ${
            error instanceof Error ? error.message : error
          }`,
        );
      }
      manifests.push({
        ...descriptor,
        annotations: {
          [ANNOTATION_IMAGE_NAME]: name,
          [ANNOTATION_REF_NAME]: ociReferenceName(name),
        },
      });
    }
  }
  const index: ImageIndex = { schemaVersion: 2, mediaType: MediaTypes.ociIndex, manifests };
  return await storeJson(content, index, MediaTypes.ociIndex);
}

/**
 * Imports an OCI layout or `docker save` archive (gzip or plain tar) into the content
 * store and returns the descriptor of its index, the root of everything imported.
 * OCI is preferred when an archive carries both (Docker 25+ writes both).
 */
export async function importIndex(
  content: ContentApi,
  archive: ReadableStream<Uint8Array>,
  options: ImportIndexOptions = {},
): Promise<Descriptor> {
  const found = await readArchive(content, archive, options);
  if (found.ociLayout !== undefined) {
    const version = found.ociLayout.imageLayoutVersion;
    if (version !== IMAGE_LAYOUT_VERSION) {
      throw invalidArgument(
        `unsupported OCI layout version ${JSON.stringify(version)} in ${OCI_LAYOUT_FILE}: ` +
          `mini reads version ${IMAGE_LAYOUT_VERSION}`,
      );
    }
    if (found.indexBytes === undefined) {
      throw invalidArgument(`the archive has ${OCI_LAYOUT_FILE} but no ${OCI_INDEX_FILE}`);
    }
    const digest = sha256Digest(found.indexBytes);
    await writeSmallBlob(content, found.indexBytes, digest);
    return { mediaType: MediaTypes.ociIndex, digest, size: found.indexBytes.byteLength };
  }
  if (found.dockerManifests !== undefined) {
    return await indexFromDockerManifests(content, found, found.dockerManifests);
  }
  throw invalidArgument(
    "unrecognized image archive: it has neither oci-layout and index.json (an OCI image " +
      "layout) nor manifest.json (docker save)",
  );
}
