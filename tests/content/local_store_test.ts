// Unit tests of the on-disk content store (lib/content/local_store.ts), without a
// daemon: the ingest layout, resuming from an offset, ref locks, and what a failed
// commit leaves behind.

import { join } from "node:path";
import { assert, assertEquals, assertRejects, assertThrows } from "../helpers/assert.ts";
import { ApiError } from "../../lib/api/errors.ts";
import { sha256Digest, validateDigest } from "../../lib/content/digest.ts";
import { LocalContentStore } from "../../lib/content/local_store.ts";

async function withStore(work: (store: LocalContentStore, root: string) => Promise<void>) {
  const root = await Deno.makeTempDir({ prefix: "mini-content-unit-" });
  try {
    await work(new LocalContentStore(root), root);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

async function readStream(stream: ReadableStream<Uint8Array>): Promise<string> {
  return await new Response(stream).text();
}

async function writeAndCommit(store: LocalContentStore, ref: string, data: string) {
  const writer = await store.openWriter(ref, { total: data.length });
  try {
    await writer.write(new TextEncoder().encode(data));
    const digest = await writer.verify(sha256Digest(data));
    return { digest, outcome: await writer.commit() };
  } finally {
    await writer.release();
  }
}

Deno.test("local store: a commit renames a read-only blob into blobs/sha256 and removes the ingest", async () => {
  await withStore(async (store, root) => {
    const { digest, outcome } = await writeAndCommit(store, "ref-1", "hello blob");
    assertEquals(outcome, "committed");
    const path = join(root, "blobs", "sha256", digest.slice("sha256:".length));
    assertEquals(await Deno.readTextFile(path), "hello blob");
    assertEquals((await Deno.stat(path)).mode! & 0o777, 0o444);
    assertEquals([...Deno.readDirSync(join(root, "ingest"))].length, 0);
    assertEquals(await readStream(await store.openBlob(digest, 6)), "blob");
    assertEquals(await store.listBlobs(), [digest]);
    const again = await writeAndCommit(store, "ref-2", "hello blob");
    assertEquals(again.outcome, "exists");
    assertEquals([...Deno.readDirSync(join(root, "ingest"))].length, 0);
  });
});

Deno.test("local store: an ingest keeps ref, startedat, updatedat, total and data, and resumes", async () => {
  await withStore(async (store) => {
    const first = await store.openWriter("layer", { total: 10 });
    await first.write(new TextEncoder().encode("01234"));
    await first.release();
    const directory = store.ingestPath("layer");
    const names = [...Deno.readDirSync(directory)].map((entry) => entry.name).sort();
    assertEquals(names, ["data", "ref", "startedat", "total", "updatedat"]);
    assertEquals(await Deno.readTextFile(join(directory, "ref")), "layer");
    const status = await store.ingestStatus("layer");
    assertEquals([status?.offset, status?.total], [5, 10]);

    const wrongOffset = await assertRejects(
      () => store.openWriter("layer", { total: 10, offset: 3 }),
      ApiError,
      "is at offset 5",
    );
    assertEquals(wrongOffset.code, "failed_precondition");

    const resumed = await store.openWriter("layer", { total: 10, offset: 5 });
    try {
      await resumed.write(new TextEncoder().encode("56789"));
      // The hash covers the bytes written before the resume: they were re-read.
      assertEquals(await resumed.verify(sha256Digest("0123456789")), sha256Digest("0123456789"));
      assertEquals(await resumed.commit(), "committed");
    } finally {
      await resumed.release();
    }
  });
});

Deno.test("local store: leaving the offset out starts the ingest over", async () => {
  await withStore(async (store) => {
    const first = await store.openWriter("again");
    await first.write(new TextEncoder().encode("garbage garbage"));
    await first.release();
    const { digest, outcome } = await writeAndCommit(store, "again", "fresh");
    assertEquals([digest, outcome], [sha256Digest("fresh"), "committed"]);
  });
});

Deno.test("local store: a second writer on a locked ref is refused until the first is released", async () => {
  await withStore(async (store) => {
    const holder = await store.openWriter("busy");
    const refused = await assertRejects(() => store.openWriter("busy"), ApiError, "is locked");
    assertEquals(refused.code, "unavailable");
    await assertRejects(() => store.abort("busy"), ApiError, "is locked");
    await holder.release();
    const next = await store.openWriter("busy");
    await next.release();
    await store.abort("busy");
    assertEquals(await store.ingestStatus("busy"), undefined);
  });
});

Deno.test("local store: a short write stays resumable, a wrong digest or overflow removes the ingest", async () => {
  await withStore(async (store) => {
    const short = await store.openWriter("short", { total: 8 });
    await short.write(new TextEncoder().encode("1234"));
    await assertRejects(() => short.verify(), ApiError, "unexpected commit size 4, expected 8");
    await short.release();
    assertEquals((await store.ingestStatus("short"))?.offset, 4);

    const wrong = await store.openWriter("wrong");
    await wrong.write(new TextEncoder().encode("not what was announced"));
    await assertRejects(
      () => wrong.verify(sha256Digest("something else")),
      ApiError,
      "unexpected commit digest",
    );
    await wrong.release();
    assertEquals(await store.ingestStatus("wrong"), undefined);

    const overflow = await store.openWriter("overflow", { total: 3 });
    await assertRejects(
      () => overflow.write(new TextEncoder().encode("four")),
      ApiError,
      "more than the expected size 3",
    );
    await overflow.release();
    assertEquals(await store.ingestStatus("overflow"), undefined);
    assertEquals(await store.listBlobs(), []);
  });
});

Deno.test("digests: only sha256 with 64 lowercase hex digits is accepted", () => {
  const good = sha256Digest("x");
  assertEquals(validateDigest(good), good);
  assertThrows(() => validateDigest("md5:d41d8cd98f00b204e9800998ecf8427e"), ApiError, "md5");
  assertThrows(() => validateDigest(good.toUpperCase()), ApiError, "invalid");
  assertThrows(() => validateDigest("sha256:../../etc/passwd"), ApiError, "invalid");
  assertThrows(() => validateDigest(""), ApiError, "required");
  assert(validateDigest(good).startsWith("sha256:"));
});
