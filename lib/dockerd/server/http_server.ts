// What this teaches: the Engine API server is plain HTTP/1.1 on a Unix socket
// (`/run/docker.sock`, mode 0660 so the `docker` group can use it). It is built on
// node:http rather than Deno.serve because two things docker needs are only possible
// there: a request with both `Content-Length` and `Connection: Upgrade` (docker always
// sends both for attach/exec), and handing the raw socket over after a 101 answer.
// Every request is answered, whatever happens: unknown paths get a 404 JSON message,
// a handler's exception becomes `{"message": ...}` with its status (or, once the
// connection was hijacked, closes it: the client then knows the session is over), and
// a broken client cannot bring the daemon down.
// Mirrors moby's api/server/server.go (Server.serveAPI, makeHTTPHandler) and the
// listener set-up of cmd/dockerd/daemon.go (listeners.Init, socket mode 0660).

import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { Buffer } from "node:buffer";
import { EngineRequest } from "./context.ts";
import { describeError, EngineError, notFoundError } from "./errors.ts";
import { UpgradedConnection } from "./hijack.ts";
import { commonHeaders, HttpReply, type Reply, SocketReply } from "./reply.ts";
import { type EngineRouter, stripVersion } from "./router.ts";
import { traceIncoming } from "../../trace/hooks.ts";
import { TRACE_HEADER } from "../../trace/types.ts";

/** The logging the server does (a subset of the daemon's logger). */
export interface ServerLog {
  debug(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/** Options of an EngineServer. */
export interface EngineServerOptions {
  socketPath: string;
  /** Socket permission bits (dockerd: 0660). */
  mode?: number;
  /** Group owning the socket (dockerd: the `docker` group), when set. */
  gid?: number;
  /** The version in the `Server: Docker/<version> (linux)` header. */
  serverVersion: string;
  /** The logger to use; a function because SIGHUP may replace it. */
  log: () => ServerLog;
}

/** The Engine API server: one router served on one Unix socket. */
export class EngineServer {
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  readonly #headers: Record<string, string>;

  constructor(readonly router: EngineRouter, private readonly options: EngineServerOptions) {
    this.#headers = commonHeaders(options.serverVersion);
    this.#server = createServer((request, response) => {
      this.#handle(request, new HttpReply(response, this.#headers), undefined);
    });
    this.#server.on("upgrade", (request: IncomingMessage, socket: Socket, head: Buffer) => {
      // Without this, an EPIPE on a hijacked connection is an uncaught error.
      socket.on("error", () => {});
      this.#track(socket);
      // Start separating the body from the client's input before anything can be
      // awaited: the socket's bytes flow from now on (see UpgradedConnection).
      const connection = new UpgradedConnection(socket, head, request, upgradeBodyLength(request));
      this.#handle(request, new SocketReply(socket, this.#headers), connection);
    });
    this.#server.on("connection", (socket: Socket) => {
      socket.on("error", () => {});
      this.#track(socket);
    });
    // A request node:http cannot even parse: answer 400 and drop the connection.
    this.#server.on("clientError", (error: Error, socket: Socket) => {
      if (socket.writable) {
        const body = JSON.stringify({ message: `malformed HTTP request: ${error.message}` });
        socket.end(
          `HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\n` +
            `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
        );
      } else {
        socket.destroy();
      }
    });
  }

  #track(socket: Socket): void {
    this.#sockets.add(socket);
    socket.on("close", () => this.#sockets.delete(socket));
  }

  /** Starts listening on the socket path (replacing a stale socket file) with the configured mode. */
  async listen(): Promise<void> {
    const { socketPath } = this.options;
    await Deno.remove(socketPath).catch(() => {});
    await new Promise<void>((resolve, reject) => {
      this.#server.once("error", reject);
      this.#server.listen(socketPath, () => {
        this.#server.off("error", reject);
        resolve();
      });
    });
    await Deno.chmod(socketPath, this.options.mode ?? 0o660);
    if (this.options.gid !== undefined) await Deno.chown(socketPath, 0, this.options.gid);
  }

  /** Stops accepting, closes every open connection (hijacked ones too) and removes the socket. */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    for (const socket of this.#sockets) socket.destroy();
    await closed;
    await Deno.remove(this.options.socketPath).catch(() => {});
  }

  async #handle(
    incoming: IncomingMessage,
    reply: Reply,
    upgrade: UpgradedConnection | undefined,
  ): Promise<void> {
    const log = this.options.log();
    const url = new URL(incoming.url ?? "/", "http://api.moby.localhost");
    const method = incoming.method ?? "GET";
    log.debug("Calling " + method + " " + url.pathname);
    let request: EngineRequest | undefined;
    try {
      const { version, path } = stripVersion(url.pathname);
      const match = this.router.match(method, path);
      if (match.kind === "none") throw notFoundError("page not found");
      if (match.kind === "wrong-method") {
        throw new EngineError(
          405,
          `method ${method} is not allowed on ${path} (use ${match.allowed.join(", ")})`,
        );
      }
      request = new EngineRequest(
        incoming,
        reply,
        path,
        version,
        match.params,
        url.searchParams,
        upgrade,
        this.#headers,
      );
      const result = await traceIncoming( // --trace: follow a traced request (lib/trace)
        request.header(TRACE_HEADER),
        () => `${method} ${path}`,
        () => match.handler(request!),
      );
      if (reply.finished || reply.started) return;
      if (result === undefined) reply.noContent();
      else reply.json(result);
    } catch (error) {
      const { status, message } = describeError(error);
      if (status >= 500 && status !== 501) {
        log.error(`Handler for ${method} ${url.pathname} returned error: ${message}`);
      } else log.debug(`Handler for ${method} ${url.pathname} returned error: ${message}`);
      if (
        status >= 500 && !(error instanceof EngineError) && error instanceof Error && error.stack
      ) {
        log.debug(error.stack);
      }
      const hijacked = request?.hijacked;
      if (hijacked) {
        // Too late for a status: the client holds a raw stream. Closing it is the only
        // way to tell it the session is over (otherwise it would wait forever).
        await hijacked.close().catch(() => {});
        return;
      }
      try {
        reply.error(error);
      } catch { /* the connection is already gone */ }
    } finally {
      // Whatever the handler left of the body is drained so keep-alive keeps working.
      if (!upgrade && !incoming.complete) incoming.resume();
    }
  }
}

/**
 * The body length of an upgrade request. Docker clients send `Content-Length`; a
 * chunked upgrade request is not something they do, and its body is treated as absent.
 */
function upgradeBodyLength(request: IncomingMessage): number {
  const length = Number(request.headers["content-length"] ?? "0");
  return Number.isSafeInteger(length) && length > 0 ? length : 0;
}

/** The Reply type for handlers that need to know which kind they got (hijack does). */
export type { ServerResponse };
