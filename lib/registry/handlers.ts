// What this teaches: an image is a small graph walked from one descriptor. An index
// points at manifests (one per platform), a manifest at a config and layers. A pull
// and a push both walk it: read a node, find its children, pick the platforms wanted,
// recurse. While walking, the content store gets the labels that make the graph
// visible to garbage collection (`containerd.io/gc.ref.content.m.<i>` from an index to
// its manifests, `...config` and `...l.<i>` from a manifest) and the label that remembers
// where a blob came from (`containerd.io/distribution.source.<registry>=<repository>`),
// which a later push uses to mount the blob instead of uploading it.
// Mirrors containerd's `core/remotes/handlers.go` (`MakeRefKey`, the distribution
// source labels) and `core/images/handlers.go` (`ChildrenHandler`,
// `SetChildrenMappedLabels`, `FilterPlatforms`, `LimitManifests`).

import type { Descriptor, ImageIndex, ImageManifest, Platform } from "../images/types.ts";
import {
  isConfigType,
  isIndexType,
  isLayerType,
  isManifestType,
  MediaTypes,
} from "../images/media_types.ts";
import type { Labels } from "../metadata/db.ts";
import type { PlatformMatchComparer } from "../platforms/types.ts";
import { sortByPreference } from "../platforms/compare.ts";
import { RegistryError } from "./errors.ts";

/** The label prefix naming the repositories a blob is known to exist in. */
export const DISTRIBUTION_SOURCE_LABEL_PREFIX = "containerd.io/distribution.source.";

/** The media types a registry may answer a manifest request with. */
export const MANIFEST_ACCEPT_TYPES = [
  MediaTypes.dockerManifest,
  MediaTypes.dockerManifestList,
  MediaTypes.ociManifest,
  MediaTypes.ociIndex,
];

const SCHEMA1_TYPES = [
  "application/vnd.docker.distribution.manifest.v1+json",
  "application/vnd.docker.distribution.manifest.v1+prettyjws",
];

/** `layer-sha256:…`, `manifest-sha256:…`: the ingest ref and progress key of a blob. */
export function refKey(descriptor: Descriptor): string {
  const type = descriptor.mediaType;
  if (isManifestType(type)) return `manifest-${descriptor.digest}`;
  if (isIndexType(type)) return `index-${descriptor.digest}`;
  if (isLayerType(type)) return `layer-${descriptor.digest}`;
  if (isConfigType(type)) return `config-${descriptor.digest}`;
  return `unknown-${descriptor.digest}`;
}

/** True for the two document kinds that have children: manifests and indexes. */
export function isDocumentType(mediaType: string): boolean {
  return isManifestType(mediaType) || isIndexType(mediaType);
}

/** Throws a clear error unless `mediaType` is a manifest or index type mini handles. */
export function requireDocumentType(mediaType: string, what: string): void {
  if (isDocumentType(mediaType)) return;
  if (SCHEMA1_TYPES.includes(mediaType)) {
    throw new RegistryError(
      "unsupported_media_type",
      `${what} is a Docker schema 1 manifest (${mediaType}), which mini does not pull: ` +
        `push the image again with a current tool to get a schema 2 or OCI manifest`,
    );
  }
  throw new RegistryError(
    "unsupported_media_type",
    `${what} has media type "${mediaType || "(none)"}", which is not an OCI or Docker schema 2 ` +
      `manifest or index; refusing it`,
  );
}

/** Drops parameters such as `; charset=utf-8` from a Content-Type. */
export function bareMediaType(contentType: string | null): string {
  return (contentType ?? "").split(";")[0].trim();
}

/** Parses and checks a manifest or index document against its descriptor. */
export function parseDocument(
  descriptor: Descriptor,
  bytes: Uint8Array,
): ImageIndex | ImageManifest {
  const what = `${refKey(descriptor)}`;
  let document: Record<string, unknown>;
  try {
    document = JSON.parse(new TextDecoder().decode(bytes));
  } catch (error) {
    throw new RegistryError("invalid_response", `${what} is not valid JSON: ${error}`);
  }
  if (typeof document !== "object" || document === null || document.schemaVersion !== 2) {
    throw new RegistryError("invalid_response", `${what} is not a schemaVersion 2 document`);
  }
  if (document.mediaType !== undefined && document.mediaType !== descriptor.mediaType) {
    throw new RegistryError(
      "invalid_response",
      `${what} says it is ${document.mediaType}, but was served as ${descriptor.mediaType}`,
    );
  }
  if (isIndexType(descriptor.mediaType)) {
    if (!Array.isArray(document.manifests)) {
      throw new RegistryError("invalid_response", `${what} has no "manifests" list`);
    }
    for (const child of document.manifests) checkDescriptor(child, what);
    return document as unknown as ImageIndex;
  }
  if (!Array.isArray(document.layers) || typeof document.config !== "object") {
    throw new RegistryError("invalid_response", `${what} needs a "config" and a "layers" list`);
  }
  checkDescriptor(document.config, what);
  for (const layer of document.layers) checkDescriptor(layer, what);
  return document as unknown as ImageManifest;
}

function checkDescriptor(value: unknown, parent: string): void {
  const candidate = value as Partial<Descriptor> | null;
  if (
    typeof candidate !== "object" || candidate === null ||
    typeof candidate.mediaType !== "string" ||
    typeof candidate.digest !== "string" || !/^[a-z0-9]+:[a-f0-9]{32,}$/.test(candidate.digest) ||
    typeof candidate.size !== "number" || !Number.isSafeInteger(candidate.size) ||
    candidate.size < 0
  ) {
    throw new RegistryError(
      "invalid_response",
      `${parent} lists an invalid descriptor: ${JSON.stringify(value).slice(0, 200)}`,
    );
  }
}

/** The children of a parsed document: an index's manifests, a manifest's config and layers. */
export function childrenOf(document: ImageIndex | ImageManifest): Descriptor[] {
  if ("manifests" in document) return document.manifests;
  return [document.config, ...document.layers];
}

/** The GC label key prefix for a child, by its kind (`ChildGCLabels`). */
function gcLabelPrefix(child: Descriptor): string {
  if (isConfigType(child.mediaType)) return "containerd.io/gc.ref.content.config";
  if (isDocumentType(child.mediaType)) return "containerd.io/gc.ref.content.m.";
  if (isLayerType(child.mediaType)) return "containerd.io/gc.ref.content.l.";
  return "containerd.io/gc.ref.content.";
}

/**
 * The GC labels a parent gets for its children, numbered per kind: an index's
 * manifests are `m.0, m.1…`, a manifest's layers `l.0, l.1…`, its config `config`.
 */
export function childGcLabels(children: Descriptor[]): Labels {
  const labels: Labels = {};
  const counters = new Map<string, number>();
  for (const child of children) {
    const prefix = gcLabelPrefix(child);
    const index = counters.get(prefix) ?? 0;
    counters.set(prefix, index + 1);
    const key = index > 0 || prefix.endsWith(".") ? `${prefix}${index}` : prefix;
    labels[key] = child.digest;
  }
  return labels;
}

/** The source label key for a registry domain. */
export function distributionSourceKey(domain: string): string {
  return `${DISTRIBUTION_SOURCE_LABEL_PREFIX}${domain}`;
}

/** Adds `repository` to a comma-separated source list, sorted and without duplicates. */
export function appendDistributionSource(existing: string | undefined, repository: string): string {
  const repositories = new Set((existing ?? "").split(",").filter((entry) => entry !== ""));
  repositories.add(repository);
  return [...repositories].sort().join(",");
}

/** The repositories of `domain` a blob's labels say it can be mounted from. */
export function distributionSources(labels: Labels | undefined, domain: string): string[] {
  const value = labels?.[distributionSourceKey(domain)];
  return value ? value.split(",").filter((entry) => entry !== "") : [];
}

/**
 * The manifests of an index to fetch for one wanted platform: entries matching it,
 * best first, at most `limit` of them (0 = every match). Entries that name no
 * platform are kept but rank last, as containerd's `FilterPlatforms` and
 * `LimitManifests` treat them.
 */
export function selectManifests(
  manifests: Descriptor[],
  matcher: PlatformMatchComparer | "all",
  limit: number,
): Descriptor[] {
  if (matcher === "all") return manifests;
  const matching = manifests.filter((manifest) =>
    manifest.platform === undefined || matcher.match(manifest.platform)
  );
  const ordered = sortByPreference(matching, (manifest) => manifest.platform, matcher);
  return limit > 0 ? ordered.slice(0, limit) : ordered;
}

/** The platform a manifest is for, from its index entry or else from its config. */
export function platformOfConfig(config: { os?: string; architecture?: string; variant?: string }) {
  const platform: Platform = { os: config.os ?? "", architecture: config.architecture ?? "" };
  if (config.variant) platform.variant = config.variant;
  return platform;
}
