// What this teaches: the event exchange is a fan-out: every published envelope is
// offered to every subscriber whose filters match, each subscriber with its own queue
// so one slow reader never delays the publisher or the others. Events are not stored:
// a subscriber sees what happens while it listens, which is why clients that must not
// miss an exit (ctr run) also ask for it directly with Wait.
// Mirrors containerd's `core/events/exchange/exchange.go` (Publish, Forward, Subscribe).

import { ApiError, invalidArgument } from "../api/errors.ts";
import { validateIdentifier } from "../api/identifiers.ts";
import { envelopeFilter } from "./filters.ts";
import type { Envelope, EventPublisher } from "./types.ts";

/** Envelopes a subscriber may have queued before it is cut off as too slow. */
export const MAX_QUEUED_EVENTS = 10_000;

/** Checks a topic as containerd does: `/` followed by identifier-like components. */
export function validateTopic(topic: string): void {
  if (typeof topic !== "string" || !topic.startsWith("/")) {
    throw invalidArgument(`event topic ${JSON.stringify(topic)} must start with "/"`);
  }
  for (const component of topic.slice(1).split("/")) {
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(component)) {
      throw invalidArgument(
        `event topic ${JSON.stringify(topic)} has a bad component ${JSON.stringify(component)}`,
      );
    }
  }
}

interface Subscriber {
  matches: (envelope: Envelope) => boolean;
  queue: Envelope[];
  wake?: () => void;
  closed: boolean;
  error?: Error;
}

/** The daemon's event exchange. */
export class Exchange implements EventPublisher {
  readonly #subscribers = new Set<Subscriber>();

  /** Publishes an event from inside the daemon (or from a client's Publish call). */
  publish(namespace: string, topic: string, event: object): void {
    this.forward({
      timestamp: new Date().toISOString(),
      namespace,
      topic,
      event: event as Record<string, unknown>,
    });
  }

  /** Delivers an envelope that already has its timestamp (what shims send). */
  forward(envelope: Envelope): void {
    validateIdentifier("namespace", envelope.namespace);
    validateTopic(envelope.topic);
    if (typeof envelope.event !== "object" || envelope.event === null) {
      throw invalidArgument("event payload must be a JSON object");
    }
    for (const subscriber of this.#subscribers) {
      if (subscriber.closed || !subscriber.matches(envelope)) continue;
      if (subscriber.queue.length >= MAX_QUEUED_EVENTS) {
        subscriber.error = new ApiError(
          "resource_exhausted",
          `subscriber fell ${MAX_QUEUED_EVENTS} events behind and was disconnected`,
        );
        this.#close(subscriber);
        continue;
      }
      subscriber.queue.push(envelope);
      subscriber.wake?.();
    }
  }

  /** How many subscribers are listening (for tests and debugging). */
  get subscriberCount(): number {
    return this.#subscribers.size;
  }

  /**
   * Subscribes with containerd-style filters; the iteration ends when `signal` aborts
   * or the consumer stops iterating. Filters are parsed now, so a bad one throws here.
   */
  subscribe(
    filters: readonly string[] = [],
    signal?: AbortSignal,
  ): AsyncIterableIterator<Envelope> {
    const subscriber: Subscriber = { matches: envelopeFilter(filters), queue: [], closed: false };
    this.#subscribers.add(subscriber);
    const onAbort = () => this.#close(subscriber);
    signal?.addEventListener("abort", onAbort, { once: true });
    if (signal?.aborted) onAbort();
    const close = () => this.#close(subscriber);
    const iterator: AsyncIterableIterator<Envelope> = {
      [Symbol.asyncIterator]() {
        return iterator;
      },
      async next(): Promise<IteratorResult<Envelope>> {
        while (subscriber.queue.length === 0 && !subscriber.closed) {
          await new Promise<void>((resolve) => subscriber.wake = resolve);
          subscriber.wake = undefined;
        }
        if (subscriber.queue.length > 0) return { value: subscriber.queue.shift()!, done: false };
        if (subscriber.error) throw subscriber.error;
        return { value: undefined, done: true };
      },
      return(): Promise<IteratorResult<Envelope>> {
        signal?.removeEventListener("abort", onAbort);
        close();
        subscriber.queue.length = 0;
        return Promise.resolve({ value: undefined, done: true });
      },
    };
    return iterator;
  }

  #close(subscriber: Subscriber): void {
    subscriber.closed = true;
    this.#subscribers.delete(subscriber);
    subscriber.wake?.();
  }
}
