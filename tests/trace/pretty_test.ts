// The trace printer and the trace context's text forms: what a learner reads, and what
// crosses a process boundary.

import { assert, assertEquals, assertMatch } from "../helpers/assert.ts";
import {
  contextFromEnvironment,
  decodeTraceHeader,
  encodeTraceHeader,
  formatTraceRecord,
  shortRoute,
  TraceLineReader,
  TracePrinter,
  type TraceRecord,
} from "../../lib/trace/mod.ts";

function record(fields: Partial<TraceRecord>): TraceRecord {
  return { t: 1000, pid: 42, process: "mini-dockerd", depth: 1, step: "step", ...fields };
}

Deno.test("a record prints its time since the start, its process indented by depth, its step", () => {
  const line = formatTraceRecord(
    record({ t: 1012.34, depth: 2, process: "mini-containerd", step: "Tasks/Create" }),
    1000,
  );
  assertMatch(line, /^ +12\.3 ms {2}( {4})mini-containerd\[42\] +Tasks\/Create$/);
  const shallower = formatTraceRecord(record({ depth: 0, process: "mini-docker" }), 1000);
  const deeper = formatTraceRecord(record({ depth: 3, process: "mini-docker" }), 1000);
  assertEquals(deeper.indexOf("mini-docker") - shallower.indexOf("mini-docker"), 6);
});

Deno.test("details and durations follow the step", () => {
  const line = formatTraceRecord(
    record({ step: "done POST /containers/create", detail: "201 Created", took: 34.56 }),
    1000,
  );
  assertMatch(line, /done POST \/containers\/create {2}201 Created {2}\(34\.6 ms\)$/);
});

Deno.test("the printer folds a step and its end into one line when nothing came between", () => {
  const lines: string[] = [];
  const printer = new TracePrinter(1000, (line) => lines.push(line));
  printer.add(record({ t: 1001, step: "Containers/Create" }));
  printer.add(record({ t: 1003, step: "done Containers/Create", took: 2 }));
  assertEquals(lines.length, 1);
  assertMatch(lines[0], /Containers\/Create {2}\(2\.0 ms\)$/);

  printer.add(record({ t: 1004, step: "Tasks/Create" }));
  printer.add(record({ t: 1005, pid: 7, process: "mini-containerd-shim", step: "Task/Create" }));
  printer.add(
    record({ t: 1009, pid: 7, process: "mini-containerd-shim", step: "done Task/Create", took: 4 }),
  );
  printer.add(record({ t: 1010, step: "done Tasks/Create", took: 6, detail: "failed: boom" }));
  printer.flush();
  assertEquals(lines.length, 4);
  assertMatch(lines[1], /Tasks\/Create$/);
  assertMatch(lines[2], /Task\/Create {2}\(4\.0 ms\)$/);
  assertMatch(lines[3], /done Tasks\/Create {2}failed: boom {2}\(6\.0 ms\)$/);
});

Deno.test("the line reader only yields complete lines and skips what is not a record", () => {
  const reader = new TraceLineReader();
  const encoder = new TextEncoder();
  const first = JSON.stringify(record({ step: "one" }));
  const second = JSON.stringify(record({ step: "two" }));
  assertEquals(reader.push(encoder.encode(first.slice(0, 10))), []);
  const done = reader.push(encoder.encode(first.slice(10) + "\nnot json\n{}\n" + second));
  assertEquals(done.map((entry) => entry.step), ["one"]);
  assertEquals(reader.push(encoder.encode("\n")).map((entry) => entry.step), ["two"]);
});

Deno.test("the trace header round-trips and refuses malformed values", () => {
  const context = { depth: 2, file: "/run/mini-trace/trace-abc/trace.jsonl" };
  assertEquals(decodeTraceHeader(encodeTraceHeader(context)), context);
  for (const bad of [null, "", "depth=x; file=/a", "depth=1; file=relative", "depth=99; file=/a"]) {
    assertEquals(decodeTraceHeader(bad), undefined, String(bad));
  }
  const environment: Record<string, string> = {
    MINI_TRACE_FILE: context.file,
    MINI_TRACE_DEPTH: "2",
  };
  assertEquals(contextFromEnvironment((name) => environment[name]), context);
  assert(contextFromEnvironment(() => undefined) === undefined);
});

Deno.test("routes print as Service/Method", () => {
  assertEquals(shortRoute("/containerd.services.tasks.v1.Tasks/Create"), "Tasks/Create");
  assertEquals(shortRoute("/containerd.task.v2.Task/Start"), "Task/Start");
  assertEquals(shortRoute("POST /containers/create"), "POST /containers/create");
});
