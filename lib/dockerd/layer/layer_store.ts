// What this teaches: Docker's layer store, the bookkeeping above the graph driver.
// Image layers are named by their *chainID* (the diffID of the layer combined with
// everything below it), so two images built on the same base share those layers on
// disk, and a layer is only deleted when nothing refers to it any more. Its record
// lives in image/overlay2/layerdb/sha256/<chainID>/:
//   diff               the layer's diffID ("sha256:…", the sha256 of its tar)
//   size               bytes of its files
//   cache-id           which overlay2/<cache-id> directory holds them
//   parent             the chainID below it (absent for a base layer)
//   tar-split.json.gz  the tar's skeleton, to give back the identical tar (tar_split.ts)
//   descriptor.json    only for layers that came with a foreign-layer descriptor
// A record is written in layerdb/tmp/write-set-* and renamed into place, so a crash
// never leaves half a record. Containers get read-write layers recorded in
// layerdb/mounts/<container-id>/{mount-id, init-id, parent}: an `-init` layer with the
// mount points (init_layer.ts) on the image's top layer, and the container's own
// layer on that. Reference counts live in memory and are rebuilt at start-up: a layer
// is held by each child layer, each container layer on it, and each image using it.
// Mirrors moby's layer/layer_store.go (registerWithDescriptor, CreateRWLayer,
// ReleaseRWLayer, releaseLayer, initMount), layer/filestore.go and layer/layer.go
// (CreateChainID).

import { join } from "node:path";
import { createHash } from "node:crypto";
import { applyLayer } from "../../archive/apply.ts";
import { decompressStream } from "../../archive/compression.ts";
import { chainIds } from "../../images/identity.ts";
import type { Descriptor } from "../../images/types.ts";
import { conflictError, notFoundError } from "../server/errors.ts";
import { setupInitLayer } from "./init_layer.ts";
import { directorySize, type GraphDriverData, type Overlay2Driver } from "./overlay2.ts";
import { MAX_IMAGE_LAYERS, randomHexId } from "./short_id.ts";
import {
  assembleTar,
  readTarSplit,
  tarSize,
  TarSplitRecorder,
  writeTarSplit,
} from "./tar_split.ts";

/** One read-only (image) layer. */
export interface LayerRecord {
  chainId: string;
  diffId: string;
  /** The chainID of the layer below, undefined for a base layer. */
  parent?: string;
  cacheId: string;
  /** Bytes of this layer's files. */
  size: number;
  descriptor?: Descriptor;
}

/** A container's read-write layer (layerdb/mounts/<container-id>). */
export interface MountRecord {
  containerId: string;
  /** The overlay2 directory of the container's own layer. */
  mountId: string;
  /** `<mount-id>-init`, the layer with the mount points. */
  initId: string;
  /** The image's top layer (chainID), undefined for an image without layers. */
  parent?: string;
}

/** The container layer once mounted: the rootfs path and what `docker inspect` shows. */
export interface MountedContainerLayer {
  /** The merged root filesystem, ready to become the container's rootfs. */
  mergedDir: string;
  graphDriver: GraphDriverData;
}

/** Options of register(). */
export interface RegisterOptions {
  /** The diffID the config promises; the apply fails if the tar hashes differently. */
  expectedDiffId?: string;
  /** Kept as descriptor.json (foreign layers). */
  descriptor?: Descriptor;
  /** Called with the compressed bytes consumed so far ("Extracting" progress). */
  onProgress?: (bytes: number) => void;
}

/** chainID(parent, diffID) = sha256(parent + " " + diffID); a base layer's chainID is its diffID. */
export function createChainId(parent: string | undefined, diffId: string): string {
  if (parent === undefined) return diffId;
  return `sha256:${createHash("sha256").update(`${parent} ${diffId}`).digest("hex")}`;
}

function hexOf(digest: string): string {
  return digest.startsWith("sha256:") ? digest.slice("sha256:".length) : digest;
}

/** The layer store over `image/overlay2/layerdb` and the overlay2 driver. */
export class LayerStore {
  readonly #layers = new Map<string, LayerRecord>();
  readonly #references = new Map<string, number>();
  readonly #mounts = new Map<string, MountRecord>();
  /** Registrations in flight by expected chainID, so two pulls of one layer share the work. */
  readonly #inFlight = new Map<string, Promise<LayerRecord>>();

  private constructor(readonly root: string, readonly driver: Overlay2Driver) {}

  /** Opens the store: loads every layer and mount record and rebuilds the child/mount references. */
  static async open(root: string, driver: Overlay2Driver): Promise<LayerStore> {
    const store = new LayerStore(root, driver);
    await Deno.mkdir(join(root, "sha256"), { recursive: true });
    await Deno.mkdir(join(root, "mounts"), { recursive: true });
    await Deno.remove(join(root, "tmp"), { recursive: true }).catch(() => {});
    await Deno.mkdir(join(root, "tmp"), { recursive: true });
    await store.#load();
    return store;
  }

  async #load(): Promise<void> {
    for await (const entry of Deno.readDir(join(this.root, "sha256"))) {
      if (!entry.isDirectory) continue;
      const dir = join(this.root, "sha256", entry.name);
      try {
        const record: LayerRecord = {
          chainId: `sha256:${entry.name}`,
          diffId: (await Deno.readTextFile(join(dir, "diff"))).trim(),
          cacheId: (await Deno.readTextFile(join(dir, "cache-id"))).trim(),
          size: Number((await Deno.readTextFile(join(dir, "size"))).trim()),
        };
        const parent = await readOptional(join(dir, "parent"));
        if (parent) record.parent = parent;
        const descriptor = await readOptional(join(dir, "descriptor.json"));
        if (descriptor) record.descriptor = JSON.parse(descriptor);
        this.#layers.set(record.chainId, record);
      } catch {
        // A record without its files is unusable; it is dropped like a failed write.
        await Deno.remove(dir, { recursive: true }).catch(() => {});
      }
    }
    for (const layer of this.#layers.values()) {
      if (layer.parent) this.#retain(layer.parent);
    }
    for await (const entry of Deno.readDir(join(this.root, "mounts"))) {
      const dir = join(this.root, "mounts", entry.name);
      const mountId = await readOptional(join(dir, "mount-id"));
      if (!mountId) continue;
      const record: MountRecord = {
        containerId: entry.name,
        mountId,
        initId: await readOptional(join(dir, "init-id")) ?? `${mountId}-init`,
      };
      const parent = await readOptional(join(dir, "parent"));
      if (parent) {
        record.parent = parent;
        this.#retain(parent);
      }
      this.#mounts.set(record.containerId, record);
    }
  }

  /**
   * Removes overlay2 directories that no layer or mount record names: what a crash in
   * the middle of a registration leaves behind.
   */
  async removeOrphanDirectories(): Promise<string[]> {
    const known = new Set<string>();
    for (const layer of this.#layers.values()) known.add(layer.cacheId);
    for (const mount of this.#mounts.values()) {
      known.add(mount.mountId);
      known.add(mount.initId);
    }
    const removed: string[] = [];
    for await (const entry of Deno.readDir(this.driver.home)) {
      if (entry.name === "l" || known.has(entry.name) || !entry.isDirectory) continue;
      await this.driver.remove(entry.name);
      removed.push(entry.name);
    }
    // Links whose target is gone (their layer was removed by hand or half created).
    for await (const entry of Deno.readDir(join(this.driver.home, "l"))) {
      try {
        await Deno.stat(join(this.driver.home, "l", entry.name));
      } catch {
        await Deno.remove(join(this.driver.home, "l", entry.name)).catch(() => {});
      }
    }
    return removed;
  }

  #retain(chainId: string): void {
    this.#references.set(chainId, (this.#references.get(chainId) ?? 0) + 1);
  }

  /** Every layer record. */
  list(): LayerRecord[] {
    return [...this.#layers.values()];
  }

  /** The layer with this chainID, or undefined. */
  get(chainId: string): LayerRecord | undefined {
    return this.#layers.get(chainId);
  }

  /** How many holders (images, child layers, containers) a layer has now. */
  referenceCount(chainId: string): number {
    return this.#references.get(chainId) ?? 0;
  }

  /** Takes a reference on an existing layer (an image now uses it). */
  retain(chainId: string): LayerRecord {
    const layer = this.#layers.get(chainId);
    if (!layer) throw notFoundError(`layer ${chainId} does not exist`);
    this.#retain(chainId);
    return layer;
  }

  /** The layers of a chain, top first. */
  chain(chainId: string | undefined): LayerRecord[] {
    const layers: LayerRecord[] = [];
    for (let current = chainId; current !== undefined;) {
      const layer = this.#layers.get(current);
      if (!layer) throw notFoundError(`layer ${current} does not exist`);
      layers.push(layer);
      current = layer.parent;
    }
    return layers;
  }

  /** The diffIDs of a chain, base first (the image config's rootfs.diff_ids). */
  diffIds(chainId: string | undefined): string[] {
    return this.chain(chainId).map((layer) => layer.diffId).reverse();
  }

  /** Bytes of every layer of the chain (an image's Size). */
  chainSize(chainId: string | undefined): number {
    return this.chain(chainId).reduce((sum, layer) => sum + layer.size, 0);
  }

  /** GraphDriver.Data of the chain's top layer (what `docker image inspect` shows). */
  async graphDriverData(chainId: string): Promise<GraphDriverData> {
    const layer = this.#layers.get(chainId);
    if (!layer) throw notFoundError(`layer ${chainId} does not exist`);
    return await this.driver.metadata(layer.cacheId);
  }

  /**
   * Unpacks a layer blob (any compression) on top of `parent` and records it; the
   * caller holds one reference to the result. When the chainID exists already, the
   * existing layer is returned (and referenced) and the new copy discarded.
   */
  async register(
    blob: ReadableStream<Uint8Array>,
    parent: string | undefined,
    options: RegisterOptions = {},
  ): Promise<LayerRecord> {
    if (parent !== undefined && this.chain(parent).length >= MAX_IMAGE_LAYERS) {
      await blob.cancel().catch(() => {});
      throw new Error(`max depth exceeded: an image can have at most ${MAX_IMAGE_LAYERS} layers`);
    }
    if (options.expectedDiffId !== undefined) {
      const expected = createChainId(parent, options.expectedDiffId);
      const existing = this.#layers.get(expected);
      if (existing) {
        await blob.cancel().catch(() => {});
        this.#retain(expected);
        return existing;
      }
      const running = this.#inFlight.get(expected);
      if (running) {
        await blob.cancel().catch(() => {});
        await running;
        return this.retain(expected);
      }
      const work = this.#registerNew(blob, parent, options);
      this.#inFlight.set(expected, work);
      try {
        return await work;
      } finally {
        this.#inFlight.delete(expected);
      }
    }
    return await this.#registerNew(blob, parent, options);
  }

  async #registerNew(
    blob: ReadableStream<Uint8Array>,
    parent: string | undefined,
    options: RegisterOptions,
  ): Promise<LayerRecord> {
    const parentLayer = parent === undefined ? undefined : this.#layers.get(parent);
    if (parent !== undefined && !parentLayer) {
      throw notFoundError(`parent layer ${parent} does not exist`);
    }
    const cacheId = randomHexId();
    const writeSet = await Deno.makeTempDir({ dir: join(this.root, "tmp"), prefix: "write-set-" });
    let created = false;
    try {
      await this.driver.create(cacheId, parentLayer?.cacheId);
      created = true;
      // Decompress here (not inside applyLayer) so the tar-split recorder sees the
      // uncompressed tar that the diffID is computed over.
      let consumed = 0;
      const counted = blob.pipeThrough(
        new TransformStream<Uint8Array, Uint8Array>({
          transform(chunk, controller) {
            consumed += chunk.byteLength;
            options.onProgress?.(consumed);
            controller.enqueue(chunk);
          },
        }),
      );
      const { chunks } = await decompressStream(counted);
      const recorder = new TarSplitRecorder();
      const recorded = ReadableStream.from((async function* () {
        for await (const chunk of chunks) {
          recorder.push(chunk);
          yield chunk;
        }
      })());
      const applied = await applyLayer(this.driver.diffDir(cacheId), recorded, {
        whiteoutFormat: "overlay",
        allowDevices: true,
        expectedDiffId: options.expectedDiffId,
      });
      const entries = recorder.finish();
      const chainId = createChainId(parent, applied.diffId);
      const existing = this.#layers.get(chainId);
      if (existing) {
        await this.driver.remove(cacheId);
        this.#retain(chainId);
        return existing;
      }
      const size = await directorySize(this.driver.diffDir(cacheId));
      await Deno.writeTextFile(join(writeSet, "diff"), applied.diffId);
      await Deno.writeTextFile(join(writeSet, "size"), String(size));
      await Deno.writeTextFile(join(writeSet, "cache-id"), cacheId);
      if (parent !== undefined) await Deno.writeTextFile(join(writeSet, "parent"), parent);
      if (options.descriptor) {
        await Deno.writeTextFile(
          join(writeSet, "descriptor.json"),
          JSON.stringify(options.descriptor),
        );
      }
      await writeTarSplit(join(writeSet, "tar-split.json.gz"), entries);
      await Deno.rename(writeSet, join(this.root, "sha256", hexOf(chainId)));
      const record: LayerRecord = { chainId, diffId: applied.diffId, cacheId, size };
      if (parent !== undefined) {
        record.parent = parent;
        this.#retain(parent); // the child holds its parent
      }
      if (options.descriptor) record.descriptor = options.descriptor;
      this.#layers.set(chainId, record);
      this.#retain(chainId); // the caller's reference
      return record;
    } catch (error) {
      if (created) await this.driver.remove(cacheId).catch(() => {});
      throw error;
    } finally {
      await Deno.remove(writeSet, { recursive: true }).catch(() => {});
    }
  }

  /**
   * Drops one reference; a layer nobody holds any more is deleted, and then its parent
   * loses the reference the layer held. Returns the chainIDs deleted, top first.
   */
  async release(chainId: string): Promise<string[]> {
    const deleted: string[] = [];
    for (let current: string | undefined = chainId; current !== undefined;) {
      const count = (this.#references.get(current) ?? 0) - 1;
      if (count > 0) {
        this.#references.set(current, count);
        break;
      }
      this.#references.delete(current);
      const layer = this.#layers.get(current);
      if (!layer) break;
      await this.#delete(layer);
      deleted.push(current);
      current = layer.parent;
    }
    return deleted;
  }

  async #delete(layer: LayerRecord): Promise<void> {
    this.#layers.delete(layer.chainId);
    // Rename first: a crash then leaves only a directory that start-up ignores.
    const dir = join(this.root, "sha256", hexOf(layer.chainId));
    const doomed = join(this.root, "tmp", `remove-${hexOf(layer.chainId)}`);
    await Deno.rename(dir, doomed).catch(() => {});
    await this.driver.remove(layer.cacheId);
    await Deno.remove(doomed, { recursive: true }).catch(() => {});
  }

  /** Releases every layer that nothing holds (after the image store took its references). */
  async removeUnreferenced(): Promise<string[]> {
    const deleted: string[] = [];
    for (const layer of [...this.#layers.values()]) {
      if (!this.#layers.has(layer.chainId)) continue;
      if (this.referenceCount(layer.chainId) === 0) {
        this.#retain(layer.chainId);
        deleted.push(...await this.release(layer.chainId));
      }
    }
    return deleted;
  }

  /** The layer as the tar it was registered from (reassembled, diffID-verified), with its size. */
  async tarStream(chainId: string): Promise<{ stream: ReadableStream<Uint8Array>; size: number }> {
    const layer = this.#layers.get(chainId);
    if (!layer) throw notFoundError(`layer ${chainId} does not exist`);
    const entries = await readTarSplit(
      join(this.root, "sha256", hexOf(chainId), "tar-split.json.gz"),
    );
    return {
      stream: assembleTar(this.driver.diffDir(layer.cacheId), entries, layer.diffId),
      size: tarSize(entries),
    };
  }

  // ---- Container (read-write) layers -------------------------------------------------

  /** The container layer record, or undefined. */
  getContainerLayer(containerId: string): MountRecord | undefined {
    return this.#mounts.get(containerId);
  }

  /** Every container layer record. */
  listContainerLayers(): MountRecord[] {
    return [...this.#mounts.values()];
  }

  /**
   * Creates a container's layers on the image's top layer (`parent`, a chainID; undefined
   * for an image with no layers): `<mount-id>-init` with the mount points, then
   * `<mount-id>` for the container's own changes. Records them in layerdb/mounts.
   */
  async createContainerLayer(
    containerId: string,
    parent: string | undefined,
  ): Promise<MountRecord> {
    if (this.#mounts.has(containerId)) {
      throw conflictError(`a read-write layer for container ${containerId} already exists`);
    }
    const parentLayer = parent === undefined ? undefined : this.#layers.get(parent);
    if (parent !== undefined && !parentLayer) throw notFoundError(`layer ${parent} does not exist`);
    const mountId = randomHexId();
    const initId = `${mountId}-init`;
    if (parent !== undefined) this.#retain(parent); // the container layer holds the image's
    try {
      await this.driver.create(initId, parentLayer?.cacheId);
      const initRoot = await this.driver.get(initId);
      try {
        await setupInitLayer(initRoot);
      } finally {
        await this.driver.put(initId);
      }
      await this.driver.create(mountId, initId);
      const dir = join(this.root, "mounts", containerId);
      await Deno.mkdir(dir, { recursive: true });
      await Deno.writeTextFile(join(dir, "mount-id"), mountId);
      await Deno.writeTextFile(join(dir, "init-id"), initId);
      if (parent !== undefined) await Deno.writeTextFile(join(dir, "parent"), parent);
    } catch (error) {
      await this.driver.remove(mountId).catch(() => {});
      await this.driver.remove(initId).catch(() => {});
      await Deno.remove(join(this.root, "mounts", containerId), { recursive: true }).catch(
        () => {},
      );
      if (parent !== undefined) this.#references.set(parent, this.referenceCount(parent) - 1);
      throw error;
    }
    const record: MountRecord = { containerId, mountId, initId };
    if (parent !== undefined) record.parent = parent;
    this.#mounts.set(containerId, record);
    return record;
  }

  #requireMount(containerId: string): MountRecord {
    const record = this.#mounts.get(containerId);
    if (!record) throw notFoundError(`no read-write layer for container ${containerId}`);
    return record;
  }

  /** GraphDriver.Data of a container layer, mounted or not. */
  async containerGraphDriverData(containerId: string): Promise<GraphDriverData> {
    return await this.driver.metadata(this.#requireMount(containerId).mountId);
  }

  /** Mounts the container's root filesystem (counted: one unmount per mount). */
  async mountContainerLayer(containerId: string): Promise<MountedContainerLayer> {
    const record = this.#requireMount(containerId);
    const mergedDir = await this.driver.get(record.mountId);
    return { mergedDir, graphDriver: await this.driver.metadata(record.mountId) };
  }

  /** Undoes one mountContainerLayer(). */
  async unmountContainerLayer(containerId: string): Promise<void> {
    await this.driver.put(this.#requireMount(containerId).mountId);
  }

  /** Bytes the container has written (its layer's diff dir), for `ps -s` and `system df`. */
  async containerLayerSize(containerId: string): Promise<number> {
    return await this.driver.diffSize(this.#requireMount(containerId).mountId);
  }

  /** Deletes the container's layers (unmounting them) and releases the image layer they held. */
  async removeContainerLayer(containerId: string): Promise<void> {
    const record = this.#requireMount(containerId);
    await this.driver.remove(record.mountId);
    await this.driver.remove(record.initId);
    await Deno.remove(join(this.root, "mounts", containerId), { recursive: true }).catch(() => {});
    this.#mounts.delete(containerId);
    if (record.parent !== undefined) await this.release(record.parent);
  }

  /** The diffIDs of an image's chain as chainIDs (for tests and tools). */
  static chainIdsOf(diffIds: string[]): string[] {
    return chainIds(diffIds);
  }
}

async function readOptional(path: string): Promise<string | undefined> {
  try {
    return (await Deno.readTextFile(path)).trim();
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
}
