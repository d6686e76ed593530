// The Containers service against a real mini-containerd: records with image, snapshot
// key, spec, runtime and labels; duplicates and bad specs refused with clear errors;
// events on every change; a container with a task cannot be deleted.

import { assert, assertEquals, assertMatch, assertRejects } from "../helpers/assert.ts";
import { TestContainerd } from "../helpers/containerd.ts";
import { ApiError } from "../../lib/api/errors.ts";
import { generateSpec, withProcessArgs } from "../../lib/oci_spec/options.ts";
import { DEFAULT_RUNTIME_NAME } from "../../lib/containers/types.ts";
import type { Envelope } from "../../lib/events/types.ts";
import { uniqueNamespace, waitUntil } from "./support.ts";
import { MetadataDb } from "../../lib/metadata/db.ts";
import { NamespaceStore } from "../../lib/metadata/namespaces.ts";
import { containersGcSource, ContainerStore } from "../../lib/containers/mod.ts";

Deno.test("containers: create, get, list with filters, label, delete, with events", async () => {
  const daemon = await TestContainerd.start();
  const namespace = uniqueNamespace("c");
  const client = daemon.client(namespace);
  const stop = new AbortController();
  try {
    const events: Envelope[] = [];
    const subscription = await client.events.subscribe(
      [`namespace==${namespace},topic~="^/containers/"`],
      stop.signal,
    );
    const collecting = (async () => {
      for await (const envelope of subscription) events.push(envelope);
    })();
    const spec = generateSpec({ namespace, id: "web" }, withProcessArgs("sleep", "1"));
    const created = await client.containers.create({
      id: "web",
      image: "docker.io/library/busybox:latest",
      runtime: { name: DEFAULT_RUNTIME_NAME, options: { binaryName: "runc" } },
      spec,
      snapshotter: "overlayfs",
      snapshotKey: "web",
      labels: { tier: "front" },
    });
    assertEquals(created.id, "web");
    assertEquals(created.spec.linux?.cgroupsPath, `/${namespace}/web`);
    assertEquals(created.runtime.options?.binaryName, "runc");
    await client.containers.create({ id: "db", spec, runtime: { name: DEFAULT_RUNTIME_NAME } });
    assertEquals((await client.containers.list()).map((container) => container.id), ["db", "web"]);
    assertEquals(
      (await client.containers.list(["labels.tier==front"])).map((container) => container.id),
      ["web"],
    );
    assertEquals(
      (await client.containers.list([`runtime.name==${DEFAULT_RUNTIME_NAME},image~=busybox`]))
        .map((container) => container.id),
      ["web"],
    );
    const labelled = await client.containers.update(
      { id: "web", labels: { owner: "lab" } },
      ["labels.owner"],
    );
    assertEquals(labelled.labels, { tier: "front", owner: "lab" });
    // Another namespace sees none of it.
    const other = daemon.client(uniqueNamespace("o"));
    assertEquals(await other.containers.list(), []);
    other.close();

    const duplicate = await assertRejects(
      () => client.containers.create({ id: "web", spec, runtime: { name: DEFAULT_RUNTIME_NAME } }),
      ApiError,
    );
    assertEquals(duplicate.code, "already_exists");
    const badSpec = await assertRejects(
      () =>
        client.containers.create({
          id: "bad",
          runtime: { name: DEFAULT_RUNTIME_NAME },
          spec: { ...spec, linux: { namespaces: [{ type: "netwrok" }] } },
        }),
      ApiError,
    );
    assertEquals(badSpec.code, "invalid_argument");
    assertMatch(badSpec.message, /linux\.namespaces\[0\]\.type "netwrok" is not a namespace type/);
    const badId = await assertRejects(
      () =>
        client.containers.create({ id: "no/slash", spec, runtime: { name: DEFAULT_RUNTIME_NAME } }),
      ApiError,
    );
    assertEquals(badId.code, "invalid_argument");
    const immutable = await assertRejects(
      () => client.containers.update({ id: "web" }, ["runtime"]),
      ApiError,
    );
    assertEquals(immutable.code, "invalid_argument");
    assertEquals((await client.containers.list()).length, 2, "refused creates left nothing");

    await client.containers.delete("web");
    await client.containers.delete("db");
    const missing = await assertRejects(() => client.containers.get("web"), ApiError);
    assertEquals(missing.code, "not_found");
    // Every change announced, nothing for the refused ones.
    await waitUntil("five container events", () => events.length >= 5);
    assertEquals(events.map((envelope) => envelope.topic), [
      "/containers/create",
      "/containers/create",
      "/containers/update",
      "/containers/delete",
      "/containers/delete",
    ]);
    assertEquals(events[0].event.id, "web");
    stop.abort();
    await collecting;
    assert(events.every((envelope) => envelope.namespace === namespace));
  } finally {
    stop.abort();
    client.close();
    await daemon.cleanup();
  }
});

Deno.test("containers: mini-ctr containers create/ls/info/label/rm", async () => {
  const daemon = await TestContainerd.start();
  const namespace = uniqueNamespace("c");
  const rootfs = await Deno.makeTempDir({ prefix: "mini-ctr-rootfs-" });
  try {
    const ctr = (...args: string[]) => daemon.ctr(["-n", namespace, ...args]);
    const created = await ctr(
      "containers",
      "create",
      "--rootfs",
      "--env",
      "A=1",
      rootfs,
      "box",
      "sh",
    );
    assertEquals(created.code, 0, created.stderr);
    const listed = await ctr("containers", "ls");
    assertEquals(listed.stdout.split("\n")[0].trim(), "CONTAINER IMAGE RUNTIME");
    assertMatch(listed.stdout, /^box\s+-\s+io\.containerd\.runc\.v2$/m);
    const info = JSON.parse((await ctr("containers", "info", "box")).stdout);
    assertEquals(info.spec.root.path, await Deno.realPath(rootfs));
    assert(info.spec.process.env.includes("A=1"), JSON.stringify(info.spec.process.env));
    assertEquals(info.spec.process.args, ["sh"]);
    assertEquals((await ctr("containers", "label", "box", "team=lab")).stdout.trim(), "team=lab");
    const duplicate = await ctr("containers", "create", "--rootfs", rootfs, "box", "sh");
    assertEquals(duplicate.code, 1);
    assertMatch(duplicate.stderr, /container "box" already exists/);
    assertEquals((await ctr("containers", "rm", "box")).code, 0);
    assertEquals((await ctr("containers", "ls", "-q")).stdout.trim(), "");
  } finally {
    await Deno.remove(rootfs, { recursive: true });
    await daemon.cleanup();
  }
});

Deno.test("containers: each record is a GC root for its snapshot and its gc.ref labels", async () => {
  const directory = await Deno.makeTempDir({ prefix: "mini-containers-gc-" });
  const db = new MetadataDb(`${directory}/meta.db`);
  try {
    const store = new ContainerStore(db, new NamespaceStore(db));
    const spec = generateSpec({ namespace: "a", id: "web" }, withProcessArgs("true"));
    store.create("a", {
      id: "web",
      spec,
      runtime: { name: DEFAULT_RUNTIME_NAME },
      snapshotter: "overlayfs",
      snapshotKey: "web-key",
      labels: { "containerd.io/gc.ref.content.extra": "sha256:" + "ab".repeat(32) },
    });
    store.create("b", { id: "bare", spec, runtime: { name: DEFAULT_RUNTIME_NAME } });
    const roots = containersGcSource(store).roots();
    assertEquals(roots, [
      { type: "snapshots/overlayfs", namespace: "a", key: "web-key" },
      { type: "content", namespace: "a", key: "sha256:" + "ab".repeat(32) },
    ]);
    // The store's table is namespaced, so a namespace with containers cannot be deleted.
    assert(db.namespacedTables().includes("containers"));
  } finally {
    db.close();
    await Deno.remove(directory, { recursive: true });
  }
});
