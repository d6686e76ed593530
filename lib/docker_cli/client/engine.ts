// What this teaches: the Docker Engine API is plain HTTP/1.1 over a Unix socket.
// Every command starts with `HEAD /_ping`, whose `Api-Version` header tells the client
// which API version to put in its paths (`/v1.41/containers/json`); errors are a status
// code plus `{"message": ...}`, which the CLI shows as "Error response from daemon:
// ...". Attaching to a container "hijacks" the connection: the client asks for
// `Connection: Upgrade`, the daemon answers `101 UPGRADED`, and from then on the socket
// carries the container's raw stdin/stdout both ways. node:http is used because it
// can both talk over a Unix socket (`socketPath`) and hand over the raw socket on 101.
// Mirrors moby's client package (client.go, ping.go, request.go, hijack.go, errors.go).

import http from "node:http";
import net, { type Socket } from "node:net";
import { Buffer } from "node:buffer";
import { currentTrace } from "../../trace/active.ts";
import { addTraceHeader } from "../../trace/hooks.ts";

/** The newest API version mini-docker speaks; lower daemons are followed down. */
export const MAX_API_VERSION = "1.41";
/** What an old daemon that sends no Api-Version header is assumed to speak. */
export const FALLBACK_API_VERSION = "1.24";
/** Where mini-dockerd listens unless -H or MINI_DOCKER_HOST say otherwise. */
export const DEFAULT_HOST = "unix:///run/mini-docker.sock";
/** The User-Agent sent with every request. */
export const USER_AGENT = "mini-docker/0.1.0 (linux)";

/** The daemon answered with an error status ("Error response from daemon: ..."). */
export class DaemonError extends Error {
  constructor(readonly statusCode: number, readonly daemonMessage: string) {
    super(`Error response from daemon: ${daemonMessage}`);
    this.name = "DaemonError";
  }

  /** True for 404s (no such container/image/network...). */
  get isNotFound(): boolean {
    return this.statusCode === 404;
  }
}

/** The daemon could not be reached at all. */
export class ConnectionError extends Error {
  constructor(readonly host: string, cause?: string) {
    super(`Cannot connect to the Docker daemon at ${host}. Is the docker daemon running?`);
    this.name = "ConnectionError";
    if (cause) this.cause = cause;
  }
}

/** Where to connect: a Unix socket path or a TCP host and port. */
export type Endpoint =
  | { kind: "unix"; path: string; text: string }
  | { kind: "tcp"; host: string; port: number; text: string };

/** Parses `-H` values: `unix:///path`, `/path`, `tcp://host:port`. */
export function parseHost(text: string): Endpoint {
  const value = text.trim();
  if (value.startsWith("unix://")) {
    const path = value.slice("unix://".length);
    if (path === "") throw new Error(`invalid host "${text}": unix socket path is empty`);
    return { kind: "unix", path, text: value };
  }
  if (value.startsWith("/")) return { kind: "unix", path: value, text: `unix://${value}` };
  if (value.startsWith("tcp://") || value.startsWith("http://")) {
    const url = new URL(value.replace(/^tcp:/, "http:"));
    const port = url.port === "" ? 2375 : Number(url.port);
    return { kind: "tcp", host: url.hostname.replace(/^\[|\]$/g, ""), port, text: value };
  }
  throw new Error(
    `unable to parse docker host \`${text}\`: use unix:///path/to.sock or tcp://host:port`,
  );
}

/** Query parameters; undefined values are left out, arrays repeat the key. */
export type Query = Record<string, string | number | boolean | string[] | undefined>;

/** Options for one request. */
export interface RequestOptions {
  query?: Query;
  /** A JSON body (sent with Content-Type: application/json). */
  json?: unknown;
  /** A raw body: bytes, or chunks streamed with chunked transfer encoding. */
  body?: Uint8Array | AsyncIterable<Uint8Array>;
  headers?: Record<string, string>;
}

/** An HTTP response whose body has not been read yet. */
export interface EngineResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: http.IncomingMessage;
}

/** A hijacked connection: the raw socket and bytes that arrived with the 101. */
export interface HijackedConnection {
  socket: Socket;
  head: Uint8Array;
}

function buildQuery(query: Query | undefined): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query ?? {}).sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (value === undefined) continue;
    if (Array.isArray(value)) { for (const item of value) params.append(key, item); }
    else params.set(key, typeof value === "boolean" ? (value ? "1" : "0") : String(value));
  }
  const text = params.toString();
  return text === "" ? "" : `?${text}`;
}

/** Reads a whole response body. */
export async function readBody(message: http.IncomingMessage): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of message) chunks.push(chunk as Uint8Array);
  return Buffer.concat(chunks);
}

/** Builds a DaemonError from an error answer's body, the way moby's client reads it. */
function daemonErrorFromText(
  status: number,
  contentType: string,
  body: string,
  route: string,
): DaemonError {
  const text = body.trim();
  if (text === "") {
    return new DaemonError(
      status,
      `request returned ${
        http.STATUS_CODES[status] ?? status
      } for API route and version ${route}, check if the server supports the requested API version`,
    );
  }
  let message = text;
  if (contentType.includes("json")) {
    try {
      const parsed = JSON.parse(text);
      if (typeof parsed?.message === "string") message = parsed.message.trim();
    } catch { /* not JSON after all: keep the text */ }
  }
  return new DaemonError(status, message);
}

/** Turns an error response into a DaemonError. */
async function daemonError(response: EngineResponse, route: string): Promise<DaemonError> {
  const body = new TextDecoder().decode(await readBody(response.body));
  return daemonErrorFromText(
    response.status,
    String(response.headers["content-type"] ?? ""),
    body,
    route,
  );
}

/** A client for one daemon. */
export class EngineClient {
  readonly #agent: http.Agent;
  #apiVersion: string | undefined;
  #negotiation: Promise<void> | undefined;
  /** Lines of the `--debug` trace go here when set. */
  debugLog?: (line: string) => void;

  constructor(readonly endpoint: Endpoint) {
    this.#agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  }

  /** The API version in use (after negotiation). */
  get apiVersion(): string {
    return this.#apiVersion ?? MAX_API_VERSION;
  }

  /** Closes idle connections. */
  close(): void {
    this.#agent.destroy();
  }

  /** `HEAD /_ping`, once: learns the daemon's API version. */
  negotiate(): Promise<void> {
    this.#negotiation ??= this.#ping();
    return this.#negotiation;
  }

  async #ping(): Promise<void> {
    const response = await this.#send("HEAD", "/_ping", {});
    response.body.resume();
    const header = response.headers["api-version"];
    const version = Array.isArray(header) ? header[0] : header;
    if (!version) {
      this.#apiVersion = FALLBACK_API_VERSION;
    } else {
      this.#apiVersion = compareVersions(version, MAX_API_VERSION) < 0 ? version : MAX_API_VERSION;
    }
    this.debugLog?.(
      `negotiated API version ${this.#apiVersion} (daemon says ${version ?? "nothing"})`,
    );
  }

  #requestOptions(
    method: string,
    path: string,
    headers: Record<string, string>,
  ): http.RequestOptions {
    const common = {
      method,
      path,
      agent: this.#agent,
      headers: { "User-Agent": USER_AGENT, ...headers },
    };
    if (this.endpoint.kind === "unix") {
      return {
        ...common,
        socketPath: this.endpoint.path,
        headers: { Host: "api.moby.localhost", ...common.headers },
      };
    }
    return { ...common, host: this.endpoint.host, port: this.endpoint.port };
  }

  #connectionError(error: unknown): Error {
    const code = (error as { code?: string })?.code;
    if (
      code === "ENOENT" || code === "ECONNREFUSED" || code === "EACCES" || code === "ECONNRESET" ||
      code === "ENOTSOCK" || code === "EHOSTUNREACH" || error instanceof Deno.errors.NotFound ||
      error instanceof Deno.errors.ConnectionRefused ||
      error instanceof Deno.errors.PermissionDenied
    ) {
      return new ConnectionError(this.endpoint.text, String((error as Error)?.message ?? error));
    }
    return error instanceof Error ? error : new Error(String(error));
  }

  /** Sends a request to an unversioned path and returns the response as it arrives. */
  #send(method: string, path: string, options: RequestOptions): Promise<EngineResponse> {
    const headers: Record<string, string> = { ...options.headers };
    let payload: Uint8Array | undefined;
    if (options.json !== undefined) {
      payload = new TextEncoder().encode(JSON.stringify(options.json));
      headers["Content-Type"] = "application/json";
    } else if (options.body instanceof Uint8Array) {
      payload = options.body;
    }
    if (payload !== undefined) headers["Content-Length"] = String(payload.length);
    else if (options.body === undefined && method === "POST") headers["Content-Length"] = "0";
    const fullPath = path + buildQuery(options.query);
    this.debugLog?.(`> ${method} ${fullPath}`);
    addTraceHeader(headers); // --trace (lib/trace): the daemon joins the trace
    const endTrace = currentTrace()?.begin(`${method} ${fullPath}`);
    return new Promise((resolve, reject) => {
      const request = http.request(this.#requestOptions(method, fullPath, headers), (response) => {
        this.debugLog?.(`< ${response.statusCode} ${method} ${fullPath}`);
        endTrace?.(`${response.statusCode} ${response.statusMessage ?? ""}`.trim());
        resolve({ status: response.statusCode ?? 0, headers: response.headers, body: response });
      });
      request.on("error", (error) => reject(this.#connectionError(error)));
      if (payload !== undefined) {
        request.end(payload);
      } else if (options.body !== undefined) {
        const body = options.body as AsyncIterable<Uint8Array>;
        (async () => {
          try {
            for await (const chunk of body) {
              if (!request.write(chunk)) await new Promise((done) => request.once("drain", done));
            }
            request.end();
          } catch (error) {
            request.destroy(error as Error);
          }
        })();
      } else {
        request.end();
      }
    });
  }

  /** Sends a request to `/v<api>/<path>`; error statuses become DaemonErrors. */
  async request(
    method: string,
    path: string,
    options: RequestOptions = {},
  ): Promise<EngineResponse> {
    await this.negotiate();
    const route = `/v${this.apiVersion}${path}`;
    const response = await this.#send(method, route, options);
    if (response.status >= 400) throw await daemonError(response, route);
    return response;
  }

  /** Sends a request and decodes its JSON answer. */
  async json<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const response = await this.request(method, path, options);
    const bytes = await readBody(response.body);
    const text = new TextDecoder().decode(bytes);
    return (text.trim() === "" ? undefined : JSON.parse(text)) as T;
  }

  /** Sends a request and returns its body as text (for raw JSON that must be printed as is). */
  async text(method: string, path: string, options: RequestOptions = {}): Promise<string> {
    const response = await this.request(method, path, options);
    return new TextDecoder().decode(await readBody(response.body));
  }

  /** Sends a request whose answer does not matter beyond its status. */
  async call(method: string, path: string, options: RequestOptions = {}): Promise<void> {
    const response = await this.request(method, path, options);
    await readBody(response.body);
  }

  /**
   * Hijacks a connection (attach, exec start): sends `Connection: Upgrade`, expects
   * `101`, and returns the raw socket. A non-101 answer is an error.
   *
   * Like docker's client this writes the request by hand on a fresh connection, in a
   * single write (headers and body together), and reads the status line and headers
   * itself: after the 101 the connection is no longer HTTP, and whatever bytes follow
   * the headers already belong to the container's stream.
   */
  async hijack(path: string, options: RequestOptions = {}): Promise<HijackedConnection> {
    await this.negotiate();
    const route = `/v${this.apiVersion}${path}${buildQuery(options.query)}`;
    const payload = options.json !== undefined
      ? new TextEncoder().encode(JSON.stringify(options.json))
      : new Uint8Array();
    const headers: Record<string, string> = {
      Host: this.endpoint.kind === "unix"
        ? "api.moby.localhost"
        : `${this.endpoint.host}:${this.endpoint.port}`,
      "User-Agent": USER_AGENT,
      "Content-Length": String(payload.length),
      Connection: "Upgrade",
      "Content-Type": options.json !== undefined ? "application/json" : "text/plain",
      Upgrade: "tcp",
      ...options.headers,
    };
    addTraceHeader(headers); // --trace (lib/trace): attach and exec start are traced too
    const head = `POST ${route} HTTP/1.1\r\n` +
      Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`).join("") + "\r\n";
    const request = Buffer.concat([Buffer.from(head, "latin1"), payload]);
    this.debugLog?.(`> POST ${route} (upgrade)`);
    currentTrace()?.step(`POST ${route}`, "upgrade: the connection becomes the container's stdio");
    const socket = this.endpoint.kind === "unix"
      ? net.createConnection({ path: this.endpoint.path })
      : net.createConnection({ host: this.endpoint.host, port: this.endpoint.port });
    return await new Promise((resolve, reject) => {
      let received = Buffer.alloc(0);
      const fail = (error: unknown) => {
        socket.destroy();
        reject(this.#connectionError(error));
      };
      const onData = (chunk: Uint8Array) => {
        received = Buffer.concat([received, chunk]);
        const end = received.indexOf("\r\n\r\n");
        if (end === -1) return;
        socket.off("data", onData);
        socket.off("error", fail);
        socket.pause();
        socket.on("error", () => {});
        const lines = received.subarray(0, end).toString("latin1").split("\r\n");
        const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(lines[0])?.[1] ?? 0);
        const rest = new Uint8Array(received.subarray(end + 4));
        this.debugLog?.(`< ${status} POST ${route}`);
        if (status === 101) {
          resolve({ socket, head: rest });
          return;
        }
        const responseHeaders = Object.fromEntries(
          lines.slice(1).map((line) => {
            const colon = line.indexOf(":");
            return [line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim()];
          }),
        );
        readRawBody(socket, rest, Number(responseHeaders["content-length"] ?? -1)).then((body) => {
          socket.destroy();
          if (status >= 400) {
            reject(
              daemonErrorFromText(
                status,
                String(responseHeaders["content-type"] ?? ""),
                body,
                route,
              ),
            );
          } else {
            reject(new Error(`unable to upgrade to tcp, received ${status}`));
          }
        });
      };
      socket.on("data", onData);
      socket.on("error", fail);
      socket.on("connect", () => socket.write(request));
    });
  }
}

/** Reads a non-upgraded answer's body off a raw socket (Content-Length, else until close). */
function readRawBody(socket: Socket, already: Uint8Array, length: number): Promise<string> {
  return new Promise((resolve) => {
    let body = Buffer.from(already);
    const done = () => resolve(body.toString("utf8"));
    if (length >= 0 && body.length >= length) return done();
    socket.on("data", (chunk: Uint8Array) => {
      body = Buffer.concat([body, chunk]);
      if (length >= 0 && body.length >= length) done();
    });
    socket.on("end", done);
    socket.on("close", done);
    socket.resume();
  });
}

/** Compares dotted version numbers ("1.41" vs "1.24"). */
export function compareVersions(a: string, b: string): number {
  const partsA = a.split(".").map(Number);
  const partsB = b.split(".").map(Number);
  for (let index = 0; index < Math.max(partsA.length, partsB.length); index++) {
    const difference = (partsA[index] ?? 0) - (partsB[index] ?? 0);
    if (difference !== 0) return difference;
  }
  return 0;
}
