// What this teaches: reading from a registry is two kinds of GET. Manifests and
// indexes come from `/v2/<repo>/manifests/<digest>` with an `Accept` header naming the
// type wanted, are small, and are read whole and verified here. Configs and layers
// come from `/v2/<repo>/blobs/<digest>` as a stream; an interrupted download resumes
// with `Range: bytes=<offset>-`, and a `206 Partial Content` answer confirms the
// registry honoured it (a `200` means it sent everything again from byte 0).
// Mirrors containerd's `core/remotes/docker/fetcher.go`.

import type { Descriptor } from "../images/types.ts";
import { RegistryError } from "./errors.ts";
import type { FailedOperation } from "./errors.ts";
import { refKey, requireDocumentType } from "./handlers.ts";
import { type RemoteRepository, repositoryDisplayName, repositoryUrl } from "./hosts.ts";
import type { RegistryHttp } from "./http.ts";
import { repositoryScope } from "./scope.ts";
import { MAX_MANIFEST_BYTES, readBounded, verifyBytes } from "./verify.ts";

/** An open blob download. */
export interface BlobDownload {
  body: ReadableStream<Uint8Array<ArrayBuffer>>;
  /** Where `body` starts within the blob: the requested offset, or 0 if Range was ignored. */
  offset: number;
}

/** Fetches the manifests and blobs of one repository. */
export class Fetcher {
  constructor(readonly http: RegistryHttp, readonly repository: RemoteRepository) {}

  #operation(action: string): FailedOperation {
    return {
      action,
      repository: repositoryDisplayName(this.repository),
      host: this.repository.endpoint.domain,
      access: "pull",
    };
  }

  /** Fetches a manifest or index by digest, refusing oversized ones, and verifies it. */
  async fetchDocument(
    descriptor: Descriptor,
    signal?: AbortSignal,
  ): Promise<Uint8Array<ArrayBuffer>> {
    const what = refKey(descriptor);
    requireDocumentType(descriptor.mediaType, what);
    if (descriptor.size > MAX_MANIFEST_BYTES) {
      throw new RegistryError(
        "too_large",
        `${what} is ${descriptor.size} bytes, over the ${MAX_MANIFEST_BYTES}-byte manifest limit`,
      );
    }
    const response = await this.http.send({
      method: "GET",
      url: repositoryUrl(this.repository, `manifests/${descriptor.digest}`),
      endpoint: this.repository.endpoint,
      scopes: [repositoryScope(this.repository.path, ["pull"])],
      headers: { accept: descriptor.mediaType },
      idempotent: true,
      operation: this.#operation(`fetching ${what}`),
      signal,
    });
    const declared = Number(response.headers.get("content-length") ?? "-1");
    if (declared > MAX_MANIFEST_BYTES) {
      await response.body?.cancel();
      throw new RegistryError(
        "too_large",
        `${what}: the registry announces ${declared} bytes, over the ${MAX_MANIFEST_BYTES}-byte ` +
          `manifest limit`,
      );
    }
    const bytes = await readBounded(response.body, MAX_MANIFEST_BYTES, what);
    verifyBytes(bytes, descriptor, what);
    return bytes;
  }

  /** Opens a blob for streaming, from `offset` when the registry supports ranges. */
  async openBlob(descriptor: Descriptor, offset = 0, signal?: AbortSignal): Promise<BlobDownload> {
    const headers: Record<string, string> = {};
    if (offset > 0) headers.range = `bytes=${offset}-`;
    const response = await this.http.send({
      method: "GET",
      url: repositoryUrl(this.repository, `blobs/${descriptor.digest}`),
      endpoint: this.repository.endpoint,
      scopes: [repositoryScope(this.repository.path, ["pull"])],
      headers,
      idempotent: true,
      operation: this.#operation(`fetching ${refKey(descriptor)}`),
      signal,
    });
    if (!response.body) {
      throw new RegistryError("invalid_response", `fetching ${refKey(descriptor)}: empty response`);
    }
    let start = 0;
    if (response.status === 206) {
      const range = /^bytes (\d+)-/.exec(response.headers.get("content-range") ?? "");
      start = range ? Number(range[1]) : -1;
      if (start !== offset) {
        await response.body.cancel();
        throw new RegistryError(
          "invalid_response",
          `fetching ${
            refKey(descriptor)
          }: asked for bytes from ${offset}, got a range from ${start}`,
        );
      }
    }
    return { body: response.body as ReadableStream<Uint8Array<ArrayBuffer>>, offset: start };
  }
}
