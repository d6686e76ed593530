// What this teaches: a typed client for the Images service; each call maps onto one
// route, in the client's namespace. Mirrors containerd's `client/image_store.go`
// (the remote images.Store) and the create-then-update dance of `client/import.go`.

import type { UnixTransport } from "../api/client.ts";
import { isErrorCode } from "../api/errors.ts";
import { IMAGES_SERVICE } from "../api/services.ts";
import type { Descriptor, Image, ImagesApi } from "../images/types.ts";
import type { Labels } from "../metadata/db.ts";

const route = (method: string) => `/${IMAGES_SERVICE}/${method}`;

/** Client for the Images service, in one namespace. */
export class ImagesClient implements ImagesApi {
  constructor(private readonly transport: UnixTransport, private readonly namespace: string) {}

  async #call<T>(method: string, body: Record<string, unknown>): Promise<T> {
    return await this.transport.call<T>(route(method), body, { namespace: this.namespace });
  }

  async get(name: string): Promise<Image> {
    return (await this.#call<{ image: Image }>("Get", { name })).image;
  }

  async list(filters: string[] = []): Promise<Image[]> {
    return (await this.#call<{ images: Image[] }>("List", { filters })).images;
  }

  async create(image: { name: string; target: Descriptor; labels?: Labels }): Promise<Image> {
    return (await this.#call<{ image: Image }>("Create", { image })).image;
  }

  async update(
    image: { name: string; target?: Descriptor; labels?: Labels },
    fieldPaths: string[] = [],
  ): Promise<Image> {
    return (await this.#call<{ image: Image }>("Update", {
      image,
      updateMask: { paths: fieldPaths },
    })).image;
  }

  /**
   * Creates the image or, when the name exists, replaces its target and labels
   * (containerd's client does the same: Create, then Update on already_exists, and
   * Create again if the image vanished in between).
   */
  async put(image: { name: string; target: Descriptor; labels?: Labels }): Promise<Image> {
    for (let attempt = 0;; attempt++) {
      try {
        return await this.create(image);
      } catch (error) {
        if (!isErrorCode(error, "already_exists")) throw error;
      }
      try {
        return await this.update({ ...image, labels: image.labels ?? {} }, ["target", "labels"]);
      } catch (error) {
        if (!isErrorCode(error, "not_found") || attempt >= 3) throw error;
      }
    }
  }

  async delete(name: string, options: { sync?: boolean; target?: string } = {}): Promise<void> {
    await this.#call("Delete", { name, sync: options.sync ?? false, target: options.target });
  }
}
