// What this teaches: the client half of a Unix-socket API. Every mini program that
// talks to mini-containerd (mini-ctr, mini-dockerd, the tests) goes through this
// one transport, as every containerd client goes through containerd's Go client
// and its gRPC connection.
// Mirrors containerd's client/client.go (New: dialing the socket) and the namespace
// header its gRPC interceptor adds (pkg/namespaces/grpc.go).

import { ApiError, errorFromBody } from "./errors.ts";
import { NAMESPACE_HEADER } from "./services.ts";
import { addTraceHeader } from "../trace/hooks.ts";

/** Per-call options. */
export interface CallOptions {
  /** The containerd namespace the call acts in. */
  namespace?: string;
  /** Query parameters, used by streaming calls whose body is raw bytes. */
  query?: Record<string, string | number | undefined>;
  signal?: AbortSignal;
}

/** A connection to a mini daemon's Unix socket. */
export class UnixTransport {
  readonly #httpClient: Deno.HttpClient;

  constructor(readonly socketPath: string) {
    this.#httpClient = Deno.createHttpClient({ proxy: { transport: "unix", path: socketPath } });
  }

  close(): void {
    this.#httpClient.close();
  }

  /** Calls a unary method with a JSON request and decodes the JSON response. */
  async call<T>(route: string, body: unknown = {}, options: CallOptions = {}): Promise<T> {
    const response = await this.request(route, JSON.stringify(body), options);
    return await response.json() as T;
  }

  /** Calls a method whose response is a byte stream (e.g. content Read). */
  async callForStream(
    route: string,
    body: unknown,
    options: CallOptions = {},
  ): Promise<ReadableStream<Uint8Array>> {
    const response = await this.request(route, JSON.stringify(body), options);
    if (!response.body) throw new ApiError("internal", `${route} returned no body`);
    return response.body;
  }

  /** Calls a method whose request is a byte stream (e.g. content Write); parameters go in the query. */
  async upload<T>(
    route: string,
    body: ReadableStream<Uint8Array<ArrayBuffer>> | Uint8Array<ArrayBuffer>,
    options: CallOptions = {},
  ): Promise<T> {
    const response = await this.request(route, body, options);
    return await response.json() as T;
  }

  /** Sends one request and turns error responses into ApiErrors. */
  async request(
    route: string,
    body: BodyInit,
    options: CallOptions = {},
  ): Promise<Response> {
    const url = new URL(`http://mini${route}`);
    for (const [key, value] of Object.entries(options.query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    const headers = new Headers();
    if (options.namespace !== undefined) headers.set(NAMESPACE_HEADER, options.namespace);
    addTraceHeader(headers); // --trace: pass the trace on (lib/trace)
    let response: Response;
    try {
      response = await fetch(url, {
        method: "POST",
        body,
        headers,
        client: this.#httpClient,
        signal: options.signal,
      });
    } catch (error) {
      throw new ApiError(
        "unavailable",
        `cannot reach the daemon at ${this.socketPath} (${
          error instanceof Error ? error.message : error
        }): is it running? Start it with \`mini-containerd\`, or point --address at its socket`,
      );
    }
    if (!response.ok) {
      const text = await response.text();
      let parsed: unknown = text;
      try {
        parsed = JSON.parse(text);
      } catch { /* keep the raw text for the message */ }
      throw errorFromBody(response.status, parsed);
    }
    return response;
  }
}
