// What the shim is for: containers outlive their daemon. `kill -9` of mini-containerd
// leaves shims and containers running; the restarted daemon finds the shims through the
// bundles in its state directory, reconnects, and still reports exits that happened
// while it was down. A shim that dies (while the daemon runs, or while it is down) is
// cleaned up after: runtime delete --force, rootfs unmounted, bundle removed, the task
// reported stopped with 137.

import { assert, assertEquals } from "../helpers/assert.ts";
import { createContainerFromImage } from "../../lib/client/containers.ts";
import type { Envelope } from "../../lib/events/types.ts";
import { withProcessArgs } from "../../lib/oci_spec/options.ts";
import {
  bundleOf,
  BUSYBOX,
  cleanupDaemon,
  daemonWithBusybox,
  exists,
  killQuietly,
  leftovers,
  needsContainers,
  processGone,
  procStat,
  shimPidOf,
  uniqueNamespace,
  waitUntil,
} from "./support.ts";
import type { ContainerdClient } from "../../lib/client/client.ts";

const ignore = needsContainers("restart tests");

/** Closes a client once; a second close would throw "Bad resource ID". */
function closeOnce(client: ContainerdClient): void {
  try {
    client.close();
  } catch { /* already closed */ }
}

async function runDetached(client: ContainerdClient, id: string, ...args: string[]) {
  await createContainerFromImage(client, {
    id,
    image: BUSYBOX,
    specOptions: [withProcessArgs(...args)],
  });
  const { pid } = await client.tasks.create({ containerId: id });
  await client.tasks.start(id);
  return pid;
}

Deno.test(
  { name: "restart: shims and containers survive kill -9 of mini-containerd", ignore },
  async () => {
    const namespace = uniqueNamespace();
    const daemon = await daemonWithBusybox(namespace);
    let client = daemon.client(namespace);
    try {
      const keeperPid = await runDetached(client, "keeper", "sleep", "1000");
      const quitterPid = await runDetached(client, "quitter", "sleep", "1000");
      const keeperShim = shimPidOf(daemon, namespace, "keeper");
      const quitterShim = shimPidOf(daemon, namespace, "quitter");
      closeOnce(client);

      await daemon.kill("SIGKILL");
      // Both shims and containers are still there, re-parented away from the dead daemon.
      for (const pid of [keeperPid, quitterPid, keeperShim, quitterShim]) {
        assert(!processGone(pid), `process ${pid} died with the daemon`);
      }
      // One container ends while nobody is listening.
      killQuietly(quitterPid, "SIGKILL");
      await waitUntil("the quitter's shim records the exit", () => processGone(quitterPid));

      await daemon.restart();
      client = daemon.client(namespace);
      const tasks = await client.tasks.list();
      assertEquals(
        tasks.map((task) => [task.id, task.pid, task.status]),
        [["keeper", keeperPid, "running"], ["quitter", quitterPid, "stopped"]],
      );
      // The exit that happened during the downtime is still reported.
      assertEquals((await client.tasks.wait("quitter")).exitStatus, 137);
      assertEquals((await client.tasks.get("quitter")).exitStatus, 137);
      assert(daemon.log.includes("reconnected to shim"), daemon.log);

      // The reconnected shim still obeys.
      const exited = client.tasks.wait("keeper");
      await client.tasks.kill("keeper", 9);
      assertEquals((await exited).exitStatus, 137);
      for (const id of ["keeper", "quitter"]) {
        await client.tasks.delete(id);
        await client.containers.delete(id);
        await client.snapshots().remove(id);
      }
      await waitUntil("both shims exit", () => processGone(keeperShim) && processGone(quitterShim));
      assertEquals(leftovers(daemon, namespace, "keeper"), []);
      assertEquals(leftovers(daemon, namespace, "quitter"), []);
    } finally {
      closeOnce(client);
      await cleanupDaemon(daemon, namespace);
    }
  },
);

Deno.test(
  { name: "restart: a shim killed with -9 is cleaned up after, exit 137", ignore },
  async () => {
    const namespace = uniqueNamespace();
    const daemon = await daemonWithBusybox(namespace);
    const client = daemon.client(namespace);
    const stop = new AbortController();
    try {
      const subscription = await client.events.subscribe(
        [`namespace==${namespace},topic=="/tasks/exit"`],
        stop.signal,
      );
      const exitEvent = subscription.next();
      const pid = await runDetached(client, "victim", "sleep", "1000");
      const shimPid = shimPidOf(daemon, namespace, "victim");
      const bundle = bundleOf(daemon, namespace, "victim");
      const waiting = client.tasks.wait("victim");
      killQuietly(shimPid, "SIGKILL");

      assertEquals((await waiting).exitStatus, 137);
      const event = (await exitEvent).value as Envelope;
      assertEquals([event.event.containerId, event.event.exitStatus], ["victim", 137]);
      await waitUntil("the container is killed", () => processGone(pid));
      assert(!exists(bundle.dir), "the bundle is removed");
      const task = await client.tasks.get("victim");
      assertEquals([task.status, task.exitStatus], ["stopped", 137]);
      await client.tasks.delete("victim");
      assertEquals(await client.tasks.list(), []);
      await client.containers.delete("victim");
      await client.snapshots().remove("victim");
      assertEquals(leftovers(daemon, namespace, "victim"), []);
    } finally {
      stop.abort();
      closeOnce(client);
      await cleanupDaemon(daemon, namespace);
    }
  },
);

Deno.test({
  name: "restart: a shim that died while the daemon was down is cleaned up at start",
  ignore,
}, async () => {
  const namespace = uniqueNamespace();
  const daemon = await daemonWithBusybox(namespace);
  let client = daemon.client(namespace);
  try {
    const pid = await runDetached(client, "orphan", "sleep", "1000");
    const shimPid = shimPidOf(daemon, namespace, "orphan");
    closeOnce(client);
    await daemon.kill("SIGKILL");
    killQuietly(shimPid, "SIGKILL");
    await waitUntil("the shim is gone", () => processGone(shimPid));
    // The container is orphaned, still running, its reaper gone. (The shim's leader
    // thread turns zombie before its other threads finish dying, so wait for the
    // re-parenting rather than expect it at once.)
    await waitUntil(
      "the container is re-parented away from the dead shim",
      () => Number(procStat(pid)[1]) !== shimPid,
    );
    assert(!processGone(pid));

    await daemon.restart();
    client = daemon.client(namespace);
    await waitUntil("runtime delete --force ends the orphan", () => processGone(pid));
    const task = await client.tasks.get("orphan");
    assertEquals([task.status, task.exitStatus], ["stopped", 137]);
    assert(!exists(bundleOf(daemon, namespace, "orphan").dir), "the bundle is removed");
    assert(daemon.log.includes("cleaning up after dead shim"), daemon.log);
    await client.tasks.delete("orphan");
    await client.containers.delete("orphan");
    await client.snapshots().remove("orphan");
    assertEquals(leftovers(daemon, namespace, "orphan"), []);
  } finally {
    closeOnce(client);
    await cleanupDaemon(daemon, namespace);
  }
});

Deno.test({
  name: "restart: SIGTERM stops the daemon despite waiting clients; containers keep running",
  ignore,
}, async () => {
  const namespace = uniqueNamespace();
  const daemon = await daemonWithBusybox(namespace);
  let client = daemon.client(namespace);
  try {
    const pid = await runDetached(client, "steady", "sleep", "1000");
    // A client waiting for the exit and another one listening to events.
    const waiting = client.tasks.wait("steady").then(() => "exited", (error) => String(error));
    const subscription = await client.events.subscribe([`namespace==${namespace}`]);
    const listening = (async () => {
      for await (const _ of subscription) { /* nothing will come */ }
      return "ended";
    })().catch((error) => String(error));

    await daemon.kill("SIGTERM");
    assert((await waiting).includes("unavailable") || (await waiting).includes("shutting down"));
    await listening;
    assert(!processGone(pid), "the container outlives a daemon stop");
    assert(!processGone(shimPidOf(daemon, namespace, "steady")), "so does its shim");
    closeOnce(client);

    await daemon.restart();
    client = daemon.client(namespace);
    assertEquals((await client.tasks.get("steady")).status, "running");
    const exited = client.tasks.wait("steady");
    await client.tasks.kill("steady", 9);
    assertEquals((await exited).exitStatus, 137);
    await client.tasks.delete("steady");
    assertEquals(leftovers(daemon, namespace, "steady"), []);
  } finally {
    closeOnce(client);
    await cleanupDaemon(daemon, namespace);
  }
});
