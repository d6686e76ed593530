// What this teaches: a subtle edge of hijacked HTTP. `docker exec` sends
// `POST /exec/{id}/start` with `Connection: Upgrade` *and* a small JSON body
// ({"Detach":false,"Tty":true}). node:http hands an upgrade request over at the end of
// its headers: if the body came in the same packet it is still delivered as request
// data, but if it came in a later packet it arrives on the raw socket, where it looks
// exactly like the first bytes of stdin. So the body is taken from whichever side
// delivers it first, and only what follows it is treated as the client's input.
// (moby does not have the problem: Go's server reads the body before it hijacks.)

import type { EngineRequest } from "../server/context.ts";
import type { HijackedStream } from "../server/hijack.ts";

/** Starts collecting an upgrade request's body; call before anything is awaited. */
export function collectUpgradeBody(request: EngineRequest): Promise<Uint8Array> {
  const length = Number(request.header("content-length") ?? "0");
  const chunks: Uint8Array[] = [];
  let total = 0;
  return new Promise((resolve) => {
    if (!(length > 0)) {
      resolve(new Uint8Array(0));
      return;
    }
    request.incoming.on("data", (chunk: Uint8Array) => {
      chunks.push(new Uint8Array(chunk));
      total += chunk.byteLength;
      if (total >= length) resolve(concat(chunks).subarray(0, length));
    });
    request.incoming.on("end", () => {
      if (total > 0) resolve(concat(chunks).subarray(0, length));
    });
  });
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const total = chunks.reduce((sum, chunk) => sum + chunk.byteLength, 0);
  const joined = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    joined.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return joined;
}

/** A stream that first yields `first` (if any), then whatever `reader` still has. */
function prepend(
  first: Uint8Array[],
  reader: ReadableStreamDefaultReader<Uint8Array>,
): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const next = first.shift();
      if (next !== undefined) {
        if (next.byteLength > 0) controller.enqueue(next);
        return;
      }
      try {
        const { value, done } = await reader.read();
        if (done) controller.close();
        else controller.enqueue(value);
      } catch (error) {
        controller.error(error);
      }
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  });
}

/**
 * Separates the request body from the client's input on a hijacked connection: returns
 * the body and the stream with the input that follows it.
 */
export async function separateUpgradeBody(
  request: EngineRequest,
  fromRequest: Promise<Uint8Array>,
  stream: HijackedStream,
): Promise<{ body: Uint8Array; stream: HijackedStream }> {
  const length = Number(request.header("content-length") ?? "0");
  if (!(length > 0)) return { body: new Uint8Array(0), stream };
  const reader = stream.input.getReader();
  const pending = reader.read();
  const winner = await Promise.race([
    fromRequest.then((body) => ({ side: "request" as const, body })),
    pending.then((result) => ({ side: "socket" as const, result })),
  ]);
  if (winner.side === "request") {
    // The body came with the headers: the socket's bytes, from the pending read on, are input.
    return { body: winner.body, stream: { ...stream, input: chainAfter(pending, reader) } };
  }
  // The body came on the socket: read until it is complete, keep the rest as input.
  const chunks: Uint8Array[] = [];
  let total = 0;
  let result = winner.result;
  while (!result.done) {
    chunks.push(result.value);
    total += result.value.byteLength;
    if (total >= length) break;
    result = await reader.read();
  }
  const joined = concat(chunks);
  return {
    body: joined.subarray(0, length),
    stream: { ...stream, input: prepend([joined.subarray(length)], reader) },
  };
}

/** The input after a read that is still pending: its result first, then the rest. */
function chainAfter(
  pending: Promise<ReadableStreamReadResult<Uint8Array>>,
  reader: ReadableStreamDefaultReader<Uint8Array>,
): ReadableStream<Uint8Array> {
  let first = true;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { value, done } = first ? await pending : await reader.read();
        first = false;
        if (done) controller.close();
        else controller.enqueue(value);
      } catch (error) {
        controller.error(error);
      }
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  });
}
