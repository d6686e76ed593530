// What this teaches: manifests, indexes and configs arrive as bytes from archives and
// registries, so they are parsed defensively: a size limit before reading, then the
// schema version, the media types, and every descriptor inside checked, each failure
// naming the blob and the field. Mirrors the checks of containerd's
// `core/images/image.go` (`validateMediaType`, "schema 1 not supported") and the
// 4 MiB manifest limit containerd's remotes apply when fetching manifests.

import { invalidArgument } from "../api/errors.ts";
import { digestProblem } from "../reference/digest.ts";
import {
  isAttestationType,
  isConfigType,
  isIndexType,
  isKnownMediaType,
  isLayerType,
  isManifestType,
} from "./media_types.ts";
import type { Descriptor, ImageConfig, ImageIndex, ImageManifest, Platform } from "./types.ts";

/** Largest manifest, index or config mini reads into memory. */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function validateStringMap(value: unknown, where: string): Record<string, string> | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isObject(value) || Object.values(value).some((entry) => typeof entry !== "string")) {
    throw invalidArgument(`${where} must be an object of strings`);
  }
  return value as Record<string, string>;
}

function validatePlatform(value: unknown, where: string): Platform | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isObject(value) || typeof value.os !== "string" || typeof value.architecture !== "string") {
    throw invalidArgument(`${where} must be an object with string "os" and "architecture"`);
  }
  if (value.variant !== undefined && typeof value.variant !== "string") {
    throw invalidArgument(`${where}.variant must be a string`);
  }
  return value as unknown as Platform;
}

/**
 * Checks the shape of a descriptor (`where` names it in errors, e.g. "target" or
 * "manifest sha256:… layers[2]"): a media type, a valid digest, a size that is a
 * non-negative integer. Returns it typed.
 */
export function validateDescriptor(value: unknown, where: string): Descriptor {
  if (!isObject(value)) throw invalidArgument(`${where} must be a descriptor object`);
  if (typeof value.mediaType !== "string" || value.mediaType === "") {
    throw invalidArgument(`${where}.mediaType must be a non-empty string`);
  }
  const problem = digestProblem(value.digest);
  if (problem !== undefined) throw invalidArgument(`${where}.digest is invalid: ${problem}`);
  if (typeof value.size !== "number" || !Number.isSafeInteger(value.size) || value.size < 0) {
    throw invalidArgument(`${where}.size must be a non-negative integer, got ${value.size}`);
  }
  validateStringMap(value.annotations, `${where}.annotations`);
  validatePlatform(value.platform, `${where}.platform`);
  if (
    value.urls !== undefined &&
    (!Array.isArray(value.urls) || value.urls.some((url) => typeof url !== "string"))
  ) {
    throw invalidArgument(`${where}.urls must be an array of strings`);
  }
  return value as unknown as Descriptor;
}

/** Decodes JSON bytes into an object, refusing oversized or malformed documents. */
function decodeDocument(bytes: Uint8Array, what: string): JsonObject {
  if (bytes.byteLength > MAX_MANIFEST_BYTES) {
    throw invalidArgument(
      `${what} is ${bytes.byteLength} bytes, over the ${MAX_MANIFEST_BYTES}-byte limit for manifests`,
    );
  }
  let document: unknown;
  try {
    document = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch (error) {
    throw invalidArgument(
      `${what} is not valid JSON: ${error instanceof Error ? error.message : error}`,
    );
  }
  if (!isObject(document)) throw invalidArgument(`${what} must be a JSON object`);
  return document;
}

function checkSchemaVersion(document: JsonObject, what: string): void {
  if (document.fsLayers !== undefined || document.schemaVersion === 1) {
    throw invalidArgument(`${what} is a Docker schema 1 manifest, which is not supported`);
  }
  if (document.schemaVersion !== 2) {
    throw invalidArgument(
      `${what} has schemaVersion ${JSON.stringify(document.schemaVersion)}, expected 2`,
    );
  }
}

function checkDeclaredMediaType(
  document: JsonObject,
  what: string,
  accepts: (mediaType: string) => boolean,
  expected: string | undefined,
): void {
  if (document.mediaType === undefined) return;
  if (typeof document.mediaType !== "string" || !accepts(document.mediaType)) {
    throw invalidArgument(
      `${what} declares mediaType ${JSON.stringify(document.mediaType)}` +
        (expected ? ` but its descriptor says ${expected}` : ""),
    );
  }
}

/**
 * Parses and validates an image index / manifest list. Every entry must be a
 * manifest or a nested index; `descriptor` (when known) names the blob in errors.
 */
export function parseImageIndex(bytes: Uint8Array, descriptor?: Descriptor): ImageIndex {
  const what = `index ${descriptor?.digest ?? ""}`.trim();
  const document = decodeDocument(bytes, what);
  checkSchemaVersion(document, what);
  checkDeclaredMediaType(document, what, isIndexType, descriptor?.mediaType);
  if (document.config !== undefined || document.layers !== undefined) {
    throw invalidArgument(`${what} has "config" or "layers": it is a manifest, not an index`);
  }
  if (!Array.isArray(document.manifests)) {
    throw invalidArgument(`${what} must have a "manifests" array`);
  }
  document.manifests.forEach((entry, index) => {
    const child = validateDescriptor(entry, `${what} manifests[${index}]`);
    if (!isIndexType(child.mediaType) && !isManifestType(child.mediaType)) {
      throw invalidArgument(
        `${what} manifests[${index}] has media type ${child.mediaType}, ` +
          `expected an image manifest or index`,
      );
    }
  });
  validateStringMap(document.annotations, `${what} annotations`);
  return document as unknown as ImageIndex;
}

/**
 * Parses and validates an image manifest: a config of a config type and layers of
 * layer (or attestation) types.
 */
export function parseImageManifest(bytes: Uint8Array, descriptor?: Descriptor): ImageManifest {
  const what = `manifest ${descriptor?.digest ?? ""}`.trim();
  const document = decodeDocument(bytes, what);
  checkSchemaVersion(document, what);
  checkDeclaredMediaType(document, what, isManifestType, descriptor?.mediaType);
  if (document.manifests !== undefined) {
    throw invalidArgument(`${what} has "manifests": it is an index, not a manifest`);
  }
  const config = validateDescriptor(document.config, `${what} config`);
  if (!isConfigType(config.mediaType)) {
    throw invalidArgument(
      `${what} config has media type ${config.mediaType}, expected an image config ` +
        `(application/vnd.oci.image.config.v1+json or the Docker equivalent)`,
    );
  }
  if (!Array.isArray(document.layers)) throw invalidArgument(`${what} must have a "layers" array`);
  document.layers.forEach((entry, index) => {
    const layer = validateDescriptor(entry, `${what} layers[${index}]`);
    if (!isLayerType(layer.mediaType) && !isAttestationType(layer.mediaType)) {
      throw invalidArgument(
        `${what} layers[${index}] has unknown media type ${layer.mediaType}`,
      );
    }
  });
  validateStringMap(document.annotations, `${what} annotations`);
  return document as unknown as ImageManifest;
}

/** An index or a manifest, told apart by the descriptor's media type. */
export type IndexOrManifest =
  | { kind: "index"; index: ImageIndex }
  | { kind: "manifest"; manifest: ImageManifest };

/** Parses the blob a descriptor of an index or manifest type points at. */
export function parseIndexOrManifest(bytes: Uint8Array, descriptor: Descriptor): IndexOrManifest {
  if (isIndexType(descriptor.mediaType)) {
    return { kind: "index", index: parseImageIndex(bytes, descriptor) };
  }
  if (isManifestType(descriptor.mediaType)) {
    return { kind: "manifest", manifest: parseImageManifest(bytes, descriptor) };
  }
  throw invalidArgument(
    `${descriptor.digest} has media type ${descriptor.mediaType}, ` +
      (isKnownMediaType(descriptor.mediaType)
        ? "which is neither an image index nor a manifest"
        : "which mini does not know"),
  );
}

/** Parses and validates an image config: os, architecture and `rootfs.diff_ids`. */
export function parseImageConfig(bytes: Uint8Array, descriptor?: Descriptor): ImageConfig {
  const what = `config ${descriptor?.digest ?? ""}`.trim();
  const document = decodeDocument(bytes, what);
  for (const field of ["os", "architecture"] as const) {
    if (typeof document[field] !== "string" || document[field] === "") {
      throw invalidArgument(`${what} must have a non-empty string "${field}"`);
    }
  }
  const rootfs = document.rootfs;
  if (!isObject(rootfs) || rootfs.type !== "layers" || !Array.isArray(rootfs.diff_ids)) {
    throw invalidArgument(`${what} must have rootfs {"type": "layers", "diff_ids": [...]}`);
  }
  rootfs.diff_ids.forEach((diffId, index) => {
    const problem = digestProblem(diffId);
    if (problem !== undefined) {
      throw invalidArgument(`${what} rootfs.diff_ids[${index}] is invalid: ${problem}`);
    }
  });
  if (document.config !== undefined && document.config !== null && !isObject(document.config)) {
    throw invalidArgument(`${what} "config" must be an object`);
  }
  if (document.history !== undefined && !Array.isArray(document.history)) {
    throw invalidArgument(`${what} "history" must be an array`);
  }
  return document as unknown as ImageConfig;
}
