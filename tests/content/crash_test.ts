// Crash tests: `kill -9` of mini-containerd in the middle of an ingest. After the
// restart no partial blob may be visible under blobs/, `content active` must show the
// ingest, and the write must be resumable from its offset or redoable from scratch.

import { join } from "node:path";
import { assert, assertEquals, assertMatch } from "../helpers/assert.ts";
import { TestContainerd } from "../helpers/containerd.ts";
import { listNames, pausedBody, pseudoRandomBytes, sha256Digest, waitFor } from "./helpers.ts";

const MiB = 1024 * 1024;

/** Starts a write that stalls after `firstPart`, then kills the daemon with SIGKILL. */
async function crashMidIngest(
  daemon: TestContainerd,
  ref: string,
  data: Uint8Array<ArrayBuffer>,
  firstPart: number,
): Promise<void> {
  const client = daemon.client();
  const body = pausedBody(data.slice(0, firstPart));
  const writing = client.content.write(body.stream, {
    ref,
    expected: sha256Digest(data),
    total: data.length,
  }).then(() => "committed", (error) => error);
  try {
    await waitFor(
      "the first part to reach the ingest",
      async () => (await client.content.status(ref)).offset === firstPart,
    );
    await daemon.kill("SIGKILL");
    const outcome = await writing;
    assert(outcome instanceof Error, `the interrupted write must fail, got ${outcome}`);
  } finally {
    body.fail();
    client.close();
  }
}

Deno.test("crash: kill -9 mid-ingest leaves no partial blob, and the ingest resumes", async () => {
  const daemon = await TestContainerd.start();
  try {
    const contentRoot = join(daemon.paths.root, "io.containerd.content.v1.content");
    const blobs = join(contentRoot, "blobs", "sha256");
    const data = pseudoRandomBytes(4 * MiB + 123, 11);
    const digest = sha256Digest(data);
    await crashMidIngest(daemon, "crash-layer", data, MiB);
    assertEquals(listNames(blobs), [], "no blob before the restart");
    assertEquals(listNames(join(contentRoot, "ingest")).length, 1, "the ingest is on disk");

    await daemon.restart();
    assertEquals(listNames(blobs), [], "no blob after the restart");
    const active = await daemon.ctr(["content", "active"]);
    assertEquals(active.code, 0, active.stderr);
    assertMatch(active.stdout, /^REF\s+SIZE\s+AGE$/m);
    assertMatch(active.stdout, /^crash-layer\s+1\.049MB\s+\S/m);
    assertEquals((await daemon.ctr(["content", "ls", "-q"])).stdout.trim(), "");

    const client = daemon.client();
    try {
      const status = await client.content.status("crash-layer");
      assertEquals([status.offset, status.total, status.expected], [MiB, data.length, digest]);
      const info = await client.content.write(data.slice(status.offset), {
        ref: "crash-layer",
        expected: digest,
        total: data.length,
        offset: status.offset,
      });
      assertEquals([info.digest, info.size], [digest, data.length]);
      assertEquals(await client.content.readAll(digest, data.length), data);
      assertEquals(listNames(blobs), [digest.slice("sha256:".length)]);
      assertEquals((await Deno.stat(join(blobs, listNames(blobs)[0]))).mode! & 0o777, 0o444);
      assertEquals(await client.content.listStatuses(), []);
    } finally {
      client.close();
    }
  } finally {
    await daemon.cleanup();
  }
});

Deno.test("crash: after kill -9 mid-ingest the write can be redone from the start", async () => {
  const daemon = await TestContainerd.start();
  try {
    const data = pseudoRandomBytes(2 * MiB + 5, 12);
    const digest = sha256Digest(data);
    await crashMidIngest(daemon, "redo", data, 512 * 1024);
    await daemon.restart();
    const client = daemon.client();
    try {
      assertEquals((await client.content.status("redo")).offset, 512 * 1024);
      // No offset: the ingest starts over (its old bytes are truncated) and commits.
      const info = await client.content.write(data, {
        ref: "redo",
        expected: digest,
        total: data.length,
      });
      assertEquals(info.digest, digest);
      assertEquals(await client.content.readAll(digest, data.length), data);
      assertEquals(await client.content.listStatuses(), []);
    } finally {
      client.close();
    }
  } finally {
    await daemon.cleanup();
  }
});
