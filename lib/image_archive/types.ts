// What this teaches: the contracts of moving images in and out of a container
// runtime as files: the two archive formats (OCI layout, `docker save`), the options
// that decide which images get which names, and the two services an import or
// export talks to (content and images).
// Mirrors containerd's client/import.go and client/export.go option sets and the
// manifest.json structure read by core/images/archive/importer.go.

import type { ContentApi } from "../content/types.ts";
import type { Descriptor, Image, ImagesApi } from "../images/types.ts";
import type { LeasesApi } from "../leases/types.ts";
import type { Labels } from "../metadata/db.ts";
import type { PlatformMatchComparer } from "../platforms/types.ts";

/** One entry of a `docker save` manifest.json. */
export interface DockerManifestEntry {
  /** Path of the image config inside the archive (`<id>.json` or `blobs/sha256/<hex>`). */
  Config: string;
  /** Familiar names (`busybox:latest`); null or absent for an untagged image. */
  RepoTags?: string[] | null;
  /** Paths of the layer tars inside the archive, base layer first. */
  Layers: string[];
}

/** The `oci-layout` marker file. */
export interface OciLayoutFile {
  imageLayoutVersion: string;
}

/** The content service, able to make its writes under a lease (ContentClient is). */
export interface LeasableContentApi extends ContentApi {
  withLease?(lease: string | undefined): ContentApi;
}

/**
 * What import and export need from a connection: the content and images services,
 * and leases (optional) so that garbage collection cannot take blobs mid-import.
 */
export interface ArchiveServices {
  content: LeasableContentApi;
  images: ImagesApi;
  leases?: LeasesApi;
}

/** Options of an import (the flags of `ctr images import`). */
export interface ImportOptions {
  /**
   * `--base-name`: tag-only OCI ref names become `<baseName>:<tag>`, and only images
   * under this name are kept. Without it, tags get a generated `import-<date>` prefix.
   */
  baseName?: string;
  /** `--index-name`: also keep the archive's index as an image with this name. */
  indexName?: string;
  /** `--digests`: also create `<baseName>@<digest>` images for every manifest. */
  digests?: boolean;
  /** `--skip-digest-for-named`: with `digests`, skip manifests that already got a name. */
  skipDigestForNamed?: boolean;
  /** Which manifests' content is walked and labelled (default: this machine's platform). */
  platforms?: PlatformMatchComparer;
  /** Labels set on every created image (`--label`). */
  labels?: Labels;
  /** The date used for the generated `import-YYYY-MM-DD` prefix (default: today). */
  now?: Date;
  /** Called as blobs arrive, for progress output. */
  onBlob?: (event: { name: string; digest: string; size: number }) => void;
  /** Stops the import; ingests already started are aborted. */
  signal?: AbortSignal;
}

/** What an import created. */
export interface ImportResult {
  /** The archive's index, as stored in the content store. */
  index: Descriptor;
  /** The image records created or updated, in index order. */
  images: Image[];
}

/** Options of an export (the flags of `ctr images export`). */
export interface ExportOptions {
  /** Which manifests of a multi-platform image go into the archive (default: this machine's). */
  platforms?: PlatformMatchComparer;
  /** Every manifest of every index (`--all-platforms`); missing content fails the export. */
  allPlatforms?: boolean;
  /** Leave out the Docker-compatible manifest.json (`--skip-manifest-json`). */
  skipManifestJson?: boolean;
}
