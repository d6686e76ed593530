// What this teaches: how the Engine API maps URLs onto handlers. Paths may start with
// an API version (`/v1.41/containers/json`) or not (`/containers/json`); both reach the
// same handler, which learns the version the client speaks. Path patterns name their
// parameters (`/containers/{id}/json`); image names contain slashes and colons
// (`localhost:5000/bb`), so their parameter is greedy: `/images/{name:.*}/push`.
// Static paths win over patterns, so `/images/json` is never read as an image named
// "json".
// Mirrors moby's api/server/server.go (createMux, the versioned and unversioned
// routes) and api/server/middleware/version.go.

import { badParameter, EngineError } from "./errors.ts";
import type { EngineRequest } from "./context.ts";

/** The API version mini-dockerd speaks (docker 20.10's). */
export const API_VERSION = "1.41";
/** The oldest API version it accepts (dockerd 20.10's MinAPIVersion). */
export const MIN_API_VERSION = "1.12";

/** A handler: returns a value to send as JSON (200), or answers through `request.reply`/`hijack()`. */
export type EngineHandler = (request: EngineRequest) => unknown | Promise<unknown>;

/** HTTP methods the Engine API uses. */
export type EngineMethod = "GET" | "HEAD" | "POST" | "PUT" | "DELETE";

interface Route {
  method: EngineMethod;
  pattern: string;
  regexp: RegExp;
  parameterNames: string[];
  isStatic: boolean;
  handler: EngineHandler;
}

/** The outcome of matching a request path. */
export type RouteMatch =
  | { kind: "found"; handler: EngineHandler; params: Record<string, string>; pattern: string }
  | { kind: "wrong-method"; allowed: EngineMethod[] }
  | { kind: "none" };

/** Compiles `/images/{name:.*}/json` into a regexp with named groups. */
function compilePattern(pattern: string): { regexp: RegExp; names: string[] } {
  const names: string[] = [];
  let source = "";
  let rest = pattern;
  while (rest.length > 0) {
    const open = rest.indexOf("{");
    if (open < 0) {
      source += escapeRegExp(rest);
      break;
    }
    const close = rest.indexOf("}", open);
    if (close < 0) throw new Error(`unbalanced { in route pattern ${pattern}`);
    source += escapeRegExp(rest.slice(0, open));
    const [name, expression] = rest.slice(open + 1, close).split(":", 2);
    names.push(name);
    source += expression === ".*" ? "(.+)" : "([^/]+)";
    rest = rest.slice(close + 1);
  }
  return { regexp: new RegExp(`^${source}$`), names };
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** Compares dotted API versions ("1.41" vs "1.9"). */
export function compareApiVersions(a: string, b: string): number {
  const left = a.split(".").map(Number);
  const right = b.split(".").map(Number);
  for (let index = 0; index < Math.max(left.length, right.length); index++) {
    const difference = (left[index] ?? 0) - (right[index] ?? 0);
    if (difference !== 0) return Math.sign(difference);
  }
  return 0;
}

/**
 * Splits `/v1.41/containers/json` into ("1.41", "/containers/json"); a path without a
 * version prefix gets the daemon's version. Versions outside [MIN, API_VERSION] are
 * refused with dockerd's messages.
 */
export function stripVersion(path: string): { version: string; path: string } {
  const match = /^\/v(\d+\.\d+)(\/.*)?$/.exec(path);
  if (!match) return { version: API_VERSION, path };
  const version = match[1];
  if (compareApiVersions(version, API_VERSION) > 0) {
    throw badParameter(
      `client version ${version} is too new. Maximum supported API version is ${API_VERSION}`,
    );
  }
  if (compareApiVersions(version, MIN_API_VERSION) < 0) {
    throw badParameter(
      `client version ${version} is too old. Minimum supported API version is ${MIN_API_VERSION}, ` +
        "please upgrade your client to a newer version",
    );
  }
  return { version, path: match[2] ?? "/" };
}

/** The route table of the Engine API. */
export class EngineRouter {
  readonly #routes: Route[] = [];
  /** Routes consulted only when no regular route matches (the "not implemented" answers). */
  readonly #fallbacks: Route[] = [];

  /** Registers `handler` for `method` on `pattern`; later registrations of the same pair replace earlier ones. */
  add(method: EngineMethod, pattern: string, handler: EngineHandler): void {
    this.#addTo(this.#routes, method, pattern, handler);
  }

  /**
   * Registers a route that only answers when no regular route matches the request:
   * used for the clear 501 answers of endpoints nobody implements (yet), so that a
   * module added later takes over simply by registering the real route.
   */
  fallback(method: EngineMethod, pattern: string, handler: EngineHandler): void {
    this.#addTo(this.#fallbacks, method, pattern, handler);
  }

  #addTo(routes: Route[], method: EngineMethod, pattern: string, handler: EngineHandler): void {
    const { regexp, names } = compilePattern(pattern);
    const existing = routes.findIndex((route) =>
      route.method === method && route.pattern === pattern
    );
    const route: Route = {
      method,
      pattern,
      regexp,
      parameterNames: names,
      isStatic: names.length === 0,
      handler,
    };
    if (existing >= 0) routes[existing] = route;
    else routes.push(route);
  }

  get(pattern: string, handler: EngineHandler): void {
    this.add("GET", pattern, handler);
  }
  head(pattern: string, handler: EngineHandler): void {
    this.add("HEAD", pattern, handler);
  }
  post(pattern: string, handler: EngineHandler): void {
    this.add("POST", pattern, handler);
  }
  put(pattern: string, handler: EngineHandler): void {
    this.add("PUT", pattern, handler);
  }
  delete(pattern: string, handler: EngineHandler): void {
    this.add("DELETE", pattern, handler);
  }

  /** Every registered "METHOD pattern", for the README and debugging. */
  list(): string[] {
    return this.#routes.map((route) => `${route.method} ${route.pattern}`);
  }

  /** Every "METHOD pattern" that only has a fallback (not implemented) answer. */
  listFallbacks(): string[] {
    return this.#fallbacks.map((route) => `${route.method} ${route.pattern}`);
  }

  /** Finds the handler for a (version-stripped) path. */
  match(method: string, path: string): RouteMatch {
    const found = this.#matchIn(this.#routes, method, path);
    if (found.kind === "found") return found;
    const fallback = this.#matchIn(this.#fallbacks, method, path);
    if (fallback.kind === "found") return fallback;
    return found.kind === "wrong-method" ? found : fallback;
  }

  #matchIn(routes: Route[], method: string, path: string): RouteMatch {
    const allowed = new Set<EngineMethod>();
    // Static routes first, then patterns in registration order.
    const ordered = [
      ...routes.filter((route) => route.isStatic),
      ...routes.filter((route) => !route.isStatic),
    ];
    for (const route of ordered) {
      const found = route.regexp.exec(path);
      if (!found) continue;
      if (route.method !== method && !(method === "HEAD" && route.method === "GET")) {
        allowed.add(route.method);
        continue;
      }
      const params: Record<string, string> = {};
      route.parameterNames.forEach((name, index) => {
        params[name] = decodePathParameter(found[index + 1]);
      });
      return { kind: "found", handler: route.handler, params, pattern: route.pattern };
    }
    if (allowed.size > 0) return { kind: "wrong-method", allowed: [...allowed] };
    return { kind: "none" };
  }
}

function decodePathParameter(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    throw new EngineError(
      400,
      `malformed percent-encoding in path parameter ${JSON.stringify(value)}`,
    );
  }
}
