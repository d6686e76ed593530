// What this teaches: in containerd an "image" is only a row: a name in a namespace
// pointing at one descriptor (an index or a manifest), with labels and timestamps.
// The blobs live in the content store; deleting the row frees nothing by itself, it
// only stops rooting those blobs, and garbage collection removes what nothing else
// reaches. Mirrors containerd's `core/metadata/images.go` (imageStore, validateImage,
// validateTarget, adaptImage).

import { alreadyExists, invalidArgument, notFound } from "../api/errors.ts";
import { type Labels, type MetadataDb, now, parseLabels, validateLabels } from "../metadata/db.ts";
import { type FieldLookup, parseFilters } from "../metadata/filters.ts";
import type { NamespaceStore } from "../metadata/namespaces.ts";
import { normalizeReference, parseNormalizedNamed } from "../reference/normalize.ts";
import { validateDescriptor } from "./manifest.ts";
import { isImageTargetType } from "./media_types.ts";
import type { Descriptor, Image } from "./types.ts";

/** What a caller hands to create, put or update. */
export interface ImageInput {
  name: string;
  target?: Descriptor;
  labels?: Labels;
}

interface ImageRow {
  name: string;
  target_media_type: string;
  target_digest: string;
  target_size: number;
  target_annotations: string;
  labels: string;
  created_at: string;
  updated_at: string;
}

const selectColumns =
  "name, target_media_type, target_digest, target_size, target_annotations, labels, created_at, updated_at";

/**
 * Checks an image name: non-empty and a valid reference (familiar or full, as
 * distribution/reference parses it). Names are stored exactly as given, as
 * containerd does; normalizing is the caller's choice (mini-docker normalizes,
 * ctr does not).
 */
export function validateImageName(name: unknown): string {
  if (typeof name !== "string" || name === "") {
    throw invalidArgument("image name must not be empty");
  }
  parseNormalizedNamed(name);
  return name;
}

/**
 * Checks an image target: a well-formed descriptor of an index or manifest type
 * with a positive size. Only the fields containerd stores are kept: media type,
 * digest, size and annotations.
 */
export function validateTarget(target: unknown): Descriptor {
  if (target === undefined || target === null) {
    throw invalidArgument("image target is required (a descriptor: mediaType, digest, size)");
  }
  const descriptor = validateDescriptor(target, "target");
  if (!isImageTargetType(descriptor.mediaType)) {
    throw invalidArgument(
      `target.mediaType ${descriptor.mediaType} is not an image index or manifest type ` +
        `(use application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json ` +
        `or their Docker equivalents)`,
    );
  }
  // containerd refuses empty targets: no index or manifest is zero bytes long.
  if (descriptor.size === 0) throw invalidArgument("target.size must be greater than zero");
  const stored: Descriptor = {
    mediaType: descriptor.mediaType,
    digest: descriptor.digest,
    size: descriptor.size,
  };
  if (descriptor.annotations && Object.keys(descriptor.annotations).length > 0) {
    stored.annotations = { ...descriptor.annotations };
  }
  return stored;
}

/** The field paths `images ls` filters can use (containerd's `adaptImage`). */
function imageLookup(image: Image): FieldLookup {
  return (fieldPath) => {
    const [field, ...rest] = fieldPath;
    switch (field) {
      case "name":
        return rest.length === 0 ? image.name : undefined;
      case "target":
        if (rest.length !== 1) return undefined;
        if (rest[0] === "digest") return image.target.digest;
        if (rest[0] === "mediatype") return image.target.mediaType;
        return undefined;
      case "labels":
        return lookupKey(image.labels, rest);
      case "annotations":
        return lookupKey(image.target.annotations ?? {}, rest);
      default:
        return undefined;
    }
  };
}

function lookupKey(map: Record<string, string>, path: string[]): string | undefined {
  if (path.length === 0) return undefined;
  const key = path.join(".");
  return Object.hasOwn(map, key) ? map[key] : undefined;
}

/** Image records in the metadata database, one set per namespace. */
export class ImageStore {
  constructor(private readonly db: MetadataDb, private readonly namespaces: NamespaceStore) {
    db.ensureSchema(`
      CREATE TABLE IF NOT EXISTS images (
        namespace TEXT NOT NULL REFERENCES namespaces(name),
        name TEXT NOT NULL,
        target_media_type TEXT NOT NULL,
        target_digest TEXT NOT NULL,
        target_size INTEGER NOT NULL,
        target_annotations TEXT NOT NULL DEFAULT '{}',
        labels TEXT NOT NULL DEFAULT '{}',
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (namespace, name)
      );
      CREATE INDEX IF NOT EXISTS images_by_target ON images (namespace, target_digest);
    `);
  }

  /** Returns one image or throws not_found (with a hint when only the normalized name exists). */
  get(namespace: string, name: string): Image {
    const row = this.db.get<ImageRow>(
      `SELECT ${selectColumns} FROM images WHERE namespace = ? AND name = ?`,
      namespace,
      name,
    );
    if (!row) {
      throw notFound(
        `image "${name}" not found in namespace ${namespace}${this.#hint(namespace, name)}`,
      );
    }
    return rowToImage(row);
  }

  /** Lists images matching any of `filters` (containerd's filter syntax), sorted by name. */
  list(namespace: string, filters: readonly string[] = []): Image[] {
    const filter = parseFilters(filters);
    return this.db
      .all<ImageRow>(
        `SELECT ${selectColumns} FROM images WHERE namespace = ? ORDER BY name`,
        namespace,
      )
      .map(rowToImage)
      .filter((image) => filter.matches(imageLookup(image)));
  }

  /** Creates an image; the namespace is created on first use, as containerd does. */
  create(namespace: string, input: ImageInput): Image {
    const name = validateImageName(input.name);
    const target = validateTarget(input.target);
    const labels = withoutEmptyValues(validateLabels(input.labels));
    return this.db.transaction(() => {
      this.namespaces.ensure(namespace);
      if (this.#exists(namespace, name)) {
        throw alreadyExists(`image "${name}" already exists in namespace ${namespace}`);
      }
      const timestamp = now();
      const image: Image = { name, target, labels, createdAt: timestamp, updatedAt: timestamp };
      this.db.run(
        `INSERT INTO images (namespace, ${selectColumns}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        namespace,
        ...imageToRow(image),
      );
      return image;
    });
  }

  /**
   * Updates an image. Without `fieldPaths` the target and labels given replace the
   * stored ones (a missing target keeps the old one). With them only the named
   * fields change: `target`, `labels`, `labels.<key>`, `annotations`,
   * `annotations.<key>` (containerd's update mask). An empty label value removes the key.
   */
  update(namespace: string, input: ImageInput, fieldPaths: readonly string[] = []): Image {
    const name = validateImageName(input.name);
    return this.db.transaction(() => {
      const current = this.get(namespace, name);
      const updated: Image = {
        ...current,
        labels: { ...current.labels },
        target: { ...current.target },
      };
      if (fieldPaths.length === 0) {
        if (input.target !== undefined) updated.target = validateTarget(input.target);
        if (input.labels !== undefined) updated.labels = { ...validateLabels(input.labels) };
      } else {
        for (const path of fieldPaths) applyFieldPath(updated, input, path);
      }
      updated.labels = withoutEmptyValues(validateLabels(updated.labels));
      updated.target = validateTarget(updated.target);
      updated.updatedAt = now();
      this.db.run(
        `UPDATE images SET target_media_type = ?, target_digest = ?, target_size = ?,
           target_annotations = ?, labels = ?, updated_at = ?
         WHERE namespace = ? AND name = ?`,
        updated.target.mediaType,
        updated.target.digest,
        updated.target.size,
        JSON.stringify(updated.target.annotations ?? {}),
        JSON.stringify(updated.labels),
        updated.updatedAt,
        namespace,
        name,
      );
      return updated;
    });
  }

  /**
   * Creates the image, or replaces the target and labels of an existing one,
   * keeping its creation time. This is what import and pull do (containerd's client
   * tries Create, then Update on already_exists).
   */
  put(namespace: string, input: ImageInput): Image {
    validateImageName(input.name);
    return this.db.transaction(() => {
      if (!this.#exists(namespace, input.name)) return this.create(namespace, input);
      return this.update(namespace, {
        name: input.name,
        target: validateTarget(input.target),
        labels: input.labels ?? {},
      });
    });
  }

  /**
   * Deletes an image record; with `target`, only if it still points at that digest
   * (containerd's `images.DeleteTarget`). The blobs stay until garbage collection.
   */
  delete(namespace: string, name: string, options: { target?: string } = {}): void {
    this.db.transaction(() => {
      const current = this.get(namespace, name);
      if (options.target !== undefined && current.target.digest !== options.target) {
        throw notFound(
          `image "${name}" has target ${current.target.digest}, not ${options.target}`,
        );
      }
      this.db.run("DELETE FROM images WHERE namespace = ? AND name = ?", namespace, name);
    });
  }

  /** Every image of every namespace, for garbage collection roots. */
  allImages(): { namespace: string; image: Image }[] {
    return this.db
      .all<ImageRow & { namespace: string }>(
        `SELECT namespace, ${selectColumns} FROM images ORDER BY namespace, name`,
      )
      .map((row) => ({ namespace: row.namespace, image: rowToImage(row) }));
  }

  #exists(namespace: string, name: string): boolean {
    return this.db.get(
      "SELECT 1 AS found FROM images WHERE namespace = ? AND name = ?",
      namespace,
      name,
    ) !==
      undefined;
  }

  /** ctr does not normalize names; when only the normalized form exists, say so. */
  #hint(namespace: string, name: string): string {
    let normalized: string;
    try {
      normalized = normalizeReference(name);
    } catch {
      return "";
    }
    if (normalized === name || !this.#exists(namespace, normalized)) return "";
    return ` (did you mean "${normalized}"? image names are matched exactly)`;
  }
}

/** A copy of a label map without the keys whose value is empty (empty means "unset"). */
function withoutEmptyValues(labels: Labels): Labels {
  return Object.fromEntries(Object.entries(labels).filter(([, value]) => value !== ""));
}

function applyFieldPath(updated: Image, input: ImageInput, path: string): void {
  if (path.startsWith("labels.")) {
    const key = path.slice("labels.".length);
    updated.labels[key] = input.labels?.[key] ?? "";
  } else if (path.startsWith("annotations.")) {
    const key = path.slice("annotations.".length);
    const value = input.target?.annotations?.[key];
    const annotations = { ...updated.target.annotations };
    if (value === undefined || value === "") delete annotations[key];
    else annotations[key] = value;
    updated.target.annotations = annotations;
  } else if (path === "labels") {
    updated.labels = { ...validateLabels(input.labels) };
  } else if (path === "target") {
    updated.target = validateTarget(input.target);
  } else if (path === "annotations") {
    updated.target.annotations = { ...input.target?.annotations };
  } else {
    throw invalidArgument(
      `cannot update field "${path}" of image "${updated.name}": ` +
        `use target, labels, labels.<key>, annotations or annotations.<key>`,
    );
  }
}

function rowToImage(row: ImageRow): Image {
  const target: Descriptor = {
    mediaType: row.target_media_type,
    digest: row.target_digest,
    size: Number(row.target_size),
  };
  const annotations = parseLabels(row.target_annotations);
  if (Object.keys(annotations).length > 0) target.annotations = annotations;
  return {
    name: row.name,
    target,
    labels: parseLabels(row.labels),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function imageToRow(image: Image): (string | number)[] {
  return [
    image.name,
    image.target.mediaType,
    image.target.digest,
    image.target.size,
    JSON.stringify(image.target.annotations ?? {}),
    JSON.stringify(image.labels),
    image.createdAt,
    image.updatedAt,
  ];
}
