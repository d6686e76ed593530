// Many containers at once: mini-containerd keeps watching every shim with one helper
// thread (lib/shim/exit_watcher.ts), so 40 running tasks (more than Deno's ~32
// blocking threads, the old limit) all stay RUNNING, the daemon keeps answering, a shim
// killed late in the row is still noticed and cleaned up after, and every exit is
// reported (on Wait and as a /tasks/exit event).

import { assert, assertEquals } from "../helpers/assert.ts";
import {
  createContainerFromImage,
  deleteContainerAndSnapshot,
} from "../../lib/client/containers.ts";
import type { Envelope } from "../../lib/events/types.ts";
import { withProcessArgs } from "../../lib/oci_spec/options.ts";
import {
  BUSYBOX,
  cleanupDaemon,
  daemonWithBusybox,
  leftovers,
  needsContainers,
  processGone,
  shimPidOf,
  uniqueNamespace,
  waitUntil,
  withinDeadline,
} from "./support.ts";

const ignore = needsContainers("many tasks test");

/** More than the ~32 blocking threads Deno keeps: the count that used to stall. */
const TASK_COUNT = 40;

/** How many tasks are created side by side (a 2-core machine gains nothing from more). */
const PARALLEL = 4;

Deno.test(
  { name: `tasks: ${TASK_COUNT} running tasks, every shim watched, every exit reported`, ignore },
  async () => {
    const namespace = uniqueNamespace("many");
    const daemon = await daemonWithBusybox(namespace);
    const client = daemon.client(namespace);
    const stop = new AbortController();
    const ids = Array.from({ length: TASK_COUNT }, (_, index) => `sleeper${index}`);
    try {
      const exitEvents: Envelope[] = [];
      const subscription = await client.events.subscribe(
        [`namespace==${namespace},topic=="/tasks/exit"`],
        stop.signal,
      );
      const collecting = (async () => {
        for await (const envelope of subscription) exitEvents.push(envelope);
      })();

      const initPids = new Map<string, number>();
      const startAll = async () => {
        for (let first = 0; first < ids.length; first += PARALLEL) {
          await Promise.all(
            ids.slice(first, first + PARALLEL).map(async (id) => {
              await createContainerFromImage(client, {
                id,
                image: BUSYBOX,
                specOptions: [withProcessArgs("sleep", "3600")],
              });
              const { pid } = await client.tasks.create({ containerId: id });
              await client.tasks.start(id);
              initPids.set(id, pid);
            }),
          );
        }
      };
      // With one blocking wait per shim, the daemon stopped answering at 32 tasks.
      await withinDeadline(
        () => `the daemon stopped answering after ${initPids.size} running tasks`,
        startAll(),
      );

      const listed = await client.tasks.list();
      assertEquals(listed.length, TASK_COUNT);
      for (const task of listed) {
        assertEquals(task.status, "running", `${task.id} is ${task.status}`);
        assertEquals(task.pid, initPids.get(task.id));
      }
      // The container's command holds its stdio and nothing else of the shim's (the
      // shim runs mini-runc in-process, so its descriptors must not leak into the init).
      const firstPid = initPids.get(ids[0])!;
      assertEquals(
        [...Deno.readDirSync(`/proc/${firstPid}/fd`)].map((entry) => entry.name).sort(),
        [
          "0",
          "1",
          "2",
        ],
      );
      // Still answering other calls with every shim watched.
      assert((await client.version()).version !== "");

      // The shim of the last task dies: its exit is noticed (the watcher covers the
      // 40th shim too) and reported as 137 after the cleanup.
      const lastId = ids.at(-1)!;
      const lastShim = shimPidOf(daemon, namespace, lastId);
      const lastExit = client.tasks.wait(lastId);
      Deno.kill(lastShim, "SIGKILL");
      assertEquals((await lastExit).exitStatus, 137);
      await waitUntil(`the init of ${lastId} is gone`, () => processGone(initPids.get(lastId)!));
      assertEquals((await client.tasks.get(lastId)).status, "stopped");

      // Every other task is killed; every exit comes back on Wait and as an event.
      const others = ids.slice(0, -1);
      const exits = others.map((id) => client.tasks.wait(id));
      for (const id of others) await client.tasks.kill(id, 9);
      const statuses = (await Promise.all(exits)).map((exit) => exit.exitStatus);
      assertEquals(statuses, others.map(() => 137));
      await waitUntil(
        "every /tasks/exit event arrived",
        () => new Set(exitEvents.map((envelope) => envelope.event.id)).size === TASK_COUNT,
      );
      for (const task of await client.tasks.list()) assertEquals(task.status, "stopped");

      for (const id of ids) {
        await client.tasks.delete(id);
        await deleteContainerAndSnapshot(client, id);
      }
      assertEquals(await client.tasks.list(), []);
      for (const id of ids) assertEquals(leftovers(daemon, namespace, id), []);
      stop.abort();
      await collecting;
    } finally {
      stop.abort();
      client.close();
      await cleanupDaemon(daemon, namespace);
    }
  },
);
