// What this teaches: how a registry client logs in, lazily. The first request goes out
// bare; a `401` carries a challenge. `Basic` means "send user:password with every
// request". `Bearer` (Docker Hub's flow) means "ask the token server at `realm` for a
// token for `service` and the `scope` you need, then send `Authorization: Bearer <token>`".
// Tokens are cached per host and scope until they expire, so a pull of ten layers
// asks for one token, not ten; once a host's challenge is known, later requests are
// authorized up front instead of bouncing off a 401 first.
// Mirrors containerd's `core/remotes/docker/authorizer.go` and `auth/fetch.go`.

import { type Challenge, parseChallenges } from "./challenge.ts";
import type { Credentials, CredentialsLookup } from "./credentials.ts";
import { RegistryError } from "./errors.ts";
import type { RegistryEndpoint } from "./hosts.ts";
import { mergeScopes } from "./scope.ts";
import { currentTrace } from "../trace/active.ts";

/** Lifetime assumed when a token server does not say (the token spec's default). */
const DEFAULT_TOKEN_SECONDS = 60;
/** Refresh tokens this long before they expire, so none expires in flight. */
const EXPIRY_MARGIN_MS = 5_000;

interface CachedToken {
  token: string;
  expiresAt: number;
}

/** The JSON a token server answers with. */
interface TokenResponse {
  token?: string;
  access_token?: string;
  expires_in?: number;
  issued_at?: string;
}

/** What the Authorizer needs from its surroundings. */
export interface AuthorizerOptions {
  credentials?: CredentialsLookup;
  /** Used for token requests (e.g. to trust a private CA). */
  httpClient?: Deno.HttpClient;
  userAgent?: string;
}

/** Answers registry challenges and caches what it learned, per registry host. */
export class Authorizer {
  readonly #challenges = new Map<string, Challenge>();
  readonly #tokens = new Map<string, Promise<CachedToken>>();
  /** How many tokens were fetched from token servers (tests check the cache with it). */
  tokenRequests = 0;

  constructor(private readonly options: AuthorizerOptions = {}) {}

  /**
   * The `Authorization` header for a request to `endpoint` that needs `scopes`, or
   * undefined while no challenge is known for the host (the request goes out bare).
   */
  async authorization(endpoint: RegistryEndpoint, scopes: string[]): Promise<string | undefined> {
    const challenge = this.#challenges.get(endpoint.host);
    if (!challenge) return undefined;
    const credentials = await this.#credentials(endpoint);
    if (challenge.scheme === "basic") {
      return credentials ? basicAuthorization(credentials) : undefined;
    }
    const wanted = mergeScopes([...scopes, ...(challenge.parameters.scope ?? "").split(" ")]);
    const key = `${endpoint.host} ${wanted.join(" ")}`;
    let cached = this.#tokens.get(key);
    if (cached) {
      const token = await cached.catch(() => undefined);
      if (!token || token.expiresAt <= Date.now()) {
        this.#tokens.delete(key);
        cached = undefined;
      }
    }
    if (!cached) {
      cached = this.#fetchToken(endpoint, challenge, wanted, credentials);
      this.#tokens.set(key, cached);
      // A failed fetch is not cached: the next request asks again.
      cached.catch(() => this.#tokens.delete(key));
    }
    return `Bearer ${(await cached).token}`;
  }

  /**
   * Learns from a `401` response. Returns true when retrying the request with
   * `authorization()` can succeed: a new challenge was learned, or the token that
   * was refused has been dropped from the cache.
   */
  async handleUnauthorized(
    endpoint: RegistryEndpoint,
    response: Response,
    scopes: string[],
    sentAuthorization: string | undefined,
  ): Promise<boolean> {
    const header = response.headers.get("www-authenticate");
    if (!header) return false;
    const challenges = parseChallenges(header);
    const challenge = challenges.find((candidate) => candidate.scheme === "bearer") ??
      challenges.find((candidate) => candidate.scheme === "basic");
    if (!challenge) return false;
    const previous = this.#challenges.get(endpoint.host);
    this.#challenges.set(endpoint.host, challenge);
    if (challenge.scheme === "basic") {
      // Basic can only help if there is something to send and it was not sent yet.
      return sentAuthorization === undefined && await this.#credentials(endpoint) !== undefined;
    }
    if (sentAuthorization === undefined) return true;
    // A Bearer token was refused: drop it (it may have expired or lack a scope the
    // registry now names in the challenge) and try once more with a fresh one.
    const wanted = mergeScopes([...scopes, ...(previous?.parameters.scope ?? "").split(" ")]);
    this.#tokens.delete(`${endpoint.host} ${wanted.join(" ")}`);
    return true;
  }

  async #credentials(endpoint: RegistryEndpoint): Promise<Credentials | undefined> {
    return await this.options.credentials?.(endpoint.domain);
  }

  /** GET realm?service=...&scope=... with Basic credentials when there are any. */
  async #fetchToken(
    endpoint: RegistryEndpoint,
    challenge: Challenge,
    scopes: string[],
    credentials: Credentials | undefined,
  ): Promise<CachedToken> {
    const realm = challenge.parameters.realm;
    if (!realm) {
      throw new RegistryError(
        "invalid_response",
        `${endpoint.host} asked for a Bearer token but named no realm (token server) in its challenge`,
      );
    }
    let url: URL;
    try {
      url = new URL(realm);
    } catch {
      throw new RegistryError(
        "invalid_response",
        `${endpoint.host} named an invalid realm "${realm}"`,
      );
    }
    if (challenge.parameters.service) url.searchParams.set("service", challenge.parameters.service);
    for (const scope of scopes) url.searchParams.append("scope", scope);
    const headers = new Headers({ accept: "application/json" });
    if (this.options.userAgent) headers.set("user-agent", this.options.userAgent);
    if (credentials) {
      headers.set("authorization", basicAuthorization(credentials));
      url.searchParams.set("account", credentials.username);
    }
    this.tokenRequests++;
    currentTrace()?.step("registry token", `GET ${url.origin}${url.pathname} ${scopes.join(" ")}`); // --trace
    let response: Response;
    try {
      response = await fetch(url, { headers, client: this.options.httpClient });
    } catch (error) {
      throw new RegistryError(
        "unavailable",
        `cannot reach the token server ${url.origin} for ${endpoint.domain}: ${messageOf(error)}`,
      );
    }
    const text = await response.text();
    if (!response.ok) {
      const who = credentials ? `user "${credentials.username}"` : "anonymous access";
      const scopeText = scopes.join(" ") || "(no scope)";
      if (response.status === 401) {
        throw new RegistryError(
          "unauthorized",
          `the token server ${url.origin} refused ${who} for ${scopeText} (HTTP 401): ` +
            `check --user USER:PASSWORD or the "auths" entry for ${endpoint.domain}`,
          401,
        );
      }
      if (response.status === 403) {
        throw new RegistryError(
          "denied",
          `the token server ${url.origin} denied ${who} the rights ${scopeText} (HTTP 403)`,
          403,
        );
      }
      throw new RegistryError(
        response.status >= 500 ? "unavailable" : "invalid_response",
        `the token server ${url.origin} answered HTTP ${response.status}: ${text.slice(0, 200)}`,
        response.status,
      );
    }
    let body: TokenResponse;
    try {
      body = JSON.parse(text) as TokenResponse;
    } catch {
      throw new RegistryError("invalid_response", `the token server ${url.origin} sent no JSON`);
    }
    const token = body.token || body.access_token;
    if (!token) {
      throw new RegistryError("invalid_response", `the token server ${url.origin} sent no token`);
    }
    const lifetimeSeconds = body.expires_in && body.expires_in > 0
      ? body.expires_in
      : DEFAULT_TOKEN_SECONDS;
    return { token, expiresAt: Date.now() + lifetimeSeconds * 1000 - EXPIRY_MARGIN_MS };
  }
}

/** `Basic base64(user:password)`. */
export function basicAuthorization(credentials: Credentials): string {
  const bytes = new TextEncoder().encode(`${credentials.username}:${credentials.password}`);
  return `Basic ${btoa(String.fromCharCode(...bytes))}`;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
