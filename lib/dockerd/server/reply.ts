// What this teaches: the shapes of an Engine API answer. Most are one JSON document;
// some are a *stream* whose headers must go out at once while the body follows later
// (`POST /containers/ID/wait` must flush its 200 before the container even starts,
// or `docker run` never calls start; pulls stream NDJSON progress); attach and exec
// start take over the connection entirely (see hijack.ts). Requests that arrive with
// `Connection: Upgrade` reach the daemon as a raw socket, so the same answers are also
// written by hand as HTTP/1.1 text on that socket.
// Mirrors moby's api/server/httputils (WriteJSON, the flushing writer of
// api/server/router/container/container_routes.go postContainersWait).

import type { ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { STATUS_CODES } from "node:http";
import { describeError } from "./errors.ts";
import { encodeJson } from "./json.ts";

/** Headers every answer carries (dockerd's middleware adds the same ones). */
export function commonHeaders(serverVersion: string): Record<string, string> {
  return {
    "Api-Version": "1.41",
    "Docker-Experimental": "false",
    "Ostype": "linux",
    "Server": `Docker/${serverVersion} (linux)`,
  };
}

/** A body written piece by piece after the headers went out. */
export interface ResponseStream {
  /** Writes a piece, resolving once the connection accepted it (backpressure). */
  write(chunk: string | Uint8Array): Promise<void>;
  /** Ends the body. */
  end(): Promise<void>;
  /** Aborts when the client hangs up: stop producing. */
  readonly closed: AbortSignal;
}

/** How a handler answers one request. */
export interface Reply {
  /** True once the status line has been sent (an error can then only end the stream). */
  readonly started: boolean;
  /** True once the answer is complete. */
  readonly finished: boolean;
  /** Aborts when the client hangs up. */
  readonly closed: AbortSignal;
  /** One JSON document (200 unless told otherwise). */
  json(value: unknown, status?: number): void;
  /** 204 No Content (`docker start`, `docker kill`...). */
  noContent(): void;
  /** A plain-text body (`/_ping` answers "OK"). */
  text(body: string, status?: number, headers?: Record<string, string>): void;
  /** The `{"message": ...}` error answer for `error`, or an abrupt end if already streaming. */
  error(error: unknown): void;
  /** Sends `status` and headers now (flushed), and returns the body writer. */
  stream(status: number, contentType: string, headers?: Record<string, string>): ResponseStream;
}

/** A Reply over node:http's ServerResponse: the normal, keep-alive path. */
export class HttpReply implements Reply {
  readonly #closed = new AbortController();

  constructor(
    readonly response: ServerResponse,
    private readonly baseHeaders: Record<string, string>,
  ) {
    // 'close' also fires after a normal finish; only an unfinished answer means "hung up".
    response.on("close", () => {
      if (!response.writableFinished) this.#closed.abort(new Error("client disconnected"));
    });
  }

  get started(): boolean {
    return this.response.headersSent;
  }

  get finished(): boolean {
    return this.response.writableEnded;
  }

  get closed(): AbortSignal {
    return this.#closed.signal;
  }

  json(value: unknown, status = 200): void {
    const body = encodeJson(value) + "\n";
    this.response.writeHead(status, {
      ...this.baseHeaders,
      "Content-Type": "application/json",
      "Content-Length": String(Buffer.byteLength(body)),
    });
    this.response.end(body);
  }

  noContent(): void {
    this.response.writeHead(204, this.baseHeaders);
    this.response.end();
  }

  text(body: string, status = 200, headers: Record<string, string> = {}): void {
    this.response.writeHead(status, {
      ...this.baseHeaders,
      "Content-Type": "text/plain; charset=utf-8",
      "Content-Length": String(Buffer.byteLength(body)),
      ...headers,
    });
    this.response.end(body);
  }

  error(error: unknown): void {
    if (this.finished) return;
    if (this.started) {
      // Too late for a status code: cut the stream so the client sees it end early.
      this.response.destroy();
      return;
    }
    const { status, message } = describeError(error);
    this.json({ message }, status);
  }

  stream(
    status: number,
    contentType: string,
    headers: Record<string, string> = {},
  ): ResponseStream {
    this.response.writeHead(status, {
      ...this.baseHeaders,
      "Content-Type": contentType,
      ...headers,
    });
    this.response.flushHeaders();
    const response = this.response;
    const closed = this.#closed.signal;
    return {
      closed,
      write(chunk) {
        if (closed.aborted || response.writableEnded) return Promise.resolve();
        return writeWithBackpressure((done) => response.write(chunk, done), response, closed);
      },
      end() {
        if (response.writableEnded) return Promise.resolve();
        return new Promise((resolve) => response.end(() => resolve()));
      },
    };
  }
}

/** Resolves when a write has been accepted, or the connection is gone. */
function writeWithBackpressure(
  write: (done: () => void) => boolean,
  emitter: { once(event: "drain", listener: () => void): unknown },
  closed: AbortSignal,
): Promise<void> {
  return new Promise((resolve) => {
    const flowing = write(() => {});
    if (flowing) {
      resolve();
      return;
    }
    const finish = () => {
      closed.removeEventListener("abort", finish);
      resolve();
    };
    emitter.once("drain", finish);
    closed.addEventListener("abort", finish, { once: true });
  });
}

/**
 * A Reply written as raw HTTP/1.1 onto a socket: used for requests that came with
 * `Connection: Upgrade` (node:http hands those over as bare sockets) when the handler
 * answers with something other than a hijack, typically an error such as
 * "No such container". The connection closes after the answer.
 */
export class SocketReply implements Reply {
  #started = false;
  #finished = false;
  readonly #closed = new AbortController();

  constructor(readonly socket: Socket, private readonly baseHeaders: Record<string, string>) {
    socket.on("error", () => this.#closed.abort(new Error("client connection failed")));
    socket.on("close", () => {
      if (!this.#finished) this.#closed.abort(new Error("client disconnected"));
    });
  }

  get started(): boolean {
    return this.#started;
  }

  get finished(): boolean {
    return this.#finished;
  }

  get closed(): AbortSignal {
    return this.#closed.signal;
  }

  /** Writes the status line and headers; used by hijack.ts for the 101 answer too. */
  writeHead(status: number, reason: string, headers: Record<string, string>): void {
    this.#started = true;
    const lines = [`HTTP/1.1 ${status} ${reason}`];
    for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
    this.socket.write(lines.join("\r\n") + "\r\n\r\n");
  }

  /** Marks the answer complete without closing (the hijacked stream owns the socket now). */
  markFinished(): void {
    this.#finished = true;
  }

  #whole(status: number, contentType: string | undefined, body: string): void {
    const headers: Record<string, string> = {
      ...this.baseHeaders,
      "Date": new Date().toUTCString(),
      "Content-Length": String(Buffer.byteLength(body)),
      "Connection": "close",
    };
    if (contentType) headers["Content-Type"] = contentType;
    this.writeHead(status, STATUS_CODES[status] ?? "Unknown", headers);
    this.#finished = true;
    this.socket.end(body);
  }

  json(value: unknown, status = 200): void {
    this.#whole(status, "application/json", encodeJson(value) + "\n");
  }

  noContent(): void {
    this.#whole(204, undefined, "");
  }

  text(body: string, status = 200): void {
    this.#whole(status, "text/plain; charset=utf-8", body);
  }

  error(error: unknown): void {
    if (this.#finished) return;
    if (this.#started) {
      this.socket.destroy();
      return;
    }
    const { status, message } = describeError(error);
    this.json({ message }, status);
  }

  stream(
    status: number,
    contentType: string,
    headers: Record<string, string> = {},
  ): ResponseStream {
    this.writeHead(status, STATUS_CODES[status] ?? "Unknown", {
      ...this.baseHeaders,
      "Date": new Date().toUTCString(),
      "Content-Type": contentType,
      "Transfer-Encoding": "chunked",
      "Connection": "close",
      ...headers,
    });
    const socket = this.socket;
    const closed = this.#closed.signal;
    const finish = () => this.#finished = true;
    return {
      closed,
      write(chunk) {
        const bytes = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
        if (closed.aborted || bytes.byteLength === 0) return Promise.resolve();
        return writeWithBackpressure(
          () => {
            socket.write(`${bytes.byteLength.toString(16)}\r\n`);
            socket.write(bytes);
            return socket.write("\r\n");
          },
          socket,
          closed,
        );
      },
      end() {
        finish();
        return new Promise((resolve) => socket.end("0\r\n\r\n", () => resolve()));
      },
    };
  }
}
