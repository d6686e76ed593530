// What this teaches: how `docker stop web`, `docker stop 3f2a` and `docker stop
// 3f2a9c...` all find the same container. dockerd keeps every container in memory by
// ID and its name in a separate registry; a reference is tried as a full ID, then as a
// name, then as a unique ID prefix (an ambiguous prefix is an error, not a guess).
// Names are reserved before anything is created, so two `docker run --name web` at
// the same moment cannot both win.
// Mirrors moby's container/memory_store.go, daemon/names.go (reserveName, releaseName),
// pkg/truncindex and daemon/container.go (GetContainer).

import { badParameter, conflictError, EngineError } from "../server/errors.ts";
import type { Container } from "./container.ts";
import { randomName, stripSlash } from "./names.ts";

/** 404 "No such container: X", as dockerd words it. */
export function noSuchContainer(reference: string): EngineError {
  return new EngineError(404, `No such container: ${reference}`);
}

/** Every container the daemon knows, by ID and by name. */
export class ContainerStore {
  readonly #byId = new Map<string, Container>();
  /** "/web" → container ID (reserved names may not have a container yet). */
  readonly #names = new Map<string, string>();

  /** Adds a container (its name must be reserved for it already). */
  add(container: Container): void {
    this.#byId.set(container.id, container);
    this.#names.set(container.name, container.id);
  }

  /** Removes a container and frees its name. */
  delete(container: Container): void {
    this.#byId.delete(container.id);
    if (this.#names.get(container.name) === container.id) this.#names.delete(container.name);
  }

  /** Every container, newest first (the order of `docker ps`). */
  list(): Container[] {
    return [...this.#byId.values()].sort((a, b) => b.created.localeCompare(a.created));
  }

  /** The container for a full ID, name or unique ID prefix; undefined if none. */
  find(reference: string): Container | undefined {
    if (reference === "") return undefined;
    const byId = this.#byId.get(reference);
    if (byId) return byId;
    const nameId = this.#names.get(`/${stripSlash(reference)}`);
    if (nameId) {
      const byName = this.#byId.get(nameId);
      if (byName) return byName;
    }
    if (!/^[a-f0-9]+$/.test(reference)) return undefined;
    const matches = [...this.#byId.keys()].filter((id) => id.startsWith(reference));
    if (matches.length > 1) {
      throw badParameter(`Multiple IDs found with provided prefix: ${reference}`);
    }
    return matches.length === 1 ? this.#byId.get(matches[0]) : undefined;
  }

  /** Like find(), but 404 "No such container: X" when there is none. */
  get(reference: string): Container {
    const container = this.find(reference);
    if (!container) throw noSuchContainer(reference);
    return container;
  }

  /**
   * Reserves `name` ("web" or "/web") for `id`; 409 with dockerd's message when another
   * container has it.
   */
  reserveName(name: string, id: string): string {
    const full = `/${stripSlash(name)}`;
    const holder = this.#names.get(full);
    if (holder !== undefined && holder !== id) {
      throw conflictError(
        `Conflict. The container name "${full}" is already in use by container "${holder}". ` +
          "You have to remove (or rename) that container to be able to reuse that name.",
      );
    }
    this.#names.set(full, id);
    return full;
  }

  /** Frees a reserved name (a failed create). */
  releaseName(name: string, id: string): void {
    if (this.#names.get(name) === id) this.#names.delete(name);
  }

  /** Reserves a random free name for `id` (moby's generateNewName). */
  generateName(id: string): string {
    for (let attempt = 0; attempt < 20; attempt++) {
      const name = `/${randomName(attempt < 6 ? 0 : attempt)}`;
      if (!this.#names.has(name)) {
        this.#names.set(name, id);
        return name;
      }
    }
    const name = `/${id.slice(0, 12)}`;
    this.#names.set(name, id);
    return name;
  }

  /** How many containers there are. */
  get size(): number {
    return this.#byId.size;
  }
}
