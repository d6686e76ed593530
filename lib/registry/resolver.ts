// What this teaches: "resolving" turns a name into a descriptor. A tag is mutable, so
// the client asks the registry what it points at now: `HEAD /v2/<repo>/manifests/<tag>`
// with an `Accept` header listing the manifest and index types it understands. The
// answer's `Docker-Content-Digest`, `Content-Type` and `Content-Length` headers are
// the descriptor (digest, media type, size) of the root of the image; everything
// after that is fetched by digest and can be verified. A registry that leaves out a
// header gets a GET, and the client hashes the body itself.
// Mirrors containerd's `core/remotes/docker/resolver.go` (`Resolve`, `Fetcher`, `Pusher`).

import type { Descriptor } from "../images/types.ts";
import { formatReference } from "../reference/reference.ts";
import { parseDockerRef } from "../reference/normalize.ts";
import type { Reference } from "../reference/types.ts";
import { Authorizer } from "./authorizer.ts";
import type { CredentialsLookup } from "./credentials.ts";
import { RegistryError } from "./errors.ts";
import { Fetcher } from "./fetcher.ts";
import { bareMediaType, MANIFEST_ACCEPT_TYPES, requireDocumentType } from "./handlers.ts";
import {
  type RemoteRepository,
  remoteRepository,
  repositoryDisplayName,
  repositoryUrl,
} from "./hosts.ts";
import { RegistryHttp, type RetryPolicy } from "./http.ts";
import { Pusher, type PusherOptions } from "./pusher.ts";
import { repositoryScope } from "./scope.ts";
import { digestOf, MAX_MANIFEST_BYTES, readBounded } from "./verify.ts";

/** How to reach registries: the flags of `ctr images pull/push`. */
export interface ResolverOptions {
  /** Use HTTP instead of HTTPS for every registry (`--plain-http`). */
  plainHttp?: boolean;
  credentials?: CredentialsLookup;
  retry?: RetryPolicy;
  /** A Deno HTTP client, e.g. one trusting a private CA (`Deno.createHttpClient`). */
  httpClient?: Deno.HttpClient;
  userAgent?: string;
}

/** A reference with its descriptor, as resolved from the registry. */
export interface ResolvedReference {
  /** The normalized name (`docker.io/library/busybox:latest`), the image record's name. */
  name: string;
  reference: Reference;
  repository: RemoteRepository;
  descriptor: Descriptor;
}

/** The user agent mini sends, in the style of `containerd/1.6.20`. */
export const USER_AGENT = "mini-containerd/0.1 (registry client)";

/** Resolves references and hands out fetchers and pushers sharing one authorizer. */
export class Resolver {
  readonly authorizer: Authorizer;
  readonly http: RegistryHttp;

  constructor(readonly options: ResolverOptions = {}) {
    const userAgent = options.userAgent ?? USER_AGENT;
    this.authorizer = new Authorizer({
      credentials: options.credentials,
      httpClient: options.httpClient,
      userAgent,
    });
    this.http = new RegistryHttp(this.authorizer, {
      retry: options.retry,
      httpClient: options.httpClient,
      userAgent,
    });
  }

  /** Normalizes a reference (`busybox` → `docker.io/library/busybox:latest`) and locates it. */
  locate(input: string): { name: string; reference: Reference; repository: RemoteRepository } {
    const reference = parseDockerRef(input);
    return {
      name: formatReference(reference),
      reference,
      repository: remoteRepository(reference, { plainHttp: this.options.plainHttp }),
    };
  }

  /** Asks the registry for the descriptor a tag or digest names. */
  async resolve(input: string, signal?: AbortSignal): Promise<ResolvedReference> {
    const { name, reference, repository } = this.locate(input);
    const object = reference.digest ?? reference.tag!;
    const request = (method: "HEAD" | "GET") =>
      this.http.send({
        method,
        url: repositoryUrl(repository, `manifests/${object}`),
        endpoint: repository.endpoint,
        scopes: [repositoryScope(repository.path, ["pull"])],
        headers: { accept: MANIFEST_ACCEPT_TYPES.join(", ") },
        idempotent: true,
        operation: {
          action: `resolving "${name}"`,
          repository: repositoryDisplayName(repository),
          host: repository.endpoint.domain,
          access: "pull",
        },
        signal,
      });

    let response = await request("HEAD");
    let mediaType = bareMediaType(response.headers.get("content-type"));
    let digest = response.headers.get("docker-content-digest") ?? reference.digest;
    let size = Number(response.headers.get("content-length") ?? "NaN");
    if (!digest || !Number.isSafeInteger(size)) {
      // The registry left something out: fetch the document and measure it ourselves.
      response = await request("GET");
      mediaType = bareMediaType(response.headers.get("content-type"));
      requireDocumentType(mediaType, name);
      const bytes = await readBounded(response.body, MAX_MANIFEST_BYTES, name);
      size = bytes.byteLength;
      digest = reference.digest ?? digestOf(bytes);
      if (digestOf(bytes, digest) !== digest) {
        throw new RegistryError("digest_mismatch", `${name}: the manifest served does not match`);
      }
    }
    requireDocumentType(mediaType, name);
    if (size > MAX_MANIFEST_BYTES) {
      throw new RegistryError(
        "too_large",
        `${name}: its manifest is ${size} bytes, over the ${MAX_MANIFEST_BYTES}-byte limit; refusing it`,
      );
    }
    if (reference.digest && digest !== reference.digest) {
      throw new RegistryError(
        "digest_mismatch",
        `${name}: the registry answered with ${digest} for a request by digest`,
      );
    }
    return { name, reference, repository, descriptor: { mediaType, digest, size } };
  }

  /** A fetcher for the repository. */
  fetcher(repository: RemoteRepository): Fetcher {
    return new Fetcher(this.http, repository);
  }

  /** A pusher for the repository. */
  pusher(repository: RemoteRepository, options: PusherOptions = {}): Pusher {
    return new Pusher(this.http, repository, options);
  }
}
