// What this teaches: the image operations behind `docker images`, `inspect`,
// `history`, `tag`, `rmi` and `image prune`, on top of the three stores (images by ID,
// names → IDs, layers by chainID). Names are resolved the way dockerd does it: a full
// or truncated image ID first, then a tag or digest reference (`busybox` meaning
// `busybox:latest`). Deleting is the subtle part: `docker rmi busybox` only *untags*
// while other names remain; the image itself goes when its last name goes, unless a
// container still uses it (a conflict, overridable with -f for stopped containers but
// never for running ones), and then every layer nothing else holds goes with it.
// Mirrors moby's daemon/images (image.go GetImage, images.go Images, image_history.go,
// image_tag.go, image_delete.go ImageDelete/imageDeleteHelper/checkImageDeleteConflict,
// image_prune.go) and image_events.go: `docker events` hears `tag` (named after the new
// tag), `untag` and `delete` (named after the image ID, as dockerd does) and one `prune`
// with the bytes reclaimed; every image event carries the image's labels while it exists.

import { familiarName, type Reference } from "../../reference/mod.ts";
import type { EventsService } from "../events.ts";
import { badParameter, conflictError, EngineError, noSuchImage } from "../server/errors.ts";
import type { ContainerSummary } from "../types.ts";
import type { LayerStore } from "../layer/layer_store.ts";
import type { GraphDriverData } from "../layer/overlay2.ts";
import { formatNanoTime, type ImageRecord, type ImageStore } from "./image_store.ts";
import {
  parseImageReference,
  type ReferenceStore,
  type StoredReference,
} from "./reference_store.ts";
import type { DockerContainerConfig, HistoryItem, ImageDeleteItem, ImageSummary } from "./types.ts";

/** The Docker version string images created here carry (DockerVersion). */
export const ENGINE_VERSION = "20.10.24-mini";

/** Which containers exist (installed by the containers module; none by default). */
export type ContainerLister = () => Promise<ContainerSummary[]>;

const ZERO_TIME = "0001-01-01T00:00:00Z";

/** The first 12 hex characters of an ID (stringid.TruncateID). */
export function shortId(id: string): string {
  return (id.startsWith("sha256:") ? id.slice(7) : id).slice(0, 12);
}

function unixSeconds(created: string | undefined): number {
  const time = created ? Date.parse(created) : NaN;
  return Number.isNaN(time) ? 0 : Math.floor(time / 1000);
}

/** The image service: resolution, listing, inspection, tagging and deletion. */
export class ImageService {
  #events?: EventsService;

  constructor(
    readonly images: ImageStore,
    readonly references: ReferenceStore,
    readonly layers: LayerStore,
    private readonly containers: ContainerLister,
  ) {}

  /** Sends image events to the daemon's event log from now on (the daemon calls this at start). */
  useEvents(events: EventsService): void {
    this.#events = events;
  }

  /**
   * Logs an image event, moby's LogImageEvent: the actor is `actorId` (an image ID, or
   * a reference for pull/push), its attributes the labels of the image `actorId`
   * resolves to (none once deleted) and `name`.
   */
  logEvent(action: string, actorId: string, name: string): void {
    if (!this.#events) return;
    let labels: Record<string, string> = {};
    try {
      labels = this.find(actorId)?.config.config?.Labels ?? {};
    } catch { /* an ambiguous name has no labels to copy */ }
    this.#events.log("image", action, actorId, { ...labels, name });
  }

  /** Finds an image by ID, ID prefix, tag or digest; undefined when there is none. */
  find(nameOrId: string): ImageRecord | undefined {
    const hex = nameOrId.startsWith("sha256:") ? nameOrId.slice(7) : nameOrId;
    if (/^[a-f0-9]{64}$/.test(hex)) return this.images.get(hex);
    let reference: Reference | undefined;
    try {
      reference = parseImageReference(nameOrId);
    } catch { /* not a name: maybe an ID prefix */ }
    if (reference) {
      const id = this.references.get(reference);
      if (id) return this.images.get(id);
    }
    if (/^(sha256:)?[a-f0-9]+$/.test(nameOrId)) return this.images.search(nameOrId);
    return undefined;
  }

  /** Like find(), but a missing image is dockerd's 404 "No such image: busybox:latest". */
  get(nameOrId: string): ImageRecord {
    const image = this.find(nameOrId);
    if (image) return image;
    throw noSuchImage(this.#displayName(nameOrId));
  }

  #displayName(nameOrId: string): string {
    try {
      const reference = parseImageReference(nameOrId);
      if (/^(sha256:)?[a-f0-9]{6,64}$/.test(nameOrId) && !nameOrId.includes(":")) return nameOrId;
      return this.#familiar(reference);
    } catch {
      return nameOrId;
    }
  }

  #familiar(reference: Reference): string {
    let text = familiarName(reference);
    if (reference.tag !== undefined) text += `:${reference.tag}`;
    if (reference.digest !== undefined) text += `@${reference.digest}`;
    return text;
  }

  /** The image's tags (`busybox:latest`) and digests (`busybox@sha256:…`), familiar spelling. */
  names(imageId: string): { tags: string[]; digests: string[] } {
    const tags: string[] = [];
    const digests: string[] = [];
    for (const reference of this.references.references(imageId)) {
      (reference.isDigest ? digests : tags).push(reference.familiar);
    }
    return { tags, digests };
  }

  /** Bytes of all the image's layers. */
  size(image: ImageRecord): number {
    return this.layers.chainSize(image.topLayer);
  }

  /** `GET /images/json`: summaries, newest first, with dockerd's dangling/all rules. */
  list(options: { all?: boolean; filters?: Map<string, string[]> } = {}): ImageSummary[] {
    const filters = options.filters ?? new Map<string, string[]>();
    for (const name of filters.keys()) {
      if (!["dangling", "reference", "label", "before", "since"].includes(name)) {
        throw badParameter(`invalid filter '${name}'`);
      }
    }
    const dangling = filters.get("dangling");
    let danglingOnly = false;
    if (dangling && dangling.length > 0) {
      const value = dangling[0].toLowerCase();
      if (value !== "true" && value !== "false" && value !== "1" && value !== "0") {
        throw badParameter(`invalid filter 'dangling=${dangling[0]}'`);
      }
      danglingOnly = value === "true" || value === "1";
    }
    const referencePatterns = (filters.get("reference") ?? []).map((pattern) =>
      pathMatchPattern(pattern)
    );
    const beforeImage = filters.get("before")?.[0];
    const sinceImage = filters.get("since")?.[0];
    const beforeTime = beforeImage ? unixSeconds(this.get(beforeImage).config.created) : undefined;
    const sinceTime = sinceImage ? unixSeconds(this.get(sinceImage).config.created) : undefined;
    const labels = filters.get("label") ?? [];

    const candidates = options.all ? this.images.list() : this.images.heads();
    const summaries: ImageSummary[] = [];
    for (const image of candidates) {
      const created = unixSeconds(image.config.created);
      if (beforeTime !== undefined && created >= beforeTime) continue;
      if (sinceTime !== undefined && created <= sinceTime) continue;
      const imageLabels = image.config.config?.Labels ?? {};
      if (!labels.every((filter) => matchesLabel(imageLabels, filter))) continue;

      let repoTags: string[] | null = null;
      let repoDigests: string[] | null = null;
      for (const reference of this.references.references(image.id)) {
        if (referencePatterns.length > 0 && !matchesReference(reference, referencePatterns)) {
          continue;
        }
        if (reference.isDigest) (repoDigests ??= []).push(reference.familiar);
        else (repoTags ??= []).push(reference.familiar);
      }
      if (repoTags === null && repoDigests === null) {
        if (!options.all && this.images.children(image.id).length > 0) continue;
        if (dangling && !danglingOnly) continue;
        if (referencePatterns.length > 0) continue;
        repoTags = ["<none>:<none>"];
        repoDigests = ["<none>@<none>"];
      } else if (danglingOnly && repoTags !== null) {
        continue;
      }
      const size = this.size(image);
      summaries.push({
        Containers: -1,
        Created: created,
        Id: image.id,
        Labels: image.config.config?.Labels ?? null,
        ParentId: image.parent ?? "",
        RepoDigests: repoDigests,
        RepoTags: repoTags,
        SharedSize: -1,
        Size: size,
        VirtualSize: size,
      });
    }
    return summaries.sort((a, b) => b.Created - a.Created);
  }

  /** `GET /images/{name}/json`: the inspect document. */
  async inspect(image: ImageRecord): Promise<Record<string, unknown>> {
    const { tags, digests } = this.names(image.id);
    const config = image.config;
    const size = this.size(image);
    let graphDriver: GraphDriverData | Record<string, never> = {};
    if (image.topLayer) graphDriver = await this.layers.graphDriverData(image.topLayer);
    return {
      Id: image.id,
      RepoTags: tags,
      RepoDigests: digests,
      Parent: image.parent ?? "",
      Comment: config.comment ?? "",
      Created: config.created ?? ZERO_TIME,
      Container: config.container ?? "",
      ContainerConfig: fullContainerConfig(config.container_config),
      DockerVersion: config.docker_version ?? "",
      Author: config.author ?? "",
      Config: config.config ? fullContainerConfig(config.config) : null,
      Architecture: config.architecture ?? "",
      ...(config.variant ? { Variant: config.variant } : {}),
      Os: config.os ?? "",
      ...(config["os.version"] ? { OsVersion: config["os.version"] } : {}),
      Size: size,
      VirtualSize: size,
      GraphDriver: { Data: graphDriver, Name: "overlay2" },
      RootFS: { Type: config.rootfs.type, Layers: config.rootfs.diff_ids },
      Metadata: { LastTagTime: image.lastUpdated ?? ZERO_TIME },
    };
  }

  /** `GET /images/{name}/history`: one row per history entry, newest first. */
  history(image: ImageRecord): HistoryItem[] {
    const diffIds = image.config.rootfs.diff_ids;
    const layerChain = this.layers.chain(image.topLayer).reverse(); // base first
    const rows: HistoryItem[] = [];
    let layerIndex = 0;
    for (const entry of image.config.history ?? []) {
      let size = 0;
      if (!entry.empty_layer) {
        if (layerIndex >= diffIds.length) {
          throw new EngineError(500, "too many non-empty layers in History section");
        }
        size = layerChain[layerIndex]?.size ?? 0;
        layerIndex++;
      }
      rows.unshift({
        Comment: entry.comment ?? "",
        Created: unixSeconds(entry.created),
        CreatedBy: entry.created_by ?? "",
        Id: "<missing>",
        Size: size,
        Tags: null,
      });
    }
    // Rows get IDs only along the *local* parent chain.
    let current: ImageRecord | undefined = image;
    for (const row of rows) {
      if (!current) break;
      row.Id = current.id;
      const { tags } = this.names(current.id);
      row.Tags = tags.length > 0 ? tags : null;
      current = current.parent ? this.images.get(current.parent) : undefined;
    }
    return rows;
  }

  /** `POST /images/{name}/tag?repo=&tag=`: points a new tag at the image. */
  async tag(image: ImageRecord, repository: string, tag: string | undefined): Promise<string> {
    if (repository === "") throw badParameter("repository name must have at least one component");
    const text = tag ? `${repository}:${tag}` : repository;
    const reference = parseImageReference(text);
    if (reference.digest !== undefined) {
      throw badParameter("refusing to create a tag with a digest reference");
    }
    await this.references.addTag(reference, image.id, true);
    await this.images.touch(image.id);
    const familiar = this.#familiar(reference);
    this.logEvent("tag", image.id, familiar);
    return familiar;
  }

  /** `DELETE /images/{name}?force=&noprune=`: untags and deletes, as `docker rmi`. */
  async delete(
    nameOrId: string,
    options: { force?: boolean; prune?: boolean } = {},
  ): Promise<ImageDeleteItem[]> {
    const force = options.force ?? false;
    const prune = options.prune ?? true;
    const image = this.get(nameOrId);
    const records: ImageDeleteItem[] = [];
    let repoRefs = this.references.references(image.id);
    const byIdPrefix = isIdPrefix(image.id, nameOrId);
    let removedRepositoryRef = false;
    const containers = await this.containers();
    if (!byIdPrefix) {
      if (!force && isSingleReference(repoRefs)) {
        const user = containers.find((container) => container.imageId === image.id);
        if (user) {
          throw conflictError(
            `conflict: unable to remove repository reference "${nameOrId}" (must force) - ` +
              `container ${shortId(user.id)} is using its referenced image ${shortId(image.id)}`,
          );
        }
      }
      const reference = parseImageReference(nameOrId);
      await this.references.delete(reference);
      records.push({ Untagged: this.#familiar(reference) });
      this.logEvent("untag", image.id, image.id);
      repoRefs = this.references.references(image.id);
      if (reference.digest === undefined) {
        // The last tag of a repository is gone: its digest references go too.
        const name = familiarName(reference);
        const tagLeft = repoRefs.some((ref) =>
          !ref.isDigest && familiarName(ref.reference) === name
        );
        if (!tagLeft) {
          for (const ref of repoRefs) {
            if (ref.isDigest && familiarName(ref.reference) === name) {
              await this.references.delete(ref.reference);
              records.push({ Untagged: ref.familiar });
            }
          }
          repoRefs = this.references.references(image.id);
        }
      }
      if (repoRefs.length > 0) return records;
      removedRepositoryRef = true;
    } else if (isSingleReference(repoRefs)) {
      const conflict = this.#conflict(image, containers, force ? "hard" : "all-but-references");
      if (conflict) throw conflict;
      for (const ref of repoRefs) {
        await this.references.delete(ref.reference);
        records.push({ Untagged: ref.familiar });
        this.logEvent("untag", image.id, image.id);
      }
    }
    await this.#deleteHelper(image, records, containers, force, prune, removedRepositoryRef);
    return records;
  }

  async #deleteHelper(
    image: ImageRecord,
    records: ImageDeleteItem[],
    containers: ContainerSummary[],
    force: boolean,
    prune: boolean,
    quiet: boolean,
  ): Promise<void> {
    const conflict = this.#conflict(image, containers, force ? "hard" : "all");
    if (conflict) {
      if (quiet && (!this.#isDangling(image) || conflict.used)) return;
      throw conflict;
    }
    const parent = image.parent;
    for (const ref of this.references.references(image.id)) {
      await this.references.delete(ref.reference);
      records.push({ Untagged: ref.familiar });
      this.logEvent("untag", image.id, image.id);
    }
    const removedLayers = await this.images.delete(image.id);
    this.logEvent("delete", image.id, image.id);
    records.push({ Deleted: image.id });
    for (const layer of removedLayers) records.push({ Deleted: layer });
    if (!prune || !parent) return;
    const parentImage = this.images.get(parent);
    if (parentImage) await this.#deleteHelper(parentImage, records, containers, false, true, true);
  }

  #isDangling(image: ImageRecord): boolean {
    return this.references.references(image.id).length === 0 &&
      this.images.children(image.id).length === 0;
  }

  #conflict(
    image: ImageRecord,
    containers: ContainerSummary[],
    mask: "hard" | "all" | "all-but-references",
  ): (EngineError & { used: boolean }) | undefined {
    const make = (hard: boolean, used: boolean, message: string) =>
      Object.assign(
        conflictError(
          `conflict: unable to delete ${shortId(image.id)} (${
            hard ? "cannot be forced" : "must be forced"
          }) - ${message}`,
        ),
        { used },
      );
    if (this.images.children(image.id).length > 0) {
      return make(true, false, "image has dependent child images");
    }
    const running = containers.find((container) =>
      container.imageId === image.id &&
      (container.state === "running" || container.state === "paused" ||
        container.state === "restarting")
    );
    if (running) {
      return make(true, true, `image is being used by running container ${shortId(running.id)}`);
    }
    if (mask === "hard") return undefined;
    if (mask === "all" && this.references.references(image.id).length > 0) {
      return make(false, false, "image is referenced in multiple repositories");
    }
    const stopped = containers.find((container) => container.imageId === image.id);
    if (stopped) {
      return make(false, true, `image is being used by stopped container ${shortId(stopped.id)}`);
    }
    return undefined;
  }

  /** `POST /images/prune`: deletes dangling (or, with dangling=false, all unused) images. */
  async prune(
    filters: Map<string, string[]>,
  ): Promise<{ ImagesDeleted: ImageDeleteItem[] | null; SpaceReclaimed: number }> {
    for (const name of filters.keys()) {
      if (!["dangling", "label", "until"].includes(name)) {
        throw badParameter(`invalid filter '${name}'`);
      }
    }
    const danglingValue = filters.get("dangling")?.[0]?.toLowerCase();
    const danglingOnly = danglingValue === undefined || danglingValue === "true" ||
      danglingValue === "1";
    const labels = filters.get("label") ?? [];
    const containers = await this.containers();
    const used = new Set(containers.map((container) => container.imageId));
    const sizes = new Map(this.layers.list().map((layer) => [layer.chainId, layer.size]));
    const deleted: ImageDeleteItem[] = [];
    let reclaimed = 0;
    for (const image of this.images.heads()) {
      if (!this.images.get(image.id)) continue; // removed as a parent meanwhile
      if (used.has(image.id)) continue;
      if (danglingOnly && this.references.references(image.id).length > 0) continue;
      const imageLabels = image.config.config?.Labels ?? {};
      if (!labels.every((filter) => matchesLabel(imageLabels, filter))) continue;
      let records: ImageDeleteItem[];
      try {
        records = await this.delete(image.id, { force: false, prune: true });
      } catch {
        continue;
      }
      for (const record of records) {
        if ("Deleted" in record) reclaimed += sizes.get(record.Deleted) ?? 0;
      }
      deleted.push(...records);
    }
    this.#events?.log("image", "prune", "", { reclaimed: String(reclaimed) });
    return { ImagesDeleted: deleted.length > 0 ? deleted : null, SpaceReclaimed: reclaimed };
  }

  /** The LastTagTime format, for callers that touch images themselves. */
  static now(): string {
    return formatNanoTime(new Date());
  }
}

function isIdPrefix(imageId: string, reference: string): boolean {
  const hex = imageId.slice("sha256:".length);
  return imageId.startsWith(reference) || hex.startsWith(reference);
}

/** dockerd's isSingleReference: one tag (plus digests of the same repository) at most. */
function isSingleReference(refs: StoredReference[]): boolean {
  if (refs.length <= 1) return refs.length === 1;
  let single: StoredReference | undefined;
  const canonicalNames = new Set<string>();
  for (const ref of refs) {
    if (ref.isDigest) canonicalNames.add(familiarName(ref.reference));
    else if (!single) single = ref;
    else return false;
  }
  single ??= refs[0];
  return canonicalNames.size === 1 && canonicalNames.has(familiarName(single.reference));
}

/** Go's path.Match as a RegExp: `*` and `?` never cross "/", `[...]` is a class. */
function pathMatchPattern(pattern: string): RegExp {
  let source = "";
  for (let index = 0; index < pattern.length; index++) {
    const character = pattern[index];
    if (character === "*") source += "[^/]*";
    else if (character === "?") source += "[^/]";
    else if (character === "[") {
      const close = pattern.indexOf("]", index + 1);
      if (close < 0) {
        throw badParameter(`invalid reference filter ${JSON.stringify(pattern)}: unclosed [`);
      }
      source += "[" + pattern.slice(index + 1, close).replace(/^\^/, "^").replace(/\\/g, "\\\\") +
        "]";
      index = close;
    } else source += character.replace(/[.+^${}()|\\]/g, "\\$&");
  }
  return new RegExp(`^${source}$`);
}

function matchesReference(reference: StoredReference, patterns: RegExp[]): boolean {
  const name = familiarName(reference.reference);
  return patterns.some((pattern) => pattern.test(reference.familiar) || pattern.test(name));
}

function matchesLabel(labels: Record<string, string>, filter: string): boolean {
  const equals = filter.indexOf("=");
  if (equals < 0) return filter in labels;
  return labels[filter.slice(0, equals)] === filter.slice(equals + 1);
}

/** A container config with every field present, as Go's struct encoding prints it. */
function fullContainerConfig(config: DockerContainerConfig | undefined): Record<string, unknown> {
  return {
    Hostname: "",
    Domainname: "",
    User: "",
    AttachStdin: false,
    AttachStdout: false,
    AttachStderr: false,
    Tty: false,
    OpenStdin: false,
    StdinOnce: false,
    Env: null,
    Cmd: null,
    Image: "",
    Volumes: null,
    WorkingDir: "",
    Entrypoint: null,
    OnBuild: null,
    Labels: null,
    ...(config ?? {}),
  };
}
