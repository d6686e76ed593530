// What this teaches: the plumbing under every registry call. One request may become
// several on the wire: bare, then again with the credentials a 401 asked for; again
// after a 5xx or a dropped connection (with growing pauses, for idempotent requests
// only); and again at another address when the registry redirects a blob download to
// its storage backend, where the registry's credentials must not follow.
// Mirrors `request.do`/`doWithRetries`/`retryRequest` in containerd's
// `core/remotes/docker/resolver.go`.

import type { Authorizer } from "./authorizer.ts";
import { errorFromResponse, type FailedOperation, RegistryError } from "./errors.ts";
import type { RegistryEndpoint } from "./hosts.ts";
import { currentTrace } from "../trace/active.ts";

/** How retries behave; the defaults suit a registry on the network. */
export interface RetryPolicy {
  /** Attempts after the first one, for idempotent requests. */
  retries: number;
  /** The first pause; each retry doubles it. */
  baseDelayMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { retries: 4, baseDelayMs: 100 };

const MAX_REDIRECTS = 10;
const RETRIED_STATUSES = new Set([429, 500, 502, 503, 504]);

/** One logical registry request. */
export interface RegistryRequest {
  method: "GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE";
  url: URL;
  endpoint: RegistryEndpoint;
  /** The token scopes the request needs (`repository:app:pull`). */
  scopes: string[];
  headers?: Record<string, string>;
  /** Makes the body; called again for each attempt. Streams cannot be replayed, so
   * requests with a stream body are sent once (set `idempotent: false`). */
  body?: () => BodyInit | null;
  /** GET/HEAD/PUT of content-addressed things may be repeated safely. */
  idempotent: boolean;
  /** Statuses that count as success besides 2xx (e.g. 404 for "does it exist?"). */
  acceptStatuses?: number[];
  /** For error messages. */
  operation: FailedOperation;
  signal?: AbortSignal;
}

/** Sends registry requests with authorization, retries and redirects. */
export class RegistryHttp {
  constructor(
    readonly authorizer: Authorizer,
    private readonly options: {
      retry?: RetryPolicy;
      httpClient?: Deno.HttpClient;
      userAgent?: string;
    } = {},
  ) {}

  /** Sends `request` and returns the successful response (body unread), or throws. */
  async send(request: RegistryRequest): Promise<Response> {
    const policy = this.options.retry ?? DEFAULT_RETRY_POLICY;
    const attempts = request.idempotent ? policy.retries + 1 : 1;
    let lastFailure: unknown;
    for (let attempt = 0; attempt < attempts; attempt++) {
      if (attempt > 0) await pause(policy.baseDelayMs * 2 ** (attempt - 1), request.signal);
      let response: Response;
      try {
        response = await this.#sendAuthorized(request);
      } catch (error) {
        if (error instanceof RegistryError || request.signal?.aborted) throw error;
        lastFailure = error; // connection refused or reset: worth another try
        continue;
      }
      if (response.ok || request.acceptStatuses?.includes(response.status)) return response;
      if (RETRIED_STATUSES.has(response.status) && attempt + 1 < attempts) {
        await response.body?.cancel();
        lastFailure = `HTTP ${response.status}`;
        continue;
      }
      throw await errorFromResponse(response, request.operation);
    }
    throw new RegistryError(
      "unavailable",
      `${request.operation.action} in ${request.operation.repository}: ` +
        `${request.endpoint.scheme}://${request.endpoint.host} did not answer ` +
        `after ${attempts} attempt(s): ${messageOf(lastFailure)}`,
    );
  }

  /** One attempt: with the known authorization, and once more after a 401 taught a challenge. */
  async #sendAuthorized(request: RegistryRequest): Promise<Response> {
    const authorizer = this.authorizer;
    let authorization = await authorizer.authorization(request.endpoint, request.scopes);
    let response = await this.#sendFollowingRedirects(request, authorization);
    if (response.status !== 401) return response;
    const retry = await authorizer.handleUnauthorized(
      request.endpoint,
      response,
      request.scopes,
      authorization,
    );
    if (!retry) return response;
    await response.body?.cancel();
    authorization = await authorizer.authorization(request.endpoint, request.scopes);
    response = await this.#sendFollowingRedirects(request, authorization);
    return response;
  }

  /** Follows 3xx itself, so credentials go only to the registry's own origin. */
  async #sendFollowingRedirects(
    request: RegistryRequest,
    authorization: string | undefined,
  ): Promise<Response> {
    let url = request.url;
    let method: string = request.method;
    for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
      const headers = new Headers(request.headers);
      if (this.options.userAgent) headers.set("user-agent", this.options.userAgent);
      if (authorization && url.origin === request.url.origin) {
        headers.set("authorization", authorization);
      }
      const endTrace = currentTrace()?.begin(`registry ${method} ${url}`); // --trace
      const response = await fetch(url, {
        method,
        headers,
        body: hop === 0 ? request.body?.() ?? null : null,
        redirect: "manual",
        client: this.options.httpClient,
        signal: request.signal,
      }).catch((error) => {
        endTrace?.(`failed: ${error instanceof Error ? error.message : error}`);
        throw error;
      });
      endTrace?.(`${response.status} ${response.statusText}`.trim());
      const location = response.headers.get("location");
      if (![301, 302, 303, 307, 308].includes(response.status) || !location) return response;
      if (hop > 0 || request.body === undefined || method === "GET" || method === "HEAD") {
        await response.body?.cancel();
        url = new URL(location, url);
        // 303 means "fetch the result with GET"; the others keep GET/HEAD as they are.
        if (response.status === 303 && method !== "HEAD") method = "GET";
        continue;
      }
      return response; // a redirected upload cannot resend its body; let the caller see it
    }
    throw new RegistryError(
      "invalid_response",
      `${request.operation.action}: more than ${MAX_REDIRECTS} redirects from ${request.url.origin}`,
    );
  }
}

function pause(milliseconds: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, milliseconds * (0.75 + Math.random() / 2));
    signal?.addEventListener("abort", () => {
      clearTimeout(timer);
      reject(signal.reason);
    }, { once: true });
  });
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
