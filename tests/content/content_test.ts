// Integration tests of the Content service against a real mini-containerd: writes,
// reads, labels, filters, namespaces, resumable ingests, locks and bad input.

import { join } from "node:path";
import { assert, assertEquals, assertRejects, assertStringIncludes } from "../helpers/assert.ts";
import { TestContainerd } from "../helpers/containerd.ts";
import { ApiError } from "../../lib/api/errors.ts";
import type { ContainerdClient } from "../../lib/client/client.ts";
import {
  bytes,
  listNames,
  pausedBody,
  pseudoRandomBytes,
  sha256Digest,
  waitFor,
} from "./helpers.ts";

function contentRoot(daemon: TestContainerd): string {
  return join(daemon.paths.root, "io.containerd.content.v1.content");
}

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

Deno.test("content: write, read, info, labels and list filters", async () => {
  await withDaemon(async (daemon, client) => {
    const layer = bytes("layer bytes");
    const layerDigest = sha256Digest(layer);
    const info = await client.content.write(layer, {
      ref: "layer-1",
      expected: layerDigest,
      total: layer.length,
      labels: { env: "prod", "containerd.io/uncompressed": layerDigest },
    });
    assertEquals([info.digest, info.size], [layerDigest, layer.length]);
    assertEquals(await client.content.readAll(layerDigest), layer);
    assertEquals(await new Response(await client.content.read(layerDigest, 6)).text(), "bytes");
    assertEquals((await client.content.info(layerDigest)).labels.env, "prod");

    const config = bytes('{"architecture":"amd64"}');
    const configDigest =
      (await client.content.write(config, { ref: "config", labels: { env: "dev" } }))
        .digest;
    assertEquals(configDigest, sha256Digest(config), "without expected, the digest is computed");

    const digests = async (filters: string[]) =>
      (await client.content.list(filters)).map((blob) => blob.digest);
    assertEquals(await digests(["labels.env==prod"]), [layerDigest]);
    assertEquals((await digests(["labels.env"])).length, 2);
    assertEquals(await digests([`digest==${configDigest}`]), [configDigest]);
    assertEquals((await digests(["labels.env==prod", "labels.env==dev"])).length, 2);
    assertEquals(await digests([`labels.env==prod,size==${layer.length}`]), [layerDigest]);
    assertEquals(await digests(['labels."containerd.io/uncompressed"']), [layerDigest]);
    const badFilter = await assertRejects(() => client.content.list(["labels.env=prod"]), ApiError);
    assertEquals(badFilter.code, "invalid_argument");

    const merged = await client.content.updateLabels(layerDigest, { env: "", team: "storage" }, {
      merge: true,
    });
    assertEquals(merged.labels, { "containerd.io/uncompressed": layerDigest, team: "storage" });
    const replaced = await client.content.updateLabels(layerDigest, { only: "this" });
    assertEquals(replaced.labels, { only: "this" });

    const blobPath = join(contentRoot(daemon), "blobs", "sha256", layerDigest.slice(7));
    assertEquals((await Deno.stat(blobPath)).mode! & 0o777, 0o444, "blobs are read-only");
    assertEquals(listNames(join(contentRoot(daemon), "ingest")), []);
  });
});

Deno.test("content: namespaces see only their own records; shared blobs need no bytes", async () => {
  await withDaemon(async (daemon, client) => {
    const data = pseudoRandomBytes(100_000, 7);
    const digest = sha256Digest(data);
    // gc.root keeps the records alive through the collection that follows the delete below.
    const keep = { "containerd.io/gc.root": "test" };
    await client.content.write(data, { ref: "shared", expected: digest, labels: { owner: "a" } });

    const other = daemon.client("other");
    try {
      const unknown = await assertRejects(() => other.content.info(digest), ApiError);
      assertEquals(unknown.code, "not_found");
      assertStringIncludes(unknown.message, "namespace other not found");
      await other.namespaces.create("other");
      assertEquals(await other.content.list(), []);
      const hidden = await assertRejects(() => other.content.info(digest), ApiError);
      assertEquals(hidden.code, "not_found");

      // containerd's "shared" policy: a verified blob on disk only needs its digest.
      const adopted = await other.content.writeWithResult(new Uint8Array(0), {
        ref: "adopt",
        expected: digest,
        labels: { owner: "b", ...keep },
      });
      assertEquals([adopted.committed, adopted.info?.size], [true, data.length]);
      assertEquals((await other.content.info(digest)).labels, { owner: "b", ...keep });
      assertEquals((await client.content.info(digest)).labels, { owner: "a" });

      await client.content.delete(digest);
      assertEquals(
        (await assertRejects(() => client.content.info(digest), ApiError)).code,
        "not_found",
      );
      await client.content.collectGarbage();
      assertEquals(await other.content.readAll(digest), data, "the other namespace still reads it");

      // Writing a blob the namespace already has returns the existing record, labels merged.
      const again = await other.content.writeWithResult(data, {
        ref: "again",
        expected: digest,
        labels: { extra: "1" },
      });
      assertEquals([again.committed, again.existed], [true, true]);
      assertEquals(again.info?.labels, { owner: "b", ...keep, extra: "1" });
    } finally {
      other.close();
    }
  });
});

Deno.test("content: a write stopped half way resumes from the offset Status reports", async () => {
  await withDaemon(async (daemon, client) => {
    const data = pseudoRandomBytes(3 * 1024 * 1024 + 17, 3);
    const digest = sha256Digest(data);
    const half = 1_500_000;
    const status = await client.content.append(data.slice(0, half), {
      ref: "resumable",
      expected: digest,
      total: data.length,
    });
    assertEquals([status.offset, status.total, status.expected], [half, data.length, digest]);
    assertEquals((await client.content.status("resumable")).offset, half);
    assertEquals((await client.content.listStatuses()).map((active) => active.ref), ["resumable"]);
    assertEquals(listNames(join(contentRoot(daemon), "blobs", "sha256")), []);

    const wrongOffset = await assertRejects(
      () =>
        client.content.write(data.slice(1000), {
          ref: "resumable",
          expected: digest,
          total: data.length,
          offset: 1000,
        }),
      ApiError,
    );
    assertEquals(wrongOffset.code, "failed_precondition");
    assertStringIncludes(wrongOffset.message, `is at offset ${half}`);

    const info = await client.content.write(data.slice(half), {
      ref: "resumable",
      expected: digest,
      total: data.length,
      offset: half,
    });
    assertEquals([info.digest, info.size], [digest, data.length]);
    assertEquals(await client.content.readAll(digest), data);
    assertEquals(
      (await assertRejects(() => client.content.status("resumable"), ApiError)).code,
      "not_found",
    );
    assertEquals(listNames(join(contentRoot(daemon), "ingest")), []);
  });
});

Deno.test("content: a wrong digest leaves nothing; a short write stays resumable until aborted", async () => {
  await withDaemon(async (daemon, client) => {
    const blobs = join(contentRoot(daemon), "blobs", "sha256");
    const ingests = join(contentRoot(daemon), "ingest");
    const wrong = await assertRejects(
      () =>
        client.content.write(bytes("actual"), { ref: "liar", expected: sha256Digest("claimed") }),
      ApiError,
    );
    assertEquals(wrong.code, "failed_precondition");
    assertStringIncludes(wrong.message, "unexpected commit digest");
    assertEquals(listNames(blobs), []);
    assertEquals(listNames(ingests), [], "a wrong-digest ingest is removed");
    assertEquals(await client.content.listStatuses(), []);

    const short = await assertRejects(
      () => client.content.write(bytes("1234"), { ref: "short", total: 10 }),
      ApiError,
    );
    assertStringIncludes(short.message, "unexpected commit size 4, expected 10");
    assertEquals(listNames(blobs), []);
    assertEquals((await client.content.status("short")).offset, 4, "kept for a resume");

    const overflow = await assertRejects(
      () => client.content.write(bytes("way too long"), { ref: "long", total: 3 }),
      ApiError,
    );
    assertStringIncludes(overflow.message, "more than the expected size 3");

    await client.content.abort("short");
    assertEquals(await client.content.listStatuses(), []);
    assertEquals(listNames(ingests), []);
    assertEquals(
      (await assertRejects(() => client.content.abort("short"), ApiError)).code,
      "not_found",
    );
    assertEquals(listNames(blobs), []);
  });
});

Deno.test("content: a second write to a ref in flight is refused as locked", async () => {
  await withDaemon(async (_daemon, client) => {
    const first = bytes("first half, ");
    const second = bytes("second half");
    const body = pausedBody(first, second);
    const writing = client.content.write(body.stream, { ref: "contended" });
    try {
      await waitFor(
        "the first write to reach the daemon",
        async () => (await client.content.status("contended")).offset === first.length,
      );
      const locked = await assertRejects(
        () => client.content.write(bytes("intruder"), { ref: "contended" }),
        ApiError,
      );
      assertEquals(locked.code, "unavailable");
      assertStringIncludes(locked.message, "ref default/contended is locked");
      const abortLocked = await assertRejects(() => client.content.abort("contended"), ApiError);
      assertEquals(abortLocked.code, "unavailable");
    } finally {
      body.release();
    }
    const info = await writing;
    assertEquals(info.digest, sha256Digest("first half, second half"));
  });
});

Deno.test("content: a client that fails mid-body leaves a resumable ingest", async () => {
  await withDaemon(async (_daemon, client) => {
    const body = pausedBody(bytes("0123456789"));
    const writing = client.content.write(body.stream, { ref: "broken", total: 20 });
    await waitFor(
      "the bytes to arrive",
      async () => (await client.content.status("broken")).offset === 10,
    );
    body.fail();
    await assertRejects(() => writing);
    await waitFor("the ref to be unlocked", async () => {
      try {
        await client.content.write(bytes("abcdefghij"), { ref: "broken", total: 20, offset: 10 });
        return true;
      } catch (error) {
        if (error instanceof ApiError && error.code === "unavailable") return false;
        throw error;
      }
    });
    assertEquals(
      await client.content.readAll(sha256Digest("0123456789abcdefghij")),
      bytes("0123456789abcdefghij"),
    );
  });
});

Deno.test("content: bad digests, huge labels and deleted blobs get clear errors", async () => {
  await withDaemon(async (_daemon, client) => {
    const md5 = await assertRejects(
      () => client.content.info("md5:d41d8cd98f00b204e9800998ecf8427e"),
      ApiError,
    );
    assertEquals(md5.code, "invalid_argument");
    assertStringIncludes(md5.message, 'unsupported algorithm "md5"');
    const traversal = await assertRejects(
      () => client.content.info("sha256:../../etc/passwd"),
      ApiError,
    );
    assertEquals(traversal.code, "invalid_argument");
    const badExpected = await assertRejects(
      () => client.content.write(bytes("x"), { ref: "x", expected: "sha256:XYZ" }),
      ApiError,
    );
    assertEquals(badExpected.code, "invalid_argument");
    const noRef = await assertRejects(
      () => client.content.write(bytes("x"), { ref: "" }),
      ApiError,
    );
    assertStringIncludes(noRef.message, "ref is required");

    const huge = "v".repeat(5000);
    const hugeWrite = await assertRejects(
      () => client.content.write(bytes("labelled"), { ref: "huge", labels: { big: huge } }),
      ApiError,
    );
    assertEquals(hugeWrite.code, "invalid_argument");
    assertStringIncludes(hugeWrite.message, "longer than 4096");
    const digest = (await client.content.write(bytes("labelled"), { ref: "huge" })).digest;
    const hugeUpdate = await assertRejects(
      () => client.content.updateLabels(digest, { big: huge }, { merge: true }),
      ApiError,
    );
    assertEquals(hugeUpdate.code, "invalid_argument");
    assertEquals((await client.content.info(digest)).labels, {});

    await client.content.delete(digest);
    assertEquals(
      (await assertRejects(() => client.content.info(digest), ApiError)).code,
      "not_found",
    );
    assertEquals(
      (await assertRejects(() => client.content.delete(digest), ApiError)).code,
      "not_found",
    );
    assertEquals(
      (await assertRejects(() => client.content.read(digest), ApiError)).code,
      "not_found",
    );
    assert((await client.version()).version !== "", "the daemon is still up");
  });
});
