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
    return parseEnvelopes(stream);
  }
}

/** Splits an NDJSON byte stream into envelopes. */
async function* parseEnvelopes(
  stream: ReadableStream<Uint8Array>,
): AsyncIterableIterator<Envelope> {
  const decoder = new TextDecoder();
  let buffered = "";
  try {
    for await (const chunk of stream) {
      buffered += decoder.decode(chunk, { stream: true });
      let newline = buffered.indexOf("\n");
      while (newline >= 0) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        if (line.trim() !== "") yield JSON.parse(line) as Envelope;
        newline = buffered.indexOf("\n");
      }
    }
  } catch (error) {
    // An aborted subscription ends the iteration quietly.
    if (!(error instanceof DOMException && error.name === "AbortError")) throw error;
  }
}
