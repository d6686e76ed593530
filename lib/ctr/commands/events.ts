// What this teaches: `ctr events` prints the daemon's event stream as it happens, one
// line per event: time, namespace, topic and payload. Filters narrow it
// (`mini-ctr events 'topic=="/tasks/exit"'`).
// Mirrors containerd's `cmd/ctr/commands/events/events.go`.

import type { CtrCommand } from "../types.ts";

export const eventsCommand: CtrCommand = {
  name: "events",
  aliases: ["event"],
  summary: "print the event stream: events [FILTER...]",
  async run(args, { client }) {
    const stop = new AbortController();
    const onSignal = () => stop.abort();
    Deno.addSignalListener("SIGINT", onSignal);
    try {
      for await (const envelope of await client.events.subscribe(args, stop.signal)) {
        console.log(
          `${envelope.timestamp} ${envelope.namespace} ${envelope.topic} ${
            JSON.stringify(envelope.event)
          }`,
        );
      }
    } finally {
      Deno.removeSignalListener("SIGINT", onSignal);
    }
    return 0;
  },
};
