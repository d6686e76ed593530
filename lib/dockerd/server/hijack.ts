// What this teaches: how `docker attach`, `docker run` (attached) and `docker exec`
// get a two-way byte pipe out of an HTTP API. The client sends `Connection: Upgrade`
// and `Upgrade: tcp`; the daemon answers `HTTP/1.1 101 UPGRADED` and from then on the
// TCP (here: Unix) connection carries raw bytes both ways: stdin from the client,
// stdout/stderr to it. Without a tty the two output streams share the connection, so
// every chunk gets an 8-byte header naming its stream ("stdcopy" framing):
//   [stream: 0 stdin, 1 stdout, 2 stderr][0][0][0][payload length, uint32 big-endian]
// The daemon ends the session by closing; a client whose stdin ended half-closes its
// side, and output keeps flowing after that.
// Mirrors moby's api/server/router/container/container_routes.go (postContainersAttach,
// the 101 UPGRADED answer) and pkg/stdcopy (StdWriter).

import type { Socket } from "node:net";
import type { ServerResponse } from "node:http";

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

/** Wraps an upgraded socket (with the bytes that arrived right after the headers). */
export function hijackedSocket(socket: Socket, head: Uint8Array): HijackedStream {
  const closed = new AbortController();
  socket.on("error", () => closed.abort(new Error("hijacked connection failed")));
  socket.on("close", () => closed.abort(new Error("client disconnected")));
  socket.setNoDelay?.(true);

  const input = new ReadableStream<Uint8Array>({
    start(controller) {
      if (head.byteLength > 0) controller.enqueue(new Uint8Array(head));
      let open = true;
      const finish = () => {
        if (!open) return;
        open = false;
        try {
          controller.close();
        } catch { /* already cancelled */ }
      };
      socket.on("data", (chunk: Uint8Array) => {
        if (open) controller.enqueue(new Uint8Array(chunk));
      });
      socket.on("end", finish); // the client half-closed: stdin is over, output may go on
      socket.on("close", finish);
    },
  });

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
    input,
    write,
    writeFrame: (stream, payload) => write(frameChunk(stream, payload)),
    close() {
      if (socket.destroyed) return Promise.resolve();
      return new Promise((resolve) => {
        socket.end(() => {
          socket.destroy();
          resolve();
        });
      });
    },
    closed: closed.signal,
  };
}

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
