// The Tasks service against real processes: a container created from the busybox
// image runs through mini-containerd → shim → mini-runc; exec, ps, kill, wait and
// delete behave like containerd's; bad input gets a clear error and leaves nothing.

import { assert, assertEquals, assertMatch, assertRejects } from "../helpers/assert.ts";
import { ApiError } from "../../lib/api/errors.ts";
import { createContainerFromImage } from "../../lib/client/containers.ts";
import type { Envelope } from "../../lib/events/types.ts";
import { withMemoryLimit, withProcessArgs } from "../../lib/oci_spec/options.ts";
import { TestContainerd } from "../helpers/containerd.ts";
import {
  BUSYBOX,
  busyboxArchive,
  cleanupDaemon,
  commandLine,
  daemonWithBusybox,
  exists,
  leftovers,
  needsContainers,
  processGone,
  procStat,
  shimPidOf,
  uniqueNamespace,
  waitUntil,
} from "./support.ts";

const ignore = needsContainers("task tests");

Deno.test(
  { name: "tasks: create, start, ps, exec, kill → stopped with 128+n, delete", ignore },
  async () => {
    const namespace = uniqueNamespace();
    const daemon = await daemonWithBusybox(namespace);
    const client = daemon.client(namespace);
    const stop = new AbortController();
    try {
      const events: Envelope[] = [];
      const subscription = await client.events.subscribe(
        [`namespace==${namespace},topic~="^/tasks/"`],
        stop.signal,
      );
      const collecting = (async () => {
        for await (const envelope of subscription) events.push(envelope);
      })();
      await createContainerFromImage(client, {
        id: "app",
        image: BUSYBOX,
        specOptions: [withProcessArgs("sleep", "1000")],
      });
      const { pid } = await client.tasks.create({ containerId: "app" });
      assertEquals((await client.tasks.get("app")).status, "created");
      await client.tasks.start("app");
      const listed = await client.tasks.list();
      assertEquals(listed.map((task) => [task.id, task.pid, task.status]), [[
        "app",
        pid,
        "running",
      ]]);

      // ps axf: daemon → shim → container init.
      const shimPid = shimPidOf(daemon, namespace, "app");
      assertEquals(Number(procStat(shimPid)[1]), daemon.pid);
      assertEquals(Number(procStat(pid)[1]), shimPid);
      const argv = commandLine(shimPid).join(" ");
      assertMatch(
        argv,
        new RegExp(
          `-namespace ${namespace} -id app -address ${daemon.paths.address} -workdir \\S+/app `,
        ),
      );

      // An exec process that is killed by SIGTERM reports 143.
      await client.tasks.exec({
        containerId: "app",
        execId: "sleeper",
        spec: { args: ["sleep", "1000"], cwd: "/", user: { uid: 0, gid: 0 } },
      });
      const execExit = client.tasks.wait("app", "sleeper");
      await client.tasks.start("app", "sleeper");
      const pids = await client.tasks.pids("app");
      assertEquals(pids.length, 2, JSON.stringify(pids));
      await client.tasks.kill("app", 15, { execId: "sleeper" });
      assertEquals((await execExit).exitStatus, 143);
      assertEquals((await client.tasks.deleteProcess("app", "sleeper")).exitStatus, 143);

      // The init is killed with SIGKILL: 137, STOPPED until deleted.
      const exited = client.tasks.wait("app");
      await client.tasks.kill("app", 9);
      assertEquals((await exited).exitStatus, 137);
      const stopped = await client.tasks.get("app");
      assertEquals([stopped.status, stopped.exitStatus], ["stopped", 137]);
      const refused = await assertRejects(() => client.containers.delete("app"), ApiError);
      assertEquals(refused.code, "failed_precondition");
      assertEquals((await client.tasks.delete("app")).exitStatus, 137);
      assert(processGone(pid), "the container's init is gone");
      await waitUntil("the shim exited", () => processGone(shimPid));
      assertEquals(await client.tasks.list(), []);
      assertEquals(leftovers(daemon, namespace, "app"), []);
      await waitUntil(
        "/tasks/delete was published",
        () => events.some((envelope) => envelope.topic === "/tasks/delete"),
      );
      const topics = events.map((envelope) => envelope.topic);
      for (
        const topic of [
          "/tasks/create",
          "/tasks/start",
          "/tasks/exec-added",
          "/tasks/exec-started",
          "/tasks/exit",
          "/tasks/delete",
        ]
      ) {
        assert(topics.includes(topic), `${topic} missing from ${topics.join(" ")}`);
      }
      const initExit = events.find((envelope) =>
        envelope.topic === "/tasks/exit" && envelope.event.id === "app"
      );
      assertEquals(initExit?.event.exitStatus, 137);
      stop.abort();
      await collecting;
    } finally {
      stop.abort();
      client.close();
      await cleanupDaemon(daemon, namespace);
    }
  },
);

Deno.test(
  { name: "tasks: a memory limit OOM-kills with 137 and a /tasks/oom event", ignore },
  async () => {
    const namespace = uniqueNamespace();
    const daemon = await daemonWithBusybox(namespace);
    const client = daemon.client(namespace);
    const stop = new AbortController();
    try {
      const subscription = await client.events.subscribe(['topic=="/tasks/oom"'], stop.signal);
      const oom = subscription.next();
      await createContainerFromImage(client, {
        id: "hog",
        image: BUSYBOX,
        specOptions: [
          withProcessArgs("sh", "-c", "a=xxxxxxxxxxxxxxxx; while true; do a=$a$a; done"),
          withMemoryLimit(24 * 1024 * 1024),
        ],
      });
      await client.tasks.create({ containerId: "hog" });
      const exited = client.tasks.wait("hog");
      await client.tasks.start("hog");
      assertEquals((await exited).exitStatus, 137);
      assert((await client.tasks.get("hog")).oomKilled);
      assertEquals((await oom).value?.event.containerId, "hog");
      await client.tasks.delete("hog");
      assertEquals(leftovers(daemon, namespace, "hog"), []);
    } finally {
      stop.abort();
      client.close();
      await cleanupDaemon(daemon, namespace);
    }
  },
);

Deno.test(
  { name: "tasks: bad input gets clear errors and leaves nothing behind", ignore },
  async () => {
    const namespace = uniqueNamespace();
    const daemon = await daemonWithBusybox(namespace);
    const client = daemon.client(namespace);
    try {
      // Unknown image: nothing created, not even a snapshot.
      const unknown = await assertRejects(
        () => createContainerFromImage(client, { id: "x", image: "docker.io/library/nope:1" }),
        ApiError,
      );
      assertEquals(unknown.code, "not_found");
      assertMatch(unknown.message, /image "docker.io\/library\/nope:1" not found/);
      assertEquals(await client.containers.list(), []);

      // Duplicate container ID: the first one keeps its snapshot.
      await createContainerFromImage(client, {
        id: "dup",
        image: BUSYBOX,
        specOptions: [withProcessArgs("true")],
      });
      const duplicate = await assertRejects(
        () => createContainerFromImage(client, { id: "dup", image: BUSYBOX }),
        ApiError,
      );
      assertEquals(duplicate.code, "already_exists");
      await client.snapshots().stat("dup");

      // A task for a command that does not exist: the runtime's error, no task, no bundle.
      await createContainerFromImage(client, {
        id: "nocmd",
        image: BUSYBOX,
        specOptions: [withProcessArgs("/no/such/command")],
      });
      const failed = await assertRejects(
        () => client.tasks.create({ containerId: "nocmd" }),
        ApiError,
      );
      assertMatch(failed.message, /\/no\/such\/command/);
      assertEquals(await client.tasks.list(), []);
      assertEquals(leftovers(daemon, namespace, "nocmd"), []);

      // A task for a container that does not exist, and a second task for one that does.
      const noContainer = await assertRejects(
        () => client.tasks.create({ containerId: "ghost" }),
        ApiError,
      );
      assertEquals(noContainer.code, "not_found");
      await client.tasks.create({ containerId: "dup" });
      const twice = await assertRejects(
        () => client.tasks.create({ containerId: "dup" }),
        ApiError,
      );
      assertEquals(twice.code, "already_exists");
      await client.tasks.delete("dup");
      assert(!exists(`${daemon.paths.state}/io.containerd.runtime.v2.task/${namespace}/dup`));

      // The daemon is still fine.
      assertEquals((await client.version()).revision, "mini");
    } finally {
      client.close();
      await cleanupDaemon(daemon, namespace);
    }
  },
);

Deno.test(
  { name: "tasks: a container keeps its snapshot through image removal and GC", ignore },
  async () => {
    const namespace = uniqueNamespace();
    const daemon = await daemonWithBusybox(namespace);
    const client = daemon.client(namespace);
    try {
      await createContainerFromImage(client, {
        id: "keep",
        image: BUSYBOX,
        specOptions: [withProcessArgs("sh", "-c", "test -x /bin/busybox && exit 42")],
      });
      await client.images.delete(BUSYBOX, { sync: true });
      await client.content.collectGarbage();
      // The container is a GC root: its active snapshot and the image layers below it stay.
      const snapshot = await client.snapshots().stat("keep");
      await client.snapshots().stat(snapshot.parent);
      await client.tasks.create({ containerId: "keep" });
      const exited = client.tasks.wait("keep");
      await client.tasks.start("keep");
      assertEquals((await exited).exitStatus, 42);
      await client.tasks.delete("keep");
      assertEquals(leftovers(daemon, namespace, "keep"), []);
    } finally {
      client.close();
      await cleanupDaemon(daemon, namespace);
    }
  },
);

Deno.test(
  { name: "tasks: a container from an image not unpacked yet unpacks it first", ignore },
  async () => {
    const namespace = uniqueNamespace();
    const daemon = await TestContainerd.start();
    const client = daemon.client(namespace);
    try {
      const imported = await daemon.ctr([
        "-n",
        namespace,
        "images",
        "import",
        "--no-unpack",
        await busyboxArchive(daemon.paths.base),
      ]);
      assertEquals(imported.code, 0, imported.stderr);
      assertEquals((await client.snapshots().walk()).length, 0);
      await createContainerFromImage(client, {
        id: "fresh",
        image: BUSYBOX,
        specOptions: [withProcessArgs("sh", "-c", "exit 9")],
      });
      const kinds = (await client.snapshots().walk()).map((snapshot) => snapshot.kind).sort();
      assertEquals(kinds, ["Active", "Committed"]);
      await client.tasks.create({ containerId: "fresh" });
      const exited = client.tasks.wait("fresh");
      await client.tasks.start("fresh");
      assertEquals((await exited).exitStatus, 9);
      await client.tasks.delete("fresh");
    } finally {
      client.close();
      await cleanupDaemon(daemon, namespace);
    }
  },
);
