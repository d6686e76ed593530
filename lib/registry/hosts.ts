// What this teaches: the name in an image reference is not always the host to dial.
// `docker.io/library/busybox` is served by `registry-1.docker.io`, and every registry
// speaks HTTPS except a registry on the local machine (or one the user explicitly
// marks with --plain-http). All API paths hang off `/v2/<repository>/`.
// Mirrors containerd's `core/remotes/docker/config/hosts.go` (`ConfigureHosts`,
// `isLocalHost`) and the default host mapping of `core/remotes/docker/resolver.go`.

import { registryHost } from "../reference/normalize.ts";
import type { Reference } from "../reference/types.ts";

/** Where the registry of one reference domain answers. */
export interface RegistryEndpoint {
  /** The domain as written in references (`docker.io`, `127.0.0.1:5000`); labels use it. */
  domain: string;
  /** The host[:port] actually contacted (`registry-1.docker.io`). */
  host: string;
  /** `http` only for loopback registries or with --plain-http. */
  scheme: "http" | "https";
}

/** A repository on a registry: where to send `/v2/<path>/...` requests. */
export interface RemoteRepository {
  endpoint: RegistryEndpoint;
  /** The repository path inside the registry, e.g. `library/busybox`. */
  path: string;
}

/** True for `localhost`, `127.x.x.x` and `[::1]`, with or without a port. */
export function isLocalhost(hostWithPort: string): boolean {
  let host = hostWithPort;
  if (host.startsWith("[")) {
    host = host.slice(1, host.indexOf("]"));
  } else if (host.includes(":")) {
    host = host.slice(0, host.lastIndexOf(":"));
  }
  return host === "localhost" || host === "::1" || /^127(?:\.\d{1,3}){3}$/.test(host);
}

/** Chooses the host and scheme for a reference domain. */
export function registryEndpoint(domain: string, options: { plainHttp?: boolean } = {}) {
  const host = registryHost(domain);
  const endpoint: RegistryEndpoint = {
    domain,
    host,
    scheme: options.plainHttp || isLocalhost(host) ? "http" : "https",
  };
  return endpoint;
}

/** The repository a parsed (normalized) reference lives in. */
export function remoteRepository(
  reference: Reference,
  options: { plainHttp?: boolean } = {},
): RemoteRepository {
  return { endpoint: registryEndpoint(reference.domain, options), path: reference.path };
}

/** `http://127.0.0.1:5000/v2/app/` joined with a suffix such as `manifests/latest`. */
export function repositoryUrl(repository: RemoteRepository, suffix: string): URL {
  const { scheme, host } = repository.endpoint;
  return new URL(`${scheme}://${host}/v2/${repository.path}/${suffix}`);
}

/** `127.0.0.1:5000/app`, the repository as people write it, for messages. */
export function repositoryDisplayName(repository: RemoteRepository): string {
  return `${repository.endpoint.domain}/${repository.path}`;
}
