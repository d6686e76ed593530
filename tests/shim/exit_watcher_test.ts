// The exit watcher and the poll loop under it (lib/linux/poller.ts): a process's end is
// noticed through its pidfd, many at once on one helper thread, and a descriptor that
// is forgotten gets its waiter called with 0 instead of being polled any longer.

import { assert, assertEquals } from "../helpers/assert.ts";
import { closeFile, socketPair, writeAll } from "../../lib/linux/files.ts";
import { DescriptorPoller, PollEvents } from "../../lib/linux/poller.ts";
import { ProcessExitWatcher } from "../../lib/shim/exit_watcher.ts";

function startSleeper(): Deno.ChildProcess {
  return new Deno.Command("sleep", { args: ["60"], stdin: "null", stdout: "null" }).spawn();
}

Deno.test("the watcher resolves once each of many processes has ended, and not before", async () => {
  const watcher = new ProcessExitWatcher(new DescriptorPoller());
  const children = Array.from({ length: 40 }, startSleeper);
  const ended = new Set<number>();
  const waits = children.map((child) => watcher.watch(child.pid).then(() => ended.add(child.pid)));
  assertEquals(watcher.size, 40);
  // End the first half only: exactly those must be reported.
  for (const child of children.slice(0, 20)) child.kill("SIGKILL");
  await Promise.all(waits.slice(0, 20));
  for (const child of children.slice(0, 20)) await child.status;
  await new Promise((resolve) => setTimeout(resolve, 50)); // a wrong report would arrive now
  assertEquals([...ended].sort(), children.slice(0, 20).map((child) => child.pid).sort());
  assertEquals(watcher.size, 20);
  for (const child of children.slice(20)) child.kill("SIGKILL");
  await Promise.all(waits);
  for (const child of children.slice(20)) await child.status;
  assertEquals(watcher.size, 0);
});

Deno.test("a pid with no process resolves at once; close() drops pending watches", async () => {
  const watcher = new ProcessExitWatcher(new DescriptorPoller());
  const gone = new Deno.Command("true").spawn();
  await gone.status; // reaped: its pid names no process any more
  await watcher.watch(gone.pid);
  const child = startSleeper();
  let resolved = false;
  watcher.watch(child.pid).then(() => resolved = true);
  assertEquals(watcher.size, 1);
  watcher.close();
  assertEquals(watcher.size, 0);
  child.kill("SIGKILL");
  await child.status;
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert(!resolved, "a closed watcher must not report");
});

Deno.test("the poller reports readiness once, and 0 for a forgotten descriptor", async () => {
  const poller = new DescriptorPoller();
  const [left, right] = socketPair();
  const [otherLeft, otherRight] = socketPair();
  try {
    const readable = new Promise<number>((resolve) => poller.wait(left, PollEvents.IN, resolve));
    const forgotten = new Promise<number>((resolve) =>
      poller.wait(otherLeft, PollEvents.IN, resolve)
    );
    assertEquals(poller.size, 2);
    writeAll(right, new Uint8Array([7]));
    assert((await readable) & PollEvents.IN, "the written end must be reported readable");
    poller.forget(otherLeft);
    assertEquals(await forgotten, 0);
    assertEquals(poller.size, 0);
  } finally {
    for (const fd of [left, right, otherLeft, otherRight]) closeFile(fd);
  }
});
