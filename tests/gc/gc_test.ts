// Integration tests of garbage collection and leases against a real daemon: what
// label edges, gc.root, leases and shared namespaces keep, what gets removed from the
// database and from blobs/, and what a crash leaves for the start-up collection.

import { join } from "node:path";
import { assert, assertEquals, assertRejects, assertStringIncludes } from "../helpers/assert.ts";
import { TestContainerd } from "../helpers/containerd.ts";
import { ApiError } from "../../lib/api/errors.ts";
import type { ContainerdClient } from "../../lib/client/client.ts";
import type { ContentClient } from "../../lib/client/content.ts";
import { bytes, listNames, sha256Digest, waitFor } from "../content/helpers.ts";

async function withDaemon(
  work: (daemon: TestContainerd, client: ContainerdClient) => Promise<void>,
) {
  const daemon = await TestContainerd.start();
  const client = daemon.client();
  try {
    await work(daemon, client);
  } finally {
    client.close();
    await daemon.cleanup();
  }
}

function blobsDir(daemon: TestContainerd): string {
  return join(daemon.paths.root, "io.containerd.content.v1.content", "blobs", "sha256");
}

/** Writes a small blob and returns its digest. */
async function put(content: ContentClient, text: string, labels: Record<string, string> = {}) {
  return (await content.write(bytes(text), { ref: `ref-${text}`, labels })).digest;
}

const hexOf = (digest: string) => digest.slice("sha256:".length);

Deno.test("gc: gc.root, label edges and leases keep blobs; the rest is swept from db and disk", async () => {
  await withDaemon(async (daemon, client) => {
    const layer = await put(client.content, "layer");
    const config = await put(client.content, "config", {
      "containerd.io/gc.ref.snapshot.overlayfs": "chain-of-layers",
    });
    const manifest = await put(client.content, "manifest", {
      "containerd.io/gc.ref.content.config": config,
      "containerd.io/gc.ref.content.l.0": layer,
    });
    const index = await put(client.content, "index", {
      "containerd.io/gc.root": "pinned",
      "containerd.io/gc.ref.content.m.0": manifest,
    });
    const orphan = await put(client.content, "orphan");
    const lease = await client.leases.create({ id: "pull" });
    const leased = await put(client.content.withLease(lease.id), "leased");
    assertEquals(await client.leases.listResources("pull"), [{ type: "content", id: leased }]);

    const first = await client.content.collectGarbage();
    assertEquals(first.removed, [{ type: "content", namespace: "default", key: orphan }]);
    assertEquals(first.cleaned, [`content ${orphan}`]);
    assertEquals(
      listNames(blobsDir(daemon)),
      [layer, config, manifest, index, leased].map(hexOf).sort(),
    );

    await client.leases.delete("pull", { sync: true });
    await assertRejects(() => client.content.info(leased), ApiError, "not found");
    assert(!listNames(blobsDir(daemon)).includes(hexOf(leased)), "the lease's blob is gone");

    await client.content.updateLabels(index, { "containerd.io/gc.root": "" }, { merge: true });
    const last = await client.content.collectGarbage();
    assertEquals(
      last.removed.map((node) => node.key).sort(),
      [layer, config, manifest, index].sort(),
    );
    assertEquals(listNames(blobsDir(daemon)), []);
    assertEquals(await client.content.list(), []);
  });
});

Deno.test("gc: a blob shared by two namespaces keeps its file until both records are gone", async () => {
  await withDaemon(async (daemon, client) => {
    const other = daemon.client("other");
    try {
      const digest = await put(client.content, "shared");
      await put(other.content, "shared", { "containerd.io/gc.root": "x" });
      const report = await client.content.collectGarbage();
      assertEquals(report.removed, [{ type: "content", namespace: "default", key: digest }]);
      assertEquals(report.cleaned, [], "the other namespace still records it");
      assertEquals(listNames(blobsDir(daemon)), [hexOf(digest)]);
      await other.content.delete(digest);
      await waitFor(
        "the collection after the delete",
        () => Promise.resolve(listNames(blobsDir(daemon)).length === 0),
      );
    } finally {
      other.close();
    }
  });
});

Deno.test("gc: an expired lease is removed and stops protecting its blobs", async () => {
  await withDaemon(async (_daemon, client) => {
    const expired = await client.leases.create({
      id: "old",
      labels: { "containerd.io/gc.expire": "2000-01-01T00:00:00Z" },
    });
    const live = await client.leases.create({ id: "fresh", expiresInMs: 3_600_000 });
    const stale = await put(client.content.withLease(expired.id), "stale");
    const kept = await put(client.content.withLease(live.id), "kept");
    const report = await client.content.collectGarbage();
    assertEquals(
      report.removed.map((node) => `${node.type} ${node.key}`).sort(),
      [`content ${stale}`, "leases old"].sort(),
    );
    assertEquals((await client.leases.list()).map((lease) => lease.id), ["fresh"]);
    assertEquals((await client.content.info(kept)).digest, kept);
    const badExpiry = await assertRejects(
      () => client.leases.create({ labels: { "containerd.io/gc.expire": "tomorrow" } }),
      ApiError,
    );
    assertEquals(badExpiry.code, "invalid_argument");
  });
});

Deno.test("leases: writes under a lease add the ingest, then the committed blob", async () => {
  await withDaemon(async (daemon, client) => {
    await client.leases.create({ id: "work", labels: { purpose: "test" } });
    const leased = client.content.withLease("work");
    await leased.append(bytes("half"), { ref: "in-progress", total: 8 });
    assertEquals(await client.leases.listResources("work"), [{
      type: "ingests",
      id: "in-progress",
    }]);
    const info = await leased.write(bytes("-way"), { ref: "in-progress", total: 8, offset: 4 });
    assertEquals(await client.leases.listResources("work"), [{ type: "content", id: info.digest }]);

    await client.leases.addResource("work", { type: "snapshots/overlayfs", id: "some-key" });
    await client.leases.deleteResource("work", { type: "content", id: info.digest });
    assertEquals(await client.leases.listResources("work"), [
      { type: "snapshots/overlayfs", id: "some-key" },
    ]);
    const badType = await assertRejects(
      () => client.leases.addResource("work", { type: "containers", id: "x" }),
      ApiError,
    );
    assertStringIncludes(badType.message, 'unsupported lease resource type "containers"');
    const badDigest = await assertRejects(
      () => client.leases.addResource("work", { type: "content", id: "sha256:nope" }),
      ApiError,
    );
    assertEquals(badDigest.code, "invalid_argument");

    const missing = await assertRejects(
      () => client.content.withLease("nope").write(bytes("x"), { ref: "x" }),
      ApiError,
    );
    assertEquals(missing.code, "not_found");
    assertStringIncludes(missing.message, "lease nope not found");
    const duplicate = await assertRejects(() => client.leases.create({ id: "work" }), ApiError);
    assertEquals(duplicate.code, "already_exists");
    assertEquals((await client.leases.list(["labels.purpose==test"])).map((lease) => lease.id), [
      "work",
    ]);

    const other = daemon.client("other");
    try {
      await other.namespaces.create("other");
      assertEquals(await other.leases.list(), [], "leases are per namespace");
      const refused = await assertRejects(() => other.namespaces.delete("default"), ApiError);
      assertStringIncludes(refused.message, "leases");
    } finally {
      other.close();
    }
    // withLease deletes its lease afterwards; what it wrote is then up to the collector.
    const digest = await client.leases.withLease(async (lease) => {
      assertEquals((await client.leases.list([`id==${lease.id}`])).length, 1);
      return await put(client.content.withLease(lease.id), "temporary");
    });
    assertEquals((await client.leases.list()).map((lease) => lease.id), ["work"]);
    await client.content.collectGarbage();
    await assertRejects(() => client.content.info(digest), ApiError, "not found");
  });
});

Deno.test("gc: the start-up collection removes blob files and ingests a crash orphaned", async () => {
  await withDaemon(async (daemon, client) => {
    const kept = await put(client.content, "kept", { "containerd.io/gc.root": "1" });
    await client.content.append(bytes("partial"), { ref: "active" });
    await daemon.kill("SIGKILL");
    // As if the daemon died between rename(2) and the record, and mid-way through an abort.
    const orphanDigest = sha256Digest("orphan");
    await Deno.writeTextFile(join(blobsDir(daemon), hexOf(orphanDigest)), "orphan");
    const ingestRoot = join(daemon.paths.root, "io.containerd.content.v1.content", "ingest");
    await Deno.mkdir(join(ingestRoot, "f".repeat(64)));
    await Deno.writeTextFile(join(ingestRoot, "f".repeat(64), "ref"), "default/abandoned");
    await daemon.restart();
    assertEquals(listNames(blobsDir(daemon)), [hexOf(kept)]);
    assertEquals(listNames(ingestRoot).length, 1, "only the recorded ingest stays");
    const restarted = daemon.client();
    try {
      assertEquals((await restarted.content.status("active")).offset, 7);
    } finally {
      restarted.close();
    }
  });
});
