// What this teaches: how `docker attach`, `docker run` (attached) and `docker exec`
// get a two-way byte pipe out of an HTTP API. The client sends `Connection: Upgrade`
// and `Upgrade: tcp`; the daemon answers `HTTP/1.1 101 UPGRADED` and from then on the
// TCP (here: Unix) connection carries raw bytes both ways: stdin from the client,
// stdout/stderr to it. Without a tty the two output streams share the connection, so
// every chunk gets an 8-byte header naming its stream ("stdcopy" framing):
//   [stream: 0 stdin, 1 stdout, 2 stderr][0][0][0][payload length, uint32 big-endian]
// The daemon ends the session by closing; a client whose stdin ended half-closes its
// side, and output keeps flowing after that. Two edges the server handles for every
// handler: a request body (exec start sends one) is split off before the bytes become
// stdin, and an error after the 101 closes the connection (no status can follow it).
// Mirrors moby's api/server/router/container/container_routes.go (postContainersAttach,
// the 101 UPGRADED answer) and pkg/stdcopy (StdWriter).

import type { Socket } from "node:net";
import type { IncomingMessage, ServerResponse } from "node:http";

/** The stream numbers of the stdcopy framing. */
export const StreamType = { stdin: 0, stdout: 1, stderr: 2, systemError: 3 } as const;
export type StreamType = typeof StreamType[keyof typeof StreamType];

/** The media type of a hijacked (or log) stream. */
export const RAW_STREAM_MEDIA_TYPE = "application/vnd.docker.raw-stream";
/** The media type docker uses for a multiplexed stream (API ≥ 1.42 clients; 1.41 uses raw). */
export const MULTIPLEXED_STREAM_MEDIA_TYPE = "application/vnd.docker.multiplexed-stream";

/** Prefixes `payload` with the 8-byte stdcopy header for `stream`. */
export function frameChunk(stream: StreamType, payload: Uint8Array): Uint8Array {
  const framed = new Uint8Array(8 + payload.byteLength);
  framed[0] = stream;
  new DataView(framed.buffer).setUint32(4, payload.byteLength, false);
  framed.set(payload, 8);
  return framed;
}

/** Splits a framed byte sequence back into (stream, payload) pairs; for tests and clients. */
export function* parseFrames(
  bytes: Uint8Array,
): Generator<{ stream: number; payload: Uint8Array }> {
  let offset = 0;
  while (offset + 8 <= bytes.byteLength) {
    const length = new DataView(bytes.buffer, bytes.byteOffset + offset + 4, 4).getUint32(0, false);
    if (offset + 8 + length > bytes.byteLength) return;
    yield { stream: bytes[offset], payload: bytes.subarray(offset + 8, offset + 8 + length) };
    offset += 8 + length;
  }
}

/** The connection after the 101: raw bytes both ways. */
export interface HijackedStream {
  /** Bytes from the client (stdin); ends when the client half-closes or hangs up. */
  readonly input: ReadableStream<Uint8Array>;
  /** Writes raw bytes to the client; resolves when the socket took them (backpressure). */
  write(bytes: Uint8Array): Promise<void>;
  /** Writes `payload` framed for `stream` (stdout/stderr without a tty). */
  writeFrame(stream: StreamType, payload: Uint8Array): Promise<void>;
  /** Ends the session: the client treats the close as "the stream is over". */
  close(): Promise<void>;
  /** Aborts when the client goes away. */
  readonly closed: AbortSignal;
}

/**
 * An upgrade request's connection, from the moment node:http hands it over: it splits
 * the bytes that follow the headers into the request body (`Content-Length` bytes) and
 * the client's input after it.
 *
 * Why this is needed: `docker exec` sends `POST /exec/{id}/start` with `Connection:
 * Upgrade` *and* a JSON body ({"Detach":false,"Tty":true}). node:http stops parsing an
 * upgrade request at the end of its headers. Whatever of the body came in the same
 * packet is still delivered as request data (`incoming.on("data")`), but the rest
 * arrives on the raw socket, where it looks exactly like the first bytes of stdin.
 * The split must therefore happen before any handler sees the socket. (moby does not
 * have the problem: Go's server reads the body before the handler hijacks.)
 */
export class UpgradedConnection {
  /** The request body, whichever side delivered it (shorter if the client hung up early). */
  readonly body: Promise<Uint8Array>;
  /** The bytes after the body: the client's stdin. */
  readonly input: ReadableStream<Uint8Array>;
  readonly #bodyLength: number;
  readonly #fromRequest: Uint8Array[] = [];
  readonly #fromSocket: Uint8Array[] = [];
  readonly #resolveBody: (body: Uint8Array) => void;
  #inputController?: ReadableStreamDefaultController<Uint8Array>;
  #bodyComplete = false;
  #inputOpen = true;

  constructor(
    readonly socket: Socket,
    head: Uint8Array,
    incoming: IncomingMessage,
    bodyLength: number,
  ) {
    this.#bodyLength = bodyLength;
    const body = Promise.withResolvers<Uint8Array>();
    this.body = body.promise;
    this.#resolveBody = body.resolve;
    this.input = new ReadableStream<Uint8Array>({
      start: (controller) => {
        this.#inputController = controller;
      },
      cancel: () => {
        this.#inputOpen = false;
      },
    });
    if (head.byteLength > 0) this.#fromSocket.push(new Uint8Array(head));
    if (bodyLength > 0) {
      incoming.on("data", (chunk: Uint8Array) => {
        if (!this.#bodyComplete) this.#fromRequest.push(new Uint8Array(chunk));
        this.#splitWhenComplete(false);
      });
    }
    socket.on("data", (chunk: Uint8Array) => {
      if (this.#bodyComplete) this.#enqueue(new Uint8Array(chunk));
      else {
        this.#fromSocket.push(new Uint8Array(chunk));
        this.#splitWhenComplete(false);
      }
    });
    // The client half-closed (stdin is over, output may go on) or went away.
    const finish = () => {
      this.#splitWhenComplete(true);
      this.#closeInput();
    };
    socket.on("end", finish);
    socket.on("close", finish);
    this.#splitWhenComplete(false);
  }

  /** Once `Content-Length` bytes arrived (request data first, then the socket's), splits them. */
  #splitWhenComplete(clientDone: boolean): void {
    if (this.#bodyComplete) return;
    const received = [...this.#fromRequest, ...this.#fromSocket];
    const total = received.reduce((sum, chunk) => sum + chunk.byteLength, 0);
    if (total < this.#bodyLength && !clientDone) return;
    this.#bodyComplete = true;
    const joined = concatBytes(received);
    const length = Math.min(this.#bodyLength, joined.byteLength);
    this.#fromRequest.length = 0;
    this.#fromSocket.length = 0;
    this.#resolveBody(joined.slice(0, length));
    if (joined.byteLength > length) this.#enqueue(joined.slice(length));
  }

  #enqueue(bytes: Uint8Array): void {
    if (!this.#inputOpen || bytes.byteLength === 0) return;
    this.#inputController?.enqueue(bytes);
  }

  #closeInput(): void {
    if (!this.#inputOpen) return;
    this.#inputOpen = false;
    try {
      this.#inputController?.close();
    } catch { /* already cancelled */ }
  }
}

/** Joins byte chunks into one array. */
function concatBytes(chunks: Uint8Array[]): Uint8Array {
  const total = chunks.reduce((sum, chunk) => sum + chunk.byteLength, 0);
  const joined = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    joined.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return joined;
}

/** Wraps an upgraded connection (after its 101 answer) as a two-way raw stream. */
export function hijackedSocket(connection: UpgradedConnection): HijackedStream {
  const socket = connection.socket;
  const closed = new AbortController();
  socket.on("error", () => closed.abort(new Error("hijacked connection failed")));
  socket.on("close", () => closed.abort(new Error("client disconnected")));
  if (socket.destroyed) closed.abort(new Error("client disconnected"));
  socket.setNoDelay?.(true);

  const write = (bytes: Uint8Array): Promise<void> => {
    if (closed.signal.aborted || socket.destroyed || !socket.writable) return Promise.resolve();
    return new Promise((resolve) => {
      if (socket.write(bytes)) {
        resolve();
        return;
      }
      const done = () => {
        closed.signal.removeEventListener("abort", done);
        resolve();
      };
      socket.once("drain", done);
      closed.signal.addEventListener("abort", done, { once: true });
    });
  };

  return {
    input: connection.input,
    write,
    writeFrame: (stream, payload) => write(frameChunk(stream, payload)),
    close() {
      if (socket.destroyed) return Promise.resolve();
      return new Promise((resolve) => {
        // A client that stopped reading must not keep the socket open forever.
        const timer = setTimeout(() => socket.destroy(), CLOSE_FLUSH_TIMEOUT_MS);
        socket.once("close", () => {
          clearTimeout(timer);
          resolve();
        });
        socket.end(() => socket.destroy());
      });
    },
    closed: closed.signal,
  };
}

/** How long close() lets buffered output flush before cutting the connection. */
const CLOSE_FLUSH_TIMEOUT_MS = 5_000;

/**
 * A hijack for a client that did not ask to upgrade (curl, old clients): dockerd then
 * answers 200 with the raw-stream media type and writes the output on the same
 * connection. node:http keeps parsing such a connection as HTTP, so here the session is
 * output-only: stdin is empty.
 */
export function hijackedResponse(response: ServerResponse, headers: Record<string, string>) {
  const closed = new AbortController();
  response.on("close", () => closed.abort(new Error("client disconnected")));
  // No chunked framing: the bytes go out as they are and the close ends the body.
  response.useChunkedEncodingByDefault = false;
  response.writeHead(200, {
    ...headers,
    "Content-Type": RAW_STREAM_MEDIA_TYPE,
    "Connection": "close",
  });
  response.flushHeaders();
  const write = (bytes: Uint8Array): Promise<void> => {
    if (closed.signal.aborted || response.writableEnded) return Promise.resolve();
    return new Promise((resolve) => {
      if (response.write(bytes)) resolve();
      else response.once("drain", () => resolve());
    });
  };
  const stream: HijackedStream = {
    input: new ReadableStream({ start: (controller) => controller.close() }),
    write,
    writeFrame: (type, payload) => write(frameChunk(type, payload)),
    close: () => new Promise((resolve) => response.end(() => resolve())),
    closed: closed.signal,
  };
  return stream;
}
