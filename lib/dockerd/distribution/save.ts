// What this teaches: the `docker save` archive of Docker 20.10, which `docker load`
// (and skopeo's docker-archive:, and mini-ctr import) read back:
//   manifest.json      [{"Config": "<image id>.json", "RepoTags": ["busybox:latest"],
//                        "Layers": ["<v1 id>/layer.tar", …]}]   base layer first
//   <image id>.json    the image config, byte for byte (so the ID stays the same)
//   <v1 id>/layer.tar  each layer's tar, reassembled exactly (its sha256 is the diffID)
//   <v1 id>/json, <v1 id>/VERSION   the legacy v1 metadata older tools read
//   repositories       {"busybox": {"latest": "<v1 id of the top layer>"}}
// The v1 IDs are a legacy of Docker before content addressing: one per layer, derived
// from the chainID and the parent's v1 ID, so the same image always saves the same way.
// Names given as a bare repository (`docker save busybox`) save every tag of it.
// Each image saved is one `save` event (actor and name: the image ID).
// Mirrors moby's image/tarexport/save.go (parseNames, saveImage, saveLayer) and
// image/v1/imagev1.go (CreateID).

import { createHash } from "node:crypto";
import { type TarRecord, writeTar } from "../../image_archive/tar_stream.ts";
import { familiarName, familiarString } from "../../reference/normalize.ts";
import type { Daemon } from "../daemon.ts";
import type { ImageRecord } from "../image/image_store.ts";
import { parseImageReference } from "../image/reference_store.ts";
import type { EngineRequest } from "../server/context.ts";

/** One image to save with the tags it goes under. */
interface SaveItem {
  image: ImageRecord;
  tags: string[];
}

/** Resolves the names (tags, repositories, IDs) into images and their tags, dockerd's way. */
export function planSave(daemon: Daemon, names: string[]): SaveItem[] {
  const items = new Map<string, SaveItem>();
  const add = (image: ImageRecord, tag?: string) => {
    const item = items.get(image.id) ?? { image, tags: [] };
    if (tag && !item.tags.includes(tag)) item.tags.push(tag);
    items.set(image.id, item);
  };
  for (const name of names) {
    const image = daemon.images.get(name); // 404 "No such image" before anything is written
    let reference;
    try {
      reference = parseImageReference(name);
    } catch { /* an ID: saved without tags */ }
    if (!reference || daemon.references.get(reference) !== image.id) {
      add(image); // found by (truncated) ID
      continue;
    }
    if (/:[^/]+$/.test(name) || name.includes("@")) {
      add(image, reference.tag !== undefined ? familiarString(reference) : undefined);
      continue;
    }
    // A bare repository name: every tag of that repository.
    const repository = familiarName(reference);
    for (const { reference: stored, imageId } of daemon.references.all()) {
      if (stored.isDigest || familiarName(stored.reference) !== repository) continue;
      const tagged = daemon.imageStore.get(imageId);
      if (tagged) add(tagged, stored.familiar);
    }
  }
  return [...items.values()];
}

function sha256Hex(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

const encoder = new TextEncoder();

/** Builds the tar records of a save. */
export async function saveRecords(daemon: Daemon, items: SaveItem[]): Promise<TarRecord[]> {
  const records: TarRecord[] = [];
  const written = new Set<string>();
  const manifest: { Config: string; RepoTags: string[] | null; Layers: string[] }[] = [];
  const repositories: Record<string, Record<string, string>> = {};
  for (const { image, tags } of items) {
    const chain = daemon.layers.chain(image.topLayer).reverse(); // base first
    const layerPaths: string[] = [];
    let parentV1 = "";
    for (let index = 0; index < chain.length; index++) {
      const layer = chain[index];
      const isTop = index === chain.length - 1;
      const v1Id = sha256Hex(
        JSON.stringify({ layer_id: layer.chainId, parent: parentV1, top: isTop ? image.id : "" }),
      );
      const created = isTop
        ? image.config.created ?? "1970-01-01T00:00:00Z"
        : "1970-01-01T00:00:00Z";
      const v1Json: Record<string, unknown> = {
        id: v1Id,
        created,
        container_config: { Cmd: null },
      };
      if (parentV1) v1Json.parent = parentV1;
      if (isTop) {
        Object.assign(v1Json, {
          os: image.config.os ?? "linux",
          architecture: image.config.architecture,
          config: image.config.config,
        });
      }
      if (!written.has(v1Id)) {
        written.add(v1Id);
        const { size } = await daemon.layers.tarStream(layer.chainId);
        const json = encoder.encode(JSON.stringify(v1Json));
        records.push(
          { name: `${v1Id}`, type: "directory", mode: 0o755 },
          {
            name: `${v1Id}/VERSION`,
            type: "file",
            mode: 0o644,
            size: 3,
            body: () => encoder.encode("1.0"),
          },
          {
            name: `${v1Id}/json`,
            type: "file",
            mode: 0o644,
            size: json.byteLength,
            body: () => json,
          },
          {
            name: `${v1Id}/layer.tar`,
            type: "file",
            mode: 0o644,
            size,
            body: async () => (await daemon.layers.tarStream(layer.chainId)).stream,
          },
        );
      }
      layerPaths.push(`${v1Id}/layer.tar`);
      parentV1 = v1Id;
    }
    const configName = `${image.id.slice(7)}.json`;
    if (!written.has(configName)) {
      written.add(configName);
      const created = image.config.created ? new Date(image.config.created) : undefined;
      records.push({
        name: configName,
        type: "file",
        mode: 0o644,
        size: image.raw.byteLength,
        mtime: created && !Number.isNaN(created.getTime()) ? created : undefined,
        body: () => image.raw,
      });
    }
    manifest.push({
      Config: configName,
      RepoTags: tags.length > 0 ? tags : null,
      Layers: layerPaths,
    });
    for (const tag of tags) {
      const reference = parseImageReference(tag);
      (repositories[familiarName(reference)] ??= {})[reference.tag!] = parentV1;
    }
  }
  const manifestBytes = encoder.encode(JSON.stringify(manifest));
  records.push({
    name: "manifest.json",
    type: "file",
    mode: 0o644,
    size: manifestBytes.byteLength,
    body: () => manifestBytes,
  });
  if (Object.keys(repositories).length > 0) {
    const repositoriesBytes = encoder.encode(JSON.stringify(repositories));
    records.push({
      name: "repositories",
      type: "file",
      mode: 0o644,
      size: repositoriesBytes.byteLength,
      body: () => repositoriesBytes,
    });
  }
  return records;
}

/** `GET /images/get` and `/images/{name}/get`: streams the archive (200, application/x-tar). */
export async function saveImages(
  daemon: Daemon,
  request: EngineRequest,
  names: string[],
): Promise<void> {
  const items = planSave(daemon, names);
  const records = await saveRecords(daemon, items);
  const out = request.reply.stream(200, "application/x-tar");
  try {
    for await (const chunk of writeTar(records)) {
      if (out.closed.aborted) return; // the client left: nothing was saved
      await out.write(chunk);
    }
    await out.end();
    // As dockerd, `save` is logged once the images are in the archive sent.
    for (const { image } of items) daemon.images.logEvent("save", image.id, image.id);
  } catch (error) {
    daemon.log.error("docker save failed mid-stream", {
      error: error instanceof Error ? error.message : String(error),
    });
    request.reply.error(error); // cuts the stream: the client sees a truncated archive
  }
}
