// What this teaches: how a registry login travels from the docker CLI to the daemon.
// The CLI never lets the daemon read ~/.docker/config.json; instead it sends the
// credentials for the one registry involved with each pull or push, as the header
// `X-Registry-Auth: <base64url of {"username", "password", "serveraddress"}>` (the
// empty object "e30=" when there are none). The daemon also decides which registries
// it may talk to over plain HTTP: loopback ones always, others only when listed in
// daemon.json's "insecure-registries".
// Mirrors moby's api/server/router/image/image_routes.go (the X-Registry-Auth
// decoding) and registry/config.go (insecure registries, 127.0.0.0/8).

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
import type { EngineRequest } from "../server/context.ts";

/** Decodes X-Registry-Auth; undefined when absent or empty. */
export function registryAuth(request: EngineRequest): Credentials | undefined {
  const header = request.header("x-registry-auth");
  if (!header) return undefined;
  let decoded: { username?: string; password?: string; identitytoken?: string };
  try {
    decoded = JSON.parse(
      Buffer.from(header.replace(/-/g, "+").replace(/_/g, "/"), "base64").toString(),
    );
  } catch {
    throw badParameter("invalid X-Registry-Auth header: not base64 JSON");
  }
  if (decoded.identitytoken) return { username: "<token>", password: decoded.identitytoken };
  if (!decoded.username) return undefined;
  return { username: decoded.username, password: decoded.password ?? "" };
}

/** A resolver for the registry of `name`, with the request's credentials. */
export function resolverFor(daemon: Daemon, request: EngineRequest, name: string): Resolver {
  const domain = parseImageReference(name).domain;
  const credentials = registryAuth(request);
  return new Resolver({
    plainHttp: daemon.config.insecureRegistries.includes(domain),
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
