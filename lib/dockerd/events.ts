// What this teaches: `docker events` is a publish/subscribe log inside dockerd. Every
// component records what happened (a container died, an image was pulled) as a small
// message naming the object ("Actor") and the action; the daemon keeps the last few
// hundred in memory, so a client asking `--since` a moment ago still gets them, and
// hands each new one to every listening client. A listener is a subscription that must
// be dropped when its client goes away: a daemon that forgets to do so leaks one queue
// per `docker events` ever run (`docker info` shows the count as NEventsListener).
// Mirrors moby's daemon/events/events.go (Events: Log, SubscribeTopic, Evict, the
// 256-message ring) and api/types/events (Message).

import { MAX_QUEUED_EVENTS } from "../events/exchange.ts";

/** The object kinds events are about. */
export type EventType = "container" | "image" | "network" | "volume" | "daemon";

/** One event as the Engine API sends it (moby's events.Message, with the legacy fields). */
export interface EngineEvent {
  Type: EventType;
  Action: string;
  Actor: { ID: string; Attributes: Record<string, string> };
  scope: "local";
  time: number;
  timeNano: number;
  /** Legacy fields of container and image events (API < 1.22 clients read these). */
  status?: string;
  id?: string;
  from?: string;
}

/** How many past events are kept for `--since` (moby: 256). */
export const EVENTS_KEPT = 256;

/** A live subscription: its queued events, readable as a stream; cancel it to unsubscribe. */
export interface EventSubscription {
  /** Events from the moment of subscribing on (the past ones are returned separately). */
  readonly stream: ReadableStream<EngineEvent>;
}

/** The daemon's event log and its listeners. */
export class EventsService {
  readonly #kept: EngineEvent[] = [];
  readonly #listeners = new Set<ReadableStreamDefaultController<EngineEvent>>();

  /** Records an event and hands it to every listener. */
  log(
    type: EventType,
    action: string,
    actorId: string,
    attributes: Record<string, string> = {},
  ): EngineEvent {
    const nowNanos = BigInt(Date.now()) * 1_000_000n;
    const event: EngineEvent = {
      Type: type,
      Action: action,
      Actor: { ID: actorId, Attributes: attributes },
      scope: "local",
      time: Number(nowNanos / 1_000_000_000n),
      timeNano: Number(nowNanos),
    };
    if (type === "container" || type === "image") {
      event.status = action;
      event.id = actorId;
      if (attributes.image) event.from = attributes.image;
    }
    this.#kept.push(event);
    if (this.#kept.length > EVENTS_KEPT) this.#kept.shift();
    for (const listener of this.#listeners) {
      // A client that stopped reading must not grow the daemon without bound: cut it
      // off as containerd's exchange does (lib/events/exchange.ts).
      if ((listener.desiredSize ?? 0) <= -MAX_QUEUED_EVENTS) {
        this.#listeners.delete(listener);
        listener.error(new Error(`events client fell ${MAX_QUEUED_EVENTS} events behind`));
        continue;
      }
      listener.enqueue(event);
    }
    return event;
  }

  /** The kept events, oldest first. */
  past(): EngineEvent[] {
    return [...this.#kept];
  }

  /** How many clients are listening (`docker info`'s NEventsListener). */
  get listenerCount(): number {
    return this.#listeners.size;
  }

  /**
   * Subscribes: returns the events kept so far and a stream of the ones to come. The
   * subscription ends when the stream is cancelled (its reader's cancel()).
   */
  subscribe(): { past: EngineEvent[]; subscription: EventSubscription } {
    const listeners = this.#listeners;
    let controller!: ReadableStreamDefaultController<EngineEvent>;
    const stream = new ReadableStream<EngineEvent>({
      start(streamController) {
        controller = streamController;
        listeners.add(controller);
      },
      cancel() {
        listeners.delete(controller);
      },
    });
    return { past: this.past(), subscription: { stream } };
  }
}
