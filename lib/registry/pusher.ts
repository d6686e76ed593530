// What this teaches: writing to a registry, bottom up. A blob is skipped when
// `HEAD /v2/<repo>/blobs/<digest>` finds it; it is *mounted* from another repository
// of the same registry when we know it lives there (`POST .../blobs/uploads/?mount=
// <digest>&from=<repo>`, answered `201 Created` without moving a byte); otherwise an
// upload session is opened (`POST .../blobs/uploads/` → `202` + `Location`) and the
// bytes sent either in one `PUT <location>?digest=<digest>` (monolithic) or as
// `PATCH` chunks with `Content-Range` followed by a closing `PUT`. The registry checks
// the digest when the upload is closed. Manifests go last, with `PUT .../manifests/
// <tag or digest>`: a registry refuses a manifest whose blobs it does not have.
// Mirrors containerd's `core/remotes/docker/pusher.go`.

import type { Descriptor } from "../images/types.ts";
import { type FailedOperation, RegistryError } from "./errors.ts";
import { refKey } from "./handlers.ts";
import { type RemoteRepository, repositoryDisplayName, repositoryUrl } from "./hosts.ts";
import type { RegistryHttp } from "./http.ts";
import { repositoryScope } from "./scope.ts";
import { MeteredStream } from "./streams.ts";

/** How blobs are uploaded. */
export interface PusherOptions {
  /** Send blobs in PATCH chunks of this many bytes; 0 or unset sends each in one PUT. */
  chunkSize?: number;
  /** Whole-upload attempts for a blob when the connection fails. */
  uploadAttempts?: number;
}

/** Opens a blob's bytes from the start (called again when an upload is retried). */
export type BlobOpener = () => Promise<ReadableStream<Uint8Array<ArrayBuffer>>>;

/** Pushes blobs and manifests into one repository. */
export class Pusher {
  constructor(
    readonly http: RegistryHttp,
    readonly repository: RemoteRepository,
    readonly options: PusherOptions = {},
  ) {}

  #operation(action: string): FailedOperation {
    return {
      action,
      repository: repositoryDisplayName(this.repository),
      host: this.repository.endpoint.domain,
      access: "push",
    };
  }

  #scopes(extra: string[] = []): string[] {
    return [repositoryScope(this.repository.path, ["pull", "push"]), ...extra];
  }

  /** True when the repository already has the blob (`HEAD .../blobs/<digest>`). */
  async blobExists(descriptor: Descriptor): Promise<boolean> {
    const response = await this.http.send({
      method: "HEAD",
      url: repositoryUrl(this.repository, `blobs/${descriptor.digest}`),
      endpoint: this.repository.endpoint,
      scopes: this.#scopes(),
      idempotent: true,
      acceptStatuses: [404],
      operation: this.#operation(`checking ${refKey(descriptor)}`),
    });
    await response.body?.cancel();
    return response.ok;
  }

  /** True when the repository already has the manifest (`HEAD .../manifests/<digest>`). */
  async manifestExists(descriptor: Descriptor): Promise<boolean> {
    const response = await this.http.send({
      method: "HEAD",
      url: repositoryUrl(this.repository, `manifests/${descriptor.digest}`),
      endpoint: this.repository.endpoint,
      scopes: this.#scopes(),
      headers: { accept: descriptor.mediaType },
      idempotent: true,
      acceptStatuses: [404],
      operation: this.#operation(`checking ${refKey(descriptor)}`),
    });
    await response.body?.cancel();
    return response.ok;
  }

  /**
   * Tries a cross-repository mount from `fromPath` on the same registry. Returns true
   * when the registry mounted the blob; false when it opened an upload instead (the
   * session is abandoned; the registry expires it).
   */
  async mountBlob(descriptor: Descriptor, fromPath: string): Promise<boolean> {
    const url = repositoryUrl(this.repository, "blobs/uploads/");
    url.searchParams.set("mount", descriptor.digest);
    url.searchParams.set("from", fromPath);
    const response = await this.http.send({
      method: "POST",
      url,
      endpoint: this.repository.endpoint,
      scopes: this.#scopes([repositoryScope(fromPath, ["pull"])]),
      body: () => null,
      idempotent: false,
      operation: this.#operation(`mounting ${refKey(descriptor)} from ${fromPath}`),
    });
    await response.body?.cancel();
    return response.status === 201;
  }

  /** Uploads a blob, retrying the whole upload when the connection fails. */
  async uploadBlob(
    descriptor: Descriptor,
    open: BlobOpener,
    onProgress?: (transferred: number) => void,
  ): Promise<void> {
    const attempts = this.options.uploadAttempts ?? 3;
    for (let attempt = 1;; attempt++) {
      try {
        onProgress?.(0);
        const location = await this.#startUpload(descriptor);
        const chunkSize = this.options.chunkSize ?? 0;
        if (chunkSize > 0) {
          await this.#uploadChunked(descriptor, location, await open(), chunkSize, onProgress);
        } else {
          await this.#uploadMonolithic(descriptor, location, await open(), onProgress);
        }
        return;
      } catch (error) {
        const retryable = !(error instanceof RegistryError) || error.kind === "unavailable";
        if (!retryable || attempt >= attempts) throw error;
      }
    }
  }

  /** `POST .../blobs/uploads/` → the upload session's URL. */
  async #startUpload(descriptor: Descriptor): Promise<URL> {
    const request = {
      method: "POST" as const,
      url: repositoryUrl(this.repository, "blobs/uploads/"),
      endpoint: this.repository.endpoint,
      scopes: this.#scopes(),
      body: () => null,
      idempotent: true,
      operation: this.#operation(`starting the upload of ${refKey(descriptor)}`),
    };
    const response = await this.http.send(request);
    await response.body?.cancel();
    return this.#location(response, request.url, "starting an upload");
  }

  /** One `PUT <location>?digest=…` carrying the whole blob as a stream. */
  async #uploadMonolithic(
    descriptor: Descriptor,
    location: URL,
    source: ReadableStream<Uint8Array<ArrayBuffer>>,
    onProgress?: (transferred: number) => void,
  ): Promise<void> {
    const url = new URL(location);
    url.searchParams.set("digest", descriptor.digest);
    const metered = new MeteredStream(source, {
      limit: descriptor.size,
      what: refKey(descriptor),
      onProgress,
    });
    const response = await this.http.send({
      method: "PUT",
      url,
      endpoint: this.repository.endpoint,
      scopes: this.#scopes(),
      headers: {
        "content-type": "application/octet-stream",
        "content-length": String(descriptor.size),
      },
      body: () => metered.readable,
      idempotent: false,
      operation: this.#operation(`uploading ${refKey(descriptor)}`),
    });
    await response.body?.cancel();
    this.#checkCreated(response, descriptor);
  }

  /** `PATCH` chunks with `Content-Range`, then a closing `PUT ?digest=`. */
  async #uploadChunked(
    descriptor: Descriptor,
    firstLocation: URL,
    source: ReadableStream<Uint8Array<ArrayBuffer>>,
    chunkSize: number,
    onProgress?: (transferred: number) => void,
  ): Promise<void> {
    let location = firstLocation;
    let sent = 0;
    for await (const chunk of rechunk(source, chunkSize)) {
      const end = sent + chunk.byteLength - 1;
      const request = {
        method: "PATCH" as const,
        url: location,
        endpoint: this.repository.endpoint,
        scopes: this.#scopes(),
        headers: {
          "content-type": "application/octet-stream",
          "content-range": `${sent}-${end}`,
          "content-length": String(chunk.byteLength),
        },
        body: () => chunk,
        idempotent: false,
        operation: this.#operation(`uploading ${refKey(descriptor)} (bytes ${sent}-${end})`),
      };
      const response = await this.http.send(request);
      await response.body?.cancel();
      location = this.#location(response, location, "uploading a chunk");
      sent = end + 1;
      onProgress?.(sent);
    }
    const url = new URL(location);
    url.searchParams.set("digest", descriptor.digest);
    const response = await this.http.send({
      method: "PUT",
      url,
      endpoint: this.repository.endpoint,
      scopes: this.#scopes(),
      headers: { "content-length": "0" },
      body: () => null,
      idempotent: false,
      operation: this.#operation(`closing the upload of ${refKey(descriptor)}`),
    });
    await response.body?.cancel();
    this.#checkCreated(response, descriptor);
  }

  /** `PUT .../manifests/<tag or digest>` with the document's media type. */
  async putManifest(descriptor: Descriptor, bytes: Uint8Array<ArrayBuffer>, tagOrDigest: string) {
    const response = await this.http.send({
      method: "PUT",
      url: repositoryUrl(this.repository, `manifests/${tagOrDigest}`),
      endpoint: this.repository.endpoint,
      scopes: this.#scopes(),
      headers: { "content-type": descriptor.mediaType },
      body: () => bytes,
      idempotent: true,
      operation: this.#operation(`pushing ${refKey(descriptor)} as "${tagOrDigest}"`),
    });
    await response.body?.cancel();
    this.#checkCreated(response, descriptor);
  }

  #checkCreated(response: Response, descriptor: Descriptor): void {
    const digest = response.headers.get("docker-content-digest");
    if (digest && digest !== descriptor.digest) {
      throw new RegistryError(
        "digest_mismatch",
        `pushing ${refKey(descriptor)}: the registry stored it as ${digest}`,
      );
    }
  }

  #location(response: Response, base: URL, what: string): URL {
    const location = response.headers.get("location");
    if (!location) {
      throw new RegistryError(
        "invalid_response",
        `${what} in ${repositoryDisplayName(this.repository)}: the registry sent no Location`,
      );
    }
    return new URL(location, base);
  }
}

/** Regroups a stream into chunks of exactly `size` bytes (the last may be shorter). */
async function* rechunk(
  source: ReadableStream<Uint8Array<ArrayBuffer>>,
  size: number,
): AsyncGenerator<Uint8Array<ArrayBuffer>> {
  let buffer = new Uint8Array(size);
  let filled = 0;
  for await (const piece of source) {
    let offset = 0;
    while (offset < piece.byteLength) {
      const take = Math.min(size - filled, piece.byteLength - offset);
      buffer.set(piece.subarray(offset, offset + take), filled);
      filled += take;
      offset += take;
      if (filled === size) {
        yield buffer;
        buffer = new Uint8Array(size);
        filled = 0;
      }
    }
  }
  if (filled > 0) yield buffer.slice(0, filled);
}
