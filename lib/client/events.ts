// What this teaches: subscribing to the daemon's events is one long HTTP response, read
// line by line; each line is a JSON envelope. Closing the iteration (or aborting the
// signal) hangs up, and the daemon drops the subscription.
// Mirrors containerd's `client/events.go` (eventRemote.Subscribe, Publish).

import type { UnixTransport } from "../api/client.ts";
import { EVENTS_SERVICE } from "../api/services.ts";
import type { Envelope } from "../events/types.ts";

const route = (method: string) => `/${EVENTS_SERVICE}/${method}`;

/** Client for the Events service. */
export class EventsClient {
  constructor(private readonly transport: UnixTransport, private readonly namespace: string) {}

  /** Publishes an event into this client's namespace. */
  async publish(topic: string, event: object): Promise<void> {
    await this.transport.call(route("Publish"), { topic, event }, { namespace: this.namespace });
  }

  /**
   * Subscribes with containerd-style filters (`topic=="/tasks/exit"`, `namespace==moby`).
   * Events of every namespace arrive unless a filter narrows them. The returned
   * iterator yields once the subscription is registered on the daemon.
   */
  async subscribe(
    filters: string[] = [],
    signal?: AbortSignal,
  ): Promise<AsyncIterableIterator<Envelope>> {
    const stream = await this.transport.callForStream(route("Subscribe"), { filters }, { signal });
    return parseEnvelopes(stream, signal);
  }
}

/**
 * Splits an NDJSON byte stream into envelopes. An abort cancels the stream explicitly,
 * which ends a pending read at once (relying on fetch's abort alone can leave it
 * waiting for the next event), and leaving the loop hangs up on the daemon.
 */
async function* parseEnvelopes(
  stream: ReadableStream<Uint8Array>,
  signal?: AbortSignal,
): AsyncIterableIterator<Envelope> {
  const reader = stream.getReader();
  const hangUp = () => {
    reader.cancel().catch(() => {});
  };
  signal?.addEventListener("abort", hangUp, { once: true });
  const decoder = new TextDecoder();
  let buffered = "";
  try {
    while (!signal?.aborted) {
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        chunk = await reader.read();
      } catch (error) {
        if (signal?.aborted) return;
        throw error;
      }
      if (chunk.done) return;
      buffered += decoder.decode(chunk.value, { stream: true });
      let newline = buffered.indexOf("\n");
      while (newline >= 0) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        if (line.trim() !== "") yield JSON.parse(line) as Envelope;
        newline = buffered.indexOf("\n");
      }
    }
  } finally {
    signal?.removeEventListener("abort", hangUp);
    hangUp();
  }
}
