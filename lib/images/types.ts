// What this teaches: the data structures of an OCI image: a descriptor points at a
// blob (type, digest, size); an index lists manifests per platform; a manifest
// lists a config and layers; the config holds the run settings and the diffIDs.
// And an "image" in containerd is only a name pointing at one descriptor.
// Mirrors the OCI image spec (`specs-go/v1`) and containerd's `core/images/image.go`.

import type { Digest } from "../content/types.ts";
import type { Labels } from "../metadata/db.ts";

/** A platform, as in OCI `platform` objects and `linux/amd64` strings. */
export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
  "os.version"?: string;
  "os.features"?: string[];
}

/** A typed pointer to a blob. */
export interface Descriptor {
  mediaType: string;
  digest: Digest;
  size: number;
  annotations?: Record<string, string>;
  platform?: Platform;
  urls?: string[];
}

/** An OCI image index or Docker manifest list. */
export interface ImageIndex {
  schemaVersion: 2;
  mediaType?: string;
  manifests: Descriptor[];
  annotations?: Record<string, string>;
}

/** An OCI image manifest or Docker schema 2 manifest. */
export interface ImageManifest {
  schemaVersion: 2;
  mediaType?: string;
  config: Descriptor;
  layers: Descriptor[];
  annotations?: Record<string, string>;
}

/** One `history` entry of an image config. */
export interface HistoryEntry {
  created?: string;
  created_by?: string;
  author?: string;
  comment?: string;
  empty_layer?: boolean;
}

/** The run settings of an image (`config` inside the image config). */
export interface ImageRunConfig {
  User?: string;
  ExposedPorts?: Record<string, Record<string, never>>;
  Env?: string[];
  Entrypoint?: string[] | null;
  Cmd?: string[] | null;
  Volumes?: Record<string, Record<string, never>>;
  WorkingDir?: string;
  Labels?: Record<string, string>;
  StopSignal?: string;
}

/** An image config (the blob whose digest Docker calls the image ID). */
export interface ImageConfig {
  created?: string;
  author?: string;
  architecture: string;
  os: string;
  variant?: string;
  config?: ImageRunConfig;
  rootfs: { type: "layers"; diff_ids: Digest[] };
  history?: HistoryEntry[];
}

/** An image record in mini-containerd: a name in a namespace pointing at a descriptor. */
export interface Image {
  name: string;
  target: Descriptor;
  labels: Labels;
  createdAt: string;
  updatedAt: string;
}

/**
 * The Images service seen through the API, one namespace at a time. The daemon's
 * ImagesService serves it; the client's ImagesClient implements it over the socket.
 */
export interface ImagesApi {
  get(name: string): Promise<Image>;
  /** Lists images; filters as ctr's (`name==...`, `labels.<key>==...`). */
  list(filters?: string[]): Promise<Image[]>;
  /** Creates an image; fails with already_exists when the name is taken. */
  create(image: { name: string; target: Descriptor; labels?: Labels }): Promise<Image>;
  /**
   * Updates an existing image. Without `fieldPaths` the given target and/or labels
   * replace the stored ones; with them only those fields change (`target`, `labels`,
   * `labels.<key>`, `annotations`, `annotations.<key>`; containerd's update mask).
   * An empty label value removes that label.
   */
  update(
    image: { name: string; target?: Descriptor; labels?: Labels },
    fieldPaths?: string[],
  ): Promise<Image>;
  /** Creates or replaces (the behaviour of `ctr images import` and pull). */
  put(image: { name: string; target: Descriptor; labels?: Labels }): Promise<Image>;
  /**
   * Deletes the record; content is left to garbage collection (`sync` runs a
   * collection before answering). With `target`, deletes only if the image still
   * points at that digest.
   */
  delete(name: string, options?: { sync?: boolean; target?: string }): Promise<void>;
}
