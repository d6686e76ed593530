// What this teaches: image names are not part of an image. A tag (`busybox:latest`) or
// a digest reference (`busybox@sha256:<manifest digest>`) is a movable pointer to an
// image ID, kept in one small JSON file,
//   image/overlay2/repositories.json
//   {"Repositories": {"busybox": {"busybox:latest": "sha256:<image id>",
//                                 "busybox@sha256:<manifest>": "sha256:<image id>"}}}
// grouped by repository, in familiar spelling. Tagging an image is a write to this file
// (atomically: a temp file renamed over it); untagging leaves the image in place.
// A digest reference names the *manifest* a pull fetched, which is why the same image
// pulled from two registries has two RepoDigests but one ID.
// Mirrors moby's reference/store.go (store, AddTag, AddDigest, Delete, References).

import { join } from "node:path";
import {
  familiarName,
  familiarString,
  formatReference,
  parseNormalizedNamed,
  type Reference,
  tagNameOnly,
} from "../../reference/mod.ts";
import { badParameter, conflictError } from "../server/errors.ts";

interface RepositoriesFile {
  Repositories: Record<string, Record<string, string>>;
}

/** A reference with both spellings. */
export interface StoredReference {
  reference: Reference;
  /** `busybox:latest`, `localhost:5000/bb@sha256:…` */
  familiar: string;
  /** `docker.io/library/busybox:latest` */
  full: string;
  isDigest: boolean;
}

function stored(reference: Reference): StoredReference {
  return {
    reference,
    familiar: familiarString(reference),
    full: formatReference(reference),
    isDigest: reference.digest !== undefined,
  };
}

/** Parses a user's name into a normalized tag or digest reference (`busybox` → `busybox:latest`). */
export function parseImageReference(name: string): Reference {
  let reference: Reference;
  try {
    reference = tagNameOnly(parseNormalizedNamed(name));
  } catch {
    throw badParameter(`invalid reference format: ${name}`);
  }
  if (reference.tag !== undefined && reference.digest !== undefined) {
    // docker keeps only the digest when both are given.
    reference = { domain: reference.domain, path: reference.path, digest: reference.digest };
  }
  return reference;
}

/** The tag/digest → image ID map, persisted in repositories.json. */
export class ReferenceStore {
  /** familiar repository name → familiar reference → image ID */
  #repositories: Record<string, Record<string, string>> = {};
  #saving: Promise<void> = Promise.resolve();

  private constructor(readonly path: string) {}

  static async open(path: string): Promise<ReferenceStore> {
    const store = new ReferenceStore(path);
    try {
      const file = JSON.parse(await Deno.readTextFile(path)) as RepositoriesFile;
      store.#repositories = file.Repositories ?? {};
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) {
        throw new Error(`cannot read ${path}: ${error instanceof Error ? error.message : error}`);
      }
    }
    return store;
  }

  /** Points a tag at an image; an existing tag is moved only with `force` (the API always forces). */
  async addTag(reference: Reference, imageId: string, force = true): Promise<void> {
    if (reference.digest !== undefined) {
      throw badParameter("refusing to create a tag with a digest reference");
    }
    await this.#add(reference, imageId, force);
  }

  /** Records `name@digest` (the manifest a pull or push used) for an image. */
  async addDigest(reference: Reference, imageId: string): Promise<void> {
    if (reference.digest === undefined) throw badParameter("a digest reference needs @sha256:…");
    await this.#add(
      { domain: reference.domain, path: reference.path, digest: reference.digest },
      imageId,
      true,
    );
  }

  async #add(reference: Reference, imageId: string, force: boolean): Promise<void> {
    const { familiar } = stored(reference);
    const repository = familiarName(reference);
    const entries = this.#repositories[repository] ??= {};
    const old = entries[familiar];
    if (old !== undefined && old !== imageId && !force) {
      throw conflictError(
        `Conflict: Tag ${familiar} is already set to image ${old}, if you want to replace it, please use the force option`,
      );
    }
    entries[familiar] = imageId;
    await this.#save();
  }

  /** Removes a reference; false when it did not exist. */
  async delete(reference: Reference): Promise<boolean> {
    const { familiar } = stored(reference);
    const repository = familiarName(reference);
    const entries = this.#repositories[repository];
    if (!entries || !(familiar in entries)) return false;
    delete entries[familiar];
    if (Object.keys(entries).length === 0) delete this.#repositories[repository];
    await this.#save();
    return true;
  }

  /** The image a reference points to, or undefined. */
  get(reference: Reference): string | undefined {
    return this.#repositories[familiarName(reference)]?.[stored(reference).familiar];
  }

  /** Every reference to `imageId`, sorted by their full names (as dockerd sorts them). */
  references(imageId: string): StoredReference[] {
    const found: StoredReference[] = [];
    for (const entries of Object.values(this.#repositories)) {
      for (const [familiar, id] of Object.entries(entries)) {
        if (id === imageId) found.push(stored(parseNormalizedNamed(familiar)));
      }
    }
    return found.sort((a, b) => a.full < b.full ? -1 : a.full > b.full ? 1 : 0);
  }

  /** Every (reference, image ID) pair. */
  all(): { reference: StoredReference; imageId: string }[] {
    const pairs: { reference: StoredReference; imageId: string }[] = [];
    for (const entries of Object.values(this.#repositories)) {
      for (const [familiar, id] of Object.entries(entries)) {
        pairs.push({ reference: stored(parseNormalizedNamed(familiar)), imageId: id });
      }
    }
    return pairs;
  }

  /** Writes repositories.json through a temp file and rename, one write at a time. */
  #save(): Promise<void> {
    const content = JSON.stringify({ Repositories: this.#repositories } satisfies RepositoriesFile);
    this.#saving = this.#saving.catch(() => {}).then(async () => {
      const temporary = join(this.path + `.tmp-${crypto.randomUUID().slice(0, 8)}`);
      await Deno.writeTextFile(temporary, content, { mode: 0o600 });
      await Deno.rename(temporary, this.path);
    });
    return this.#saving;
  }
}
