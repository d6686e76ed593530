// What this teaches: subscribers choose events with the same filter language every
// containerd listing uses: `topic=="/tasks/exit"`, `namespace==moby`,
// `topic~="^/tasks/"`, `event.containerId==web`. Conditions joined by "," must all
// hold; several filters are alternatives. Mirrors the envelope adaptor of containerd's
// `core/events/exchange/exchange.go` (fields topic, namespace, event.<field>); the
// parser is the shared one in lib/metadata/filters.ts.

import { type FieldLookup, parseFilters } from "../metadata/filters.ts";
import type { Envelope } from "./types.ts";

/** The fields an envelope offers to filters. */
function envelopeLookup(envelope: Envelope): FieldLookup {
  return (fieldPath) => {
    const [field, ...rest] = fieldPath;
    if (field === "topic" && rest.length === 0) return envelope.topic;
    if (field === "namespace" && rest.length === 0) return envelope.namespace;
    if (field === "event" && rest.length > 0) {
      const value = envelope.event[rest.join(".")];
      return value === undefined || value === null ? undefined : String(value);
    }
    return undefined;
  };
}

/** A predicate over envelopes: true when any filter has all of its conditions hold. */
export function envelopeFilter(filters: readonly string[] = []): (envelope: Envelope) => boolean {
  const filter = parseFilters(filters);
  return (envelope) => filter.matches(envelopeLookup(envelope));
}
