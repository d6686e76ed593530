// What this teaches: how a registry login travels from the docker CLI to the daemon.
// The CLI never lets the daemon read ~/.docker/config.json; instead it sends the
// credentials for the one registry involved with each pull or push, as the header
// `X-Registry-Auth: <base64url of {"username", "password", "serveraddress"}>` (the
// empty object "e30=" when there are none). The daemon also decides which registries
// it may talk to over plain HTTP: loopback ones always, others only when listed in
// daemon.json's "insecure-registries". Where a pull goes: the registry named in the
// reference (Docker Hub's registry-1.docker.io for `busybox`), or, for Docker Hub
// images, the "registry-mirrors" of daemon.json. Its first request is dockerd's
// `GET /v2/` ping, sent once with a deadline: a registry that cannot be reached (no
// DNS, nothing listening, no network) fails the pull at once with Go's dial error
// wording instead of after rounds of retries.
// Mirrors moby's api/server/router/image/image_routes.go (the X-Registry-Auth
// decoding), registry/config.go (insecure registries, 127.0.0.0/8, ValidateMirror),
// registry/service_v2.go (lookupV2Endpoints: mirrors first) and registry/endpoint_v2
// (the /v2/ ping).

import { Buffer } from "node:buffer";
import { DOCKERD_VERSION } from "../daemon.ts";
import type { Daemon } from "../daemon.ts";
import type { Credentials } from "../../registry/credentials.ts";
import { Resolver } from "../../registry/resolver.ts";
import { registryEndpoint } from "../../registry/hosts.ts";
import { RegistryError } from "../../registry/errors.ts";
import { EngineError } from "../server/errors.ts";
import { parseImageReference } from "../image/reference_store.ts";
import { badParameter } from "../server/errors.ts";
import { parseRegistryMirror } from "../config.ts";
import type { EngineRequest } from "../server/context.ts";

/** One registry login as the CLI encodes it in X-Registry-Auth / X-Registry-Config. */
interface EncodedAuth {
  username?: string;
  password?: string;
  identitytoken?: string;
}

/** Decodes a header's base64url-encoded JSON (the CLI's encoding); throws when it is not. */
function decodeAuthHeader(header: string): unknown {
  return JSON.parse(Buffer.from(header.replace(/-/g, "+").replace(/_/g, "/"), "base64").toString());
}

/** Credentials of one encoded login; an identity token stands in for the password. */
function credentialsOf(auth: EncodedAuth | undefined): Credentials | undefined {
  if (auth?.identitytoken) return { username: "<token>", password: auth.identitytoken };
  if (!auth?.username) return undefined;
  return { username: auth.username, password: auth.password ?? "" };
}

/** Decodes X-Registry-Auth; undefined when absent or empty. */
export function registryAuth(request: EngineRequest): Credentials | undefined {
  const header = request.header("x-registry-auth");
  if (!header) return undefined;
  let decoded: EncodedAuth;
  try {
    decoded = decodeAuthHeader(header) as EncodedAuth;
  } catch {
    throw badParameter("invalid X-Registry-Auth header: not base64 JSON");
  }
  return credentialsOf(decoded);
}

/** The registry domain of an auth key (`https://index.docker.io/v1/` → docker.io). */
function registryDomainOf(address: string): string {
  const host = address.replace(/^[a-z]+:\/\//i, "").replace(/\/.*$/, "").toLowerCase();
  return host === "index.docker.io" || host === "registry-1.docker.io" ? "docker.io" : host;
}

/**
 * Decodes X-Registry-Config (every login the CLI knows, for the base images a build
 * pulls) into a lookup by registry domain. As moby's getAuthConfigs, a header that does
 * not decode is ignored: the build goes on without logins.
 */
export function registryConfigs(
  request: EngineRequest,
): (domain: string) => Credentials | undefined {
  const header = request.header("x-registry-config");
  if (!header) return () => undefined;
  let decoded: Record<string, EncodedAuth>;
  try {
    decoded = (decodeAuthHeader(header) ?? {}) as Record<string, EncodedAuth>;
  } catch {
    return () => undefined;
  }
  const byDomain = new Map<string, Credentials>();
  for (const [address, auth] of Object.entries(decoded)) {
    const credentials = credentialsOf(auth);
    if (credentials) byDomain.set(registryDomainOf(address), credentials);
  }
  return (domain) => byDomain.get(domain.toLowerCase());
}

/**
 * A resolver for the registry of `name`, with the request's credentials. `plainHttp`
 * overrides the insecure-registries rule (a mirror configured as http://...).
 */
export function resolverFor(
  daemon: Daemon,
  request: EngineRequest,
  name: string,
  plainHttp?: boolean,
): Resolver {
  return resolverWithCredentials(daemon, registryAuth(request), name, plainHttp);
}

/** A resolver for the registry of `name` with the given credentials (none: anonymous). */
export function resolverWithCredentials(
  daemon: Daemon,
  credentials: Credentials | undefined,
  name: string,
  plainHttp?: boolean,
): Resolver {
  const domain = parseImageReference(name).domain;
  return new Resolver({
    plainHttp: plainHttp ?? daemon.config.insecureRegistries.includes(domain),
    credentials: credentials ? () => credentials : undefined,
    userAgent: `docker/${DOCKERD_VERSION} (mini-dockerd)`,
  });
}

/** The body of `POST /auth` (what `docker login` sends). */
export interface AuthConfig {
  username?: string;
  password?: string;
  serveraddress?: string;
  identitytoken?: string;
}

/**
 * `POST /auth`: checks the credentials against the registry's `/v2/` (following its
 * Basic or Bearer challenge), as dockerd's registry service does for `docker login`.
 */
export async function checkLogin(
  daemon: Daemon,
  auth: AuthConfig,
): Promise<{ IdentityToken: string; Status: string }> {
  const address = (auth.serveraddress ?? "").replace(/^https?:\/\//, "").replace(/\/.*$/, "");
  if (address === "" || address === "index.docker.io" || address === "docker.io") {
    throw new EngineError(
      500,
      "mini-dockerd cannot reach Docker Hub: log in to a registry given by host[:port]",
    );
  }
  const credentials = {
    username: auth.username ?? "",
    password: auth.password ?? auth.identitytoken ?? "",
  };
  const resolver = new Resolver({
    plainHttp: daemon.config.insecureRegistries.includes(address),
    credentials: () => credentials,
    userAgent: `docker/${DOCKERD_VERSION} (mini-dockerd)`,
  });
  const endpoint = registryEndpoint(address, {
    plainHttp: daemon.config.insecureRegistries.includes(address),
  });
  const url = new URL(`${endpoint.scheme}://${endpoint.host}/v2/`);
  try {
    const response = await resolver.http.send({
      method: "GET",
      url,
      endpoint,
      scopes: [],
      idempotent: true,
      operation: { action: "logging in", repository: address, host: address, access: "pull" },
    });
    await response.body?.cancel();
  } catch (error) {
    if (
      error instanceof RegistryError && (error.kind === "unauthorized" || error.kind === "denied")
    ) {
      throw new EngineError(401, `login attempt to ${url} failed with status: 401 Unauthorized`);
    }
    throw new EngineError(500, error instanceof Error ? error.message : String(error));
  }
  return { IdentityToken: "", Status: "Login Succeeded" };
}

/** The official registry's domain in references (`busybox` is `docker.io/library/busybox`). */
export const DOCKER_HUB_DOMAIN = "docker.io";

/** One place a pull may fetch from. */
export interface PullEndpoint {
  /** The reference as the resolver must see it (a mirror's host replaces docker.io). */
  reference: string;
  /** Plain HTTP (a loopback registry, an insecure one, an http:// mirror). */
  plainHttp: boolean;
  /** The `/v2/` URL pinged first. */
  pingUrl: URL;
  /** True for a registry-mirrors entry. */
  mirror: boolean;
}

/**
 * Where a pull of `name` (a normalized reference with domain, path and tag/digest) may
 * go, in order: for Docker Hub images the configured mirrors, else Docker Hub itself;
 * any other registry is asked directly. dockerd would fall back from unreachable
 * mirrors to Docker Hub; mini deliberately does not, so that a machine given a mirror
 * (an offline lab, a test) never reaches out to the Internet.
 */
export function pullEndpoints(daemon: Daemon, name: string): PullEndpoint[] {
  const reference = parseImageReference(name);
  const object = reference.digest ? `@${reference.digest}` : `:${reference.tag ?? "latest"}`;
  const mirrors = daemon.config.registryMirrors.map(parseRegistryMirror);
  if (reference.domain === DOCKER_HUB_DOMAIN && mirrors.length > 0) {
    return mirrors.map((mirror) => ({
      reference: `${mirror.host}/${reference.path}${object}`,
      plainHttp: mirror.scheme === "http",
      pingUrl: new URL(`${mirror.scheme}://${mirror.host}/v2/`),
      mirror: true,
    }));
  }
  const plainHttp = daemon.config.insecureRegistries.includes(reference.domain);
  const endpoint = registryEndpoint(reference.domain, { plainHttp });
  return [{
    reference: `${reference.domain}/${reference.path}${object}`,
    plainHttp,
    pingUrl: new URL(`${endpoint.scheme}://${endpoint.host}/v2/`),
    mirror: false,
  }];
}

/** How long the first contact with a registry may take (Go's dialer: 30 s). */
export const REGISTRY_PING_TIMEOUT_MS = 15_000;

/** A registry that could not be reached at all: moby answers these with a 500. */
export class RegistryUnreachableError extends EngineError {
  constructor(message: string) {
    super(500, message);
    this.name = "RegistryUnreachableError";
  }
}

/**
 * dockerd's first request to a registry, `GET /v2/`: any HTTP answer (200, 401...)
 * means it is there. Sent once, with a deadline, and without credentials; a failure
 * to connect becomes a RegistryUnreachableError worded like Go's.
 */
export async function pingRegistry(url: URL, signal?: AbortSignal): Promise<void> {
  const deadline = AbortSignal.timeout(REGISTRY_PING_TIMEOUT_MS);
  try {
    const response = await fetch(url, {
      signal: signal ? AbortSignal.any([signal, deadline]) : deadline,
      headers: { "user-agent": `docker/${DOCKERD_VERSION} (mini-dockerd)` },
      redirect: "manual",
    });
    await response.body?.cancel();
  } catch (error) {
    if (signal?.aborted) throw error;
    throw new RegistryUnreachableError(describeDialFailure(url, error, deadline.aborted));
  }
}

/**
 * Go's wording for a failed first request, from Deno's fetch error (whose `cause` says
 * what hyper saw): `Get "https://registry-1.docker.io/v2/": dial tcp: lookup
 * registry-1.docker.io: <reason>` for a name that does not resolve, `dial tcp
 * 127.0.0.1:5999: connect: connection refused` for a closed port, `i/o timeout` when
 * nothing answered in time.
 */
export function describeDialFailure(url: URL, error: unknown, timedOut = false): string {
  const prefix = `Get "${url.href}": `;
  const port = url.port || (url.protocol === "https:" ? "443" : "80");
  const address = `${url.hostname}:${port}`;
  if (timedOut) return `${prefix}dial tcp ${address}: i/o timeout`;
  const detail = [error, (error as { cause?: unknown })?.cause]
    .map((part) => (part instanceof Error ? part.message : String(part ?? "")))
    .join(" ");
  const dns = /dns error: (?:failed to lookup address information: )?([^\n)]*)/i.exec(detail);
  if (dns) return `${prefix}dial tcp: lookup ${url.hostname}: ${dns[1].trim().toLowerCase()}`;
  if (/connection refused/i.test(detail)) {
    return `${prefix}dial tcp ${address}: connect: connection refused`;
  }
  if (/network is unreachable/i.test(detail)) {
    return `${prefix}dial tcp ${address}: connect: network is unreachable`;
  }
  if (/timed out|timeout/i.test(detail)) return `${prefix}dial tcp ${address}: i/o timeout`;
  const cause = (error as { cause?: unknown })?.cause;
  return prefix + (cause instanceof Error ? cause.message : detail.trim());
}
