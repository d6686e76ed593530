// What this teaches: the shim reports what happens to its container (created, started,
// exited, OOM-killed, deleted) by publishing events to the daemon at its `-address`.
// The daemon may be down (restarting, or killed): events then wait in an ordered
// queue and are retried until it answers, so an exit that happened while mini-containerd
// was away still reaches its subscribers once it is back. Mirrors containerd's
// `pkg/shim/publisher.go` (RemoteEventsPublisher with its retry queue), which forwards
// over TTRPC to containerd's `Events/Forward`.

import { UnixTransport } from "../api/client.ts";
import { ApiError } from "../api/errors.ts";
import type { Envelope, EventPublisher } from "../events/types.ts";
import { raceTimeout, TIMED_OUT } from "./timeouts.ts";

/** The daemon route that accepts envelopes from shims. */
export const FORWARD_ROUTE = "/containerd.services.events.v1.Events/Forward";

const FIRST_RETRY_MS = 50;
const MAX_RETRY_MS = 2_000;
/**
 * How long one Forward may take before it is abandoned and sent again on a fresh
 * connection. Without a limit, one request lost on a dying keep-alive connection would
 * hold every later event (an exit among them) forever. An event may then arrive twice:
 * mini-dockerd checks the task's status before acting on an exit, so a repeated one is
 * ignored.
 */
const FORWARD_TIMEOUT_MS = 5_000;

/** A queue of envelopes sent in order to the daemon, retried while it is unreachable. */
export class RemotePublisher implements EventPublisher {
  readonly #queue: Envelope[] = [];
  #sending?: Promise<void>;
  #transport?: UnixTransport;

  constructor(
    readonly daemonAddress: string,
    private readonly log: (message: string) => void = () => {},
  ) {}

  /** Queues an event; returns at once. */
  publish(namespace: string, topic: string, event: object): void {
    this.#queue.push({
      timestamp: new Date().toISOString(),
      namespace,
      topic,
      event: event as Record<string, unknown>,
    });
    this.#sending ??= this.#drain().finally(() => this.#sending = undefined);
  }

  /** Waits until the queue is empty, or `timeoutMs` passed (shutdown must not hang). */
  async flush(timeoutMs: number): Promise<boolean> {
    const done = (async () => {
      while (this.#sending) await this.#sending;
    })();
    return await raceTimeout(done, timeoutMs) !== TIMED_OUT;
  }

  /** Events still waiting for the daemon. */
  get pending(): number {
    return this.#queue.length;
  }

  async #drain(): Promise<void> {
    let delay = FIRST_RETRY_MS;
    while (this.#queue.length > 0) {
      const envelope = this.#queue[0];
      try {
        this.#transport ??= new UnixTransport(this.daemonAddress);
        await this.#transport.call(FORWARD_ROUTE, { envelope }, {
          signal: AbortSignal.timeout(FORWARD_TIMEOUT_MS),
        });
        this.#queue.shift();
        delay = FIRST_RETRY_MS;
      } catch (error) {
        if (error instanceof ApiError && error.code !== "unavailable") {
          // The daemon answered and refused this event: retrying cannot help.
          this.log(`daemon refused ${envelope.topic}: ${error.message}`);
          this.#queue.shift();
          continue;
        }
        // A fresh connection next time: the daemon may have restarted on the same socket.
        this.#transport?.close();
        this.#transport = undefined;
        if (delay === FIRST_RETRY_MS) {
          this.log(
            `cannot publish ${envelope.topic}, will retry: ${
              error instanceof Error ? error.message : error
            }`,
          );
        }
        await new Promise((resolve) => setTimeout(resolve, delay));
        delay = Math.min(delay * 2, MAX_RETRY_MS);
      }
    }
  }
}
