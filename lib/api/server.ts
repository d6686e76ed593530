// What this teaches: the shape of a container daemon's API server. containerd
// serves gRPC over a Unix socket, one route per service method
// (`/containerd.services.content.v1.Content/Info`); mini serves the same route
// names as HTTP/1.1 POSTs with JSON bodies, and streams raw bytes where containerd
// streams (content Read/Write, events). Mirrors containerd's `cmd/containerd/server`
// and the namespace interceptor that reads the `containerd-namespace` header.

import { ApiError, type ErrorBody, invalidArgument } from "./errors.ts";
import { validateIdentifier } from "./identifiers.ts";
import { NAMESPACE_HEADER } from "./services.ts";
import { traceIncoming } from "../trace/hooks.ts";
import { TRACE_HEADER } from "../trace/types.ts";

// Re-exported: the header is part of the contract (services.ts), and the server reads it.
export { NAMESPACE_HEADER };

/** Largest JSON request body accepted (containerd's gRPC default is 16 MiB). */
export const MAX_JSON_BODY_BYTES = 4 * 1024 * 1024;

/** What a route handler sees of one request. */
export class RequestContext {
  readonly query: URLSearchParams;

  constructor(readonly request: Request, readonly route: string) {
    this.query = new URL(request.url).searchParams;
  }

  /** The namespace from the `containerd-namespace` header, or undefined. */
  get namespace(): string | undefined {
    return this.request.headers.get(NAMESPACE_HEADER) ?? undefined;
  }

  /** The validated namespace; containerd refuses namespaced calls without one. */
  requireNamespace(): string {
    const namespace = this.namespace;
    if (namespace === undefined) {
      throw invalidArgument(`namespace is required: set the ${NAMESPACE_HEADER} header`);
    }
    validateIdentifier("namespace", namespace);
    return namespace;
  }

  /** Reads the body as JSON, refusing bodies over MAX_JSON_BODY_BYTES without buffering them. */
  async json<T>(): Promise<T> {
    const text = await readBoundedText(this.request, MAX_JSON_BODY_BYTES);
    if (text.trim() === "") return {} as T;
    try {
      return JSON.parse(text) as T;
    } catch (error) {
      throw invalidArgument(`request body of ${this.route} is not valid JSON: ${error}`);
    }
  }
}

/** A route handler: returns a Response to stream, or a value to send as JSON. */
export type Handler = (context: RequestContext) => Promise<unknown> | unknown;

async function readBoundedText(request: Request, limit: number): Promise<string> {
  if (!request.body) return "";
  const declared = Number(request.headers.get("content-length") ?? "0");
  if (declared > limit) {
    await request.body.cancel();
    throw new ApiError("resource_exhausted", `request body of ${declared} bytes exceeds ${limit}`);
  }
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of request.body) {
    total += chunk.byteLength;
    if (total > limit) {
      throw new ApiError("resource_exhausted", `request body exceeds ${limit} bytes`);
    }
    chunks.push(chunk);
  }
  const joined = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    joined.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return new TextDecoder().decode(joined);
}

/** Turns any thrown value into the JSON error response clients decode with errorFromBody. */
export function errorResponse(error: unknown): Response {
  const apiError = error instanceof ApiError
    ? error
    : new ApiError("internal", error instanceof Error ? error.message : String(error));
  const body: ErrorBody = { code: apiError.code, message: apiError.message };
  return Response.json(body, { status: apiError.httpStatus });
}

/** Maps route names (`/package.Service/Method`) to handlers. */
export class Router {
  readonly #routes = new Map<string, Handler>();

  /** Registers `handler` for `/<service>/<method>`, e.g. ("containerd.services.content.v1.Content", "Info"). */
  add(service: string, method: string, handler: Handler): void {
    this.#routes.set(`/${service}/${method}`, handler);
  }

  /** All registered route names, sorted (shown by `mini-ctr version --routes`-style introspection). */
  routes(): string[] {
    return [...this.#routes.keys()].sort();
  }

  /** Dispatches one request; never throws, every failure becomes an error response. */
  async handle(request: Request): Promise<Response> {
    const route = new URL(request.url).pathname;
    const handler = this.#routes.get(route);
    try {
      if (!handler) {
        throw new ApiError("unimplemented", `unknown method ${route}`);
      }
      if (request.method !== "POST") {
        throw invalidArgument(`${route} must be called with POST, not ${request.method}`);
      }
      const result = await traceIncoming( // --trace: follow a traced request (lib/trace)
        request.headers.get(TRACE_HEADER),
        route,
        () => handler(new RequestContext(request, route)),
      );
      if (result instanceof Response) return result;
      return Response.json(result ?? {});
    } catch (error) {
      if (!(error instanceof ApiError)) console.error(`error in ${route}:`, error);
      return errorResponse(error);
    }
  }
}

/** Options for serving a Router on a Unix socket. */
export interface ServeOptions {
  socketPath: string;
  /** Socket permission bits; containerd's socket is 0660. */
  mode?: number;
  /** Numeric group allowed to connect besides root (containerd's `grpc.gid`). */
  gid?: number;
  signal?: AbortSignal;
}

/** Serves `router` on a Unix socket with the given mode; resolves once listening. */
export async function serveUnix(router: Router, options: ServeOptions): Promise<Deno.HttpServer> {
  await Deno.remove(options.socketPath).catch(() => {});
  const listening = Promise.withResolvers<void>();
  const server = Deno.serve({
    path: options.socketPath,
    signal: options.signal,
    onListen: () => listening.resolve(),
    onError: (error) => errorResponse(error),
  }, (request) => router.handle(request));
  await listening.promise;
  await Deno.chmod(options.socketPath, options.mode ?? 0o660);
  if (options.gid !== undefined) await Deno.chown(options.socketPath, 0, options.gid);
  return server;
}
