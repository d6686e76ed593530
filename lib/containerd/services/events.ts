// What this teaches: the Events service. Clients Publish events into a namespace, shims
// Forward envelopes they stamped themselves, and subscribers get a never-ending
// response: one JSON envelope per line (NDJSON), filtered as they asked, until they
// hang up or the daemon stops. mini-dockerd subscribes to `/tasks/exit` this way.
// Mirrors containerd's `api/services/events/v1/events.proto` and
// `plugins/services/events/service.go`.

import { invalidArgument } from "../../api/errors.ts";
import type { Router } from "../../api/server.ts";
import type { Exchange } from "../../events/exchange.ts";
import type { Envelope } from "../../events/types.ts";
import { EVENTS_SERVICE } from "../../api/services.ts";
import { currentTrace } from "../../trace/active.ts";

/** Registers Publish, Forward and Subscribe. `stopping` ends every subscription. */
export function registerEventsService(
  router: Router,
  exchange: Exchange,
  stopping: AbortSignal,
): void {
  router.add(EVENTS_SERVICE, "Publish", async (context) => {
    const namespace = context.requireNamespace();
    const { topic, event } = await context.json<{ topic: string; event: object }>();
    if (typeof event !== "object" || event === null) {
      throw invalidArgument("event must be a JSON object");
    }
    exchange.publish(namespace, topic, event);
    return {};
  });
  router.add(EVENTS_SERVICE, "Forward", async (context) => {
    const { envelope } = await context.json<{ envelope: Envelope }>();
    if (typeof envelope !== "object" || envelope === null) {
      throw invalidArgument("envelope is required");
    }
    currentTrace()?.step(`event ${envelope.topic} forwarded to subscribers`); // --trace
    exchange.forward(envelope);
    return {};
  });
  router.add(EVENTS_SERVICE, "Subscribe", async (context) => {
    const { filters } = await context.json<{ filters?: string[] }>();
    const cancelled = new AbortController();
    const subscription = exchange.subscribe(
      filters ?? [],
      AbortSignal.any([stopping, cancelled.signal]),
    );
    const encoder = new TextEncoder();
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        const next = await subscription.next().catch((error) => {
          controller.error(error);
          return { done: true as const, value: undefined };
        });
        if (next.done) controller.close();
        else controller.enqueue(encoder.encode(JSON.stringify(next.value) + "\n"));
      },
      cancel() {
        cancelled.abort();
        subscription.return?.();
      },
    });
    return new Response(body, { headers: { "content-type": "application/x-ndjson" } });
  });
}
