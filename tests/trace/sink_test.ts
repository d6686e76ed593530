// Where a process may append trace records: only a regular trace file under its trace
// root. A client must not be able to make a root daemon write anywhere else.

import { assert, assertEquals, assertMatch, assertThrows } from "../helpers/assert.ts";
import { FileSink, TracePathRefused, validateTracePath } from "../../lib/trace/mod.ts";

async function traceRoot(): Promise<{ root: string; file: string; outside: string }> {
  const root = await Deno.makeTempDir({ prefix: "mini-trace-root-" });
  await Deno.mkdir(`${root}/t1`, { mode: 0o700 });
  const file = `${root}/t1/trace.jsonl`;
  await Deno.writeTextFile(file, "");
  const outside = `${await Deno.makeTempDir({ prefix: "mini-trace-victim-" })}/passwd`;
  await Deno.writeTextFile(outside, "root:x:0:0::/root:/bin/sh\n");
  return { root, file, outside };
}

Deno.test("a trace file under the root is accepted and receives one line per record", async () => {
  const { root, file } = await traceRoot();
  const sink = new FileSink(validateTracePath(file, root));
  sink.write({ t: 1, pid: 2, process: "test", depth: 0, step: "first" });
  sink.write({ t: 2, pid: 2, process: "test", depth: 0, step: "second", detail: "x" });
  const lines = (await Deno.readTextFile(file)).trim().split("\n").map((line) => JSON.parse(line));
  assertEquals(lines.map((line) => line.step), ["first", "second"]);
  assertEquals(lines[1].detail, "x");
  await Deno.remove(root, { recursive: true });
});

Deno.test("hostile trace paths are refused", async () => {
  const { root, outside } = await traceRoot();
  await Deno.mkdir(`${root}/evil`);
  await Deno.symlink(outside, `${root}/evil/trace.jsonl`);
  await Deno.mkdir(`${root}/fifo`);
  new Deno.Command("mkfifo", { args: [`${root}/fifo/trace.jsonl`] }).outputSync();
  await Deno.mkdir(`${root}/linked`);
  await Deno.link(outside, `${root}/linked/trace.jsonl`);
  const refused = [
    "/etc/passwd",
    outside,
    `${root}/t1/../../${outside.split("/").slice(-2).join("/")}`,
    `${root}/t1/other.jsonl`,
    `${root}/trace.jsonl`,
    `${root}/evil/trace.jsonl`, // a symlink to a file outside
    `${root}/fifo/trace.jsonl`, // not a regular file
    `${root}/linked/trace.jsonl`, // a hard link to a file outside
    `${root}/missing/trace.jsonl`,
  ];
  for (const path of refused) {
    assertThrows(() => validateTracePath(path, root), TracePathRefused, undefined);
  }
  assertEquals(await Deno.readTextFile(outside), "root:x:0:0::/root:/bin/sh\n");
  await Deno.remove(root, { recursive: true });
});

Deno.test("a trace root others may write to is refused", async () => {
  const { root, file } = await traceRoot();
  await Deno.chmod(root, 0o777);
  const error = assertThrows(() => validateTracePath(file, root), TracePathRefused);
  assertMatch(error.message, /writable by others/);
  await Deno.remove(root, { recursive: true });
});

Deno.test("a sink stops writing when its file is swapped for another", async () => {
  const { root, file, outside } = await traceRoot();
  const sink = new FileSink(validateTracePath(file, root));
  sink.write({ t: 1, pid: 2, process: "test", depth: 0, step: "before" });
  await Deno.remove(file);
  await Deno.symlink(outside, file);
  sink.write({ t: 2, pid: 2, process: "test", depth: 0, step: "after" });
  assertEquals(await Deno.readTextFile(outside), "root:x:0:0::/root:/bin/sh\n");
  assert(!(await Deno.readTextFile(outside)).includes("after"));
  await Deno.remove(root, { recursive: true });
});
