// What this teaches: Docker's image store. An image *is* its config JSON: the file is
// stored under the sha256 of its exact bytes, and that digest is the image ID that
// `docker images` shortens to 12 characters. Nothing else needs to be kept about an
// image, because the config lists its layers by diffID (rootfs.diff_ids), from which
// the chainID of the top layer follows, and the layer store has the files. A little
// metadata sits beside it: `parent` (the image a local build step started from, which
// `docker history` walks) and `lastUpdated` (when it was last tagged).
//   image/overlay2/imagedb/content/sha256/<image id hex>       the config bytes
//   image/overlay2/imagedb/metadata/sha256/<image id hex>/parent, lastUpdated
// Each image holds one reference on its top layer in the layer store.
// Mirrors moby's image/store.go (Create, Get, Delete, Search, Children, Heads) and
// image/fs.go (the content-addressable filesystem backend).

import { join } from "node:path";
import { createHash } from "node:crypto";
import { chainId as chainIdOf } from "../../images/identity.ts";
import { badParameter, notFoundError } from "../server/errors.ts";
import type { LayerStore } from "../layer/layer_store.ts";
import type { DockerImageConfig } from "./types.ts";

/** One image as the store holds it. */
export interface ImageRecord {
  /** `sha256:<hex>` of the config bytes. */
  id: string;
  config: DockerImageConfig;
  /** The config exactly as stored (what `docker save` writes as <id>.json). */
  raw: Uint8Array;
  /** The chainID of the top layer; undefined for an image without layers. */
  topLayer?: string;
  /** The local parent image (builds and commits only). */
  parent?: string;
  /** When a tag last pointed here (Metadata.LastTagTime). */
  lastUpdated?: string;
}

function hexOf(id: string): string {
  return id.startsWith("sha256:") ? id.slice(7) : id;
}

/** Parses and checks a config just enough to store it: it must name its layers. */
export function parseImageConfigBytes(raw: Uint8Array): DockerImageConfig {
  let config: DockerImageConfig;
  try {
    config = JSON.parse(new TextDecoder().decode(raw));
  } catch (error) {
    throw badParameter(`invalid image config: ${error instanceof Error ? error.message : error}`);
  }
  if (typeof config !== "object" || config === null) {
    throw badParameter("invalid image config: not an object");
  }
  const diffIds = config.rootfs?.diff_ids;
  if (config.rootfs?.type !== "layers" || !Array.isArray(diffIds)) {
    throw badParameter(
      'invalid image config: rootfs must be {"type": "layers", "diff_ids": [...]}',
    );
  }
  return config;
}

/** The imagedb over `image/overlay2/imagedb`. */
export class ImageStore {
  readonly #images = new Map<string, ImageRecord>();

  private constructor(readonly root: string, private readonly layers: LayerStore) {}

  /** Loads every stored image and takes its reference on its top layer. */
  static async open(root: string, layers: LayerStore): Promise<ImageStore> {
    const store = new ImageStore(root, layers);
    await Deno.mkdir(join(root, "content", "sha256"), { recursive: true });
    await Deno.mkdir(join(root, "metadata", "sha256"), { recursive: true });
    for await (const entry of Deno.readDir(join(root, "content", "sha256"))) {
      if (!entry.isFile || !/^[a-f0-9]{64}$/.test(entry.name)) continue;
      const path = join(root, "content", "sha256", entry.name);
      const raw = await Deno.readFile(path);
      const id = `sha256:${entry.name}`;
      if (`sha256:${createHash("sha256").update(raw).digest("hex")}` !== id) continue; // damaged
      let record: ImageRecord;
      try {
        record = { id, raw, config: parseImageConfigBytes(raw) };
      } catch {
        continue;
      }
      const top = chainIdOf(record.config.rootfs.diff_ids);
      if (top !== undefined) {
        if (!layers.get(top)) continue; // its layers are gone: the image is unusable
        layers.retain(top);
        record.topLayer = top;
      }
      const metadata = join(root, "metadata", "sha256", entry.name);
      record.parent = await readOptional(join(metadata, "parent"));
      record.lastUpdated = await readOptional(join(metadata, "lastUpdated"));
      store.#images.set(id, record);
    }
    return store;
  }

  /**
   * Stores a config as an image (its layers must be registered already). Storing an
   * existing image again changes nothing and returns it.
   */
  async create(raw: Uint8Array): Promise<ImageRecord> {
    const id = `sha256:${createHash("sha256").update(raw).digest("hex")}`;
    const existing = this.#images.get(id);
    if (existing) return existing;
    const config = parseImageConfigBytes(raw);
    const top = chainIdOf(config.rootfs.diff_ids);
    if (top !== undefined && !this.layers.get(top)) {
      throw notFoundError(`cannot create image ${id}: its layer ${top} is not in the layer store`);
    }
    const path = join(this.root, "content", "sha256", hexOf(id));
    const temporary = `${path}.tmp-${crypto.randomUUID().slice(0, 8)}`;
    await Deno.writeFile(temporary, raw, { mode: 0o600 });
    await Deno.rename(temporary, path);
    const record: ImageRecord = { id, raw, config };
    if (top !== undefined) {
      this.layers.retain(top);
      record.topLayer = top;
    }
    this.#images.set(id, record);
    return record;
  }

  /** The image with this full ID, or undefined. */
  get(id: string): ImageRecord | undefined {
    return this.#images.get(id.startsWith("sha256:") ? id : `sha256:${id}`);
  }

  /** Every image. */
  list(): ImageRecord[] {
    return [...this.#images.values()];
  }

  /**
   * Finds an image by a (possibly truncated) hex ID; undefined when none matches,
   * an error when the prefix is ambiguous.
   */
  search(prefix: string): ImageRecord | undefined {
    const hex = hexOf(prefix);
    if (!/^[a-f0-9]+$/.test(hex)) return undefined;
    const matches = this.list().filter((image) => hexOf(image.id).startsWith(hex));
    if (matches.length > 1) {
      throw badParameter(`ambiguous image ID prefix ${prefix}: ${matches.length} images match`);
    }
    return matches[0];
  }

  /** Images whose parent is `id` (local builds). */
  children(id: string): ImageRecord[] {
    return this.list().filter((image) => image.parent === id);
  }

  /** Images without children (what `docker images` lists without -a). */
  heads(): ImageRecord[] {
    const parents = new Set(this.list().map((image) => image.parent).filter(Boolean));
    return this.list().filter((image) => !parents.has(image.id));
  }

  /** Records `parent` as the image's local parent. */
  async setParent(id: string, parent: string): Promise<void> {
    const image = this.#require(id);
    if (!this.#images.has(parent)) throw notFoundError(`parent image ${parent} does not exist`);
    await this.#writeMetadata(id, "parent", parent);
    image.parent = parent;
  }

  /** Records now as the last time a tag was set on the image. */
  async touch(id: string, when = new Date()): Promise<void> {
    const image = this.#require(id);
    const stamp = formatNanoTime(when);
    await this.#writeMetadata(id, "lastUpdated", stamp);
    image.lastUpdated = stamp;
  }

  async #writeMetadata(id: string, key: string, value: string): Promise<void> {
    const dir = join(this.root, "metadata", "sha256", hexOf(id));
    await Deno.mkdir(dir, { recursive: true });
    await Deno.writeTextFile(join(dir, key), value);
  }

  #require(id: string): ImageRecord {
    const image = this.get(id);
    if (!image) throw notFoundError(`No such image: ${id}`);
    return image;
  }

  /** Deletes the image and releases its top layer; returns the chainIDs of layers removed. */
  async delete(id: string): Promise<string[]> {
    const image = this.#require(id);
    this.#images.delete(image.id);
    await Deno.remove(join(this.root, "content", "sha256", hexOf(image.id))).catch(() => {});
    await Deno.remove(join(this.root, "metadata", "sha256", hexOf(image.id)), { recursive: true })
      .catch(() => {});
    // Children keep a dangling parent pointer otherwise.
    for (const child of this.children(image.id)) {
      child.parent = undefined;
      await Deno.remove(join(this.root, "metadata", "sha256", hexOf(child.id), "parent")).catch(
        () => {},
      );
    }
    return image.topLayer ? await this.layers.release(image.topLayer) : [];
  }
}

/** RFC 3339 with nanoseconds, as Go's time.RFC3339Nano prints it. */
export function formatNanoTime(when: Date): string {
  return when.toISOString().replace(/\.(\d{3})Z$/, (_, millis) => `.${millis}000000Z`)
    .replace(/\.?0+Z$/, "Z");
}

async function readOptional(path: string): Promise<string | undefined> {
  try {
    const text = (await Deno.readTextFile(path)).trim();
    return text === "" ? undefined : text;
  } catch {
    return undefined;
  }
}
