// Integration tests of `mini-ctr content ...` and `mini-ctr leases ...` against a real
// daemon: ctr's table columns, stdin ingest, stdout get, labels, prune and errors.

import { assert, assertEquals, assertMatch, assertStringIncludes } from "../helpers/assert.ts";
import { TestContainerd } from "../helpers/containerd.ts";
import { bytes, sha256Digest } from "./helpers.ts";

Deno.test("mini-ctr content: ingest, ls, get, label, active, prune, rm", async () => {
  const daemon = await TestContainerd.start();
  const client = daemon.client();
  try {
    const data = bytes("hello world");
    const digest = sha256Digest(data);
    const ingest = await daemon.ctr(
      ["content", "ingest", "--expected-digest", digest, "--expected-size", "11", "greeting"],
      { stdin: data },
    );
    assertEquals(ingest.code, 0, ingest.stderr);

    const listing = await daemon.ctr(["content", "ls"]);
    assertEquals(
      listing.stdout.split("\n")[0].replace(/\s+/g, " ").trim(),
      "DIGEST SIZE AGE LABELS",
    );
    assertMatch(
      listing.stdout,
      new RegExp(`^${digest} +11B +(Less than a second|\\d+ seconds?) +-$`, "m"),
    );
    assertEquals((await daemon.ctr(["content", "ls", "-q"])).stdout.trim(), digest);

    const get = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        "--quiet",
        "cmd/mini_ctr.ts",
        "-a",
        daemon.paths.address,
        "content",
        "get",
        digest,
      ],
      cwd: new URL("../../", import.meta.url).pathname,
      stdout: "piped",
    }).output();
    assertEquals(get.stdout, data);

    assertEquals((await daemon.ctr(["content", "label", digest, "b=2", "a=1"])).code, 0);
    assertMatch(
      (await daemon.ctr(["content", "ls"])).stdout,
      new RegExp(`^${digest} .* a=1,b=2$`, "m"),
    );
    assertEquals((await daemon.ctr(["content", "ls", "-q", "labels.b==2"])).stdout.trim(), digest);
    assertEquals((await daemon.ctr(["content", "ls", "-q", "labels.b==3"])).stdout.trim(), "");
    assertEquals((await daemon.ctr(["content", "label", digest, "b="])).code, 0);
    assertEquals((await client.content.info(digest)).labels, { a: "1" });

    const liar = await daemon.ctr(
      ["content", "ingest", "--expected-digest", sha256Digest("other"), "liar"],
      { stdin: data },
    );
    assertEquals(liar.code, 1);
    assertStringIncludes(liar.stderr, "unexpected commit digest");

    await client.content.append(bytes("12345"), { ref: "half-done", total: 10 });
    const active = await daemon.ctr(["content", "active"]);
    assertEquals(active.stdout.split("\n")[0].replace(/\s+/g, " ").trim(), "REF SIZE AGE");
    assertMatch(active.stdout, /^half-done +5B +\S/m);

    // Nothing references the blob (no image, lease or gc.root): prune removes it.
    const prune = await daemon.ctr(["content", "prune"]);
    assertEquals(prune.code, 0, prune.stderr);
    assertStringIncludes(prune.stdout, `removed content ${digest} (namespace default)`);
    assertStringIncludes(prune.stdout, `deleted content ${digest}`);
    assertEquals((await daemon.ctr(["content", "ls", "-q"])).stdout.trim(), "");
    assertMatch(
      (await daemon.ctr(["content", "active"])).stdout,
      /^half-done /m,
      "ingests survive",
    );

    await client.content.write(data, { ref: "again", labels: { "containerd.io/gc.root": "x" } });
    assertEquals((await daemon.ctr(["content", "rm", digest])).code, 0);
    assertEquals((await daemon.ctr(["content", "ls", "-q"])).stdout.trim(), "");
    const missing = await daemon.ctr(["content", "rm", digest]);
    assertEquals(missing.code, 1);
    assertStringIncludes(missing.stderr, "not found");
    const noDigest = await daemon.ctr(["content", "get"]);
    assertEquals(noDigest.code, 1);
    assertStringIncludes(noDigest.stderr, "a digest must be provided");
  } finally {
    client.close();
    await daemon.cleanup();
  }
});

Deno.test("mini-ctr leases: create, ls, rm", async () => {
  const daemon = await TestContainerd.start();
  try {
    const created = await daemon.ctr(["leases", "create", "--id", "pull-1", "team=images"]);
    assertEquals([created.code, created.stdout.trim()], [0, "pull-1"], created.stderr);
    const generated = await daemon.ctr(["leases", "create", "--expires", "0"]);
    assertEquals(generated.code, 0, generated.stderr);
    const generatedId = generated.stdout.trim();
    assertMatch(generatedId, /^\d+-[0-9a-f]{12}$/);

    const listing = await daemon.ctr(["leases", "ls"]);
    assertEquals(listing.stdout.split("\n")[0].replace(/\s+/g, " ").trim(), "ID CREATED AT LABELS");
    assertMatch(
      listing.stdout,
      /^pull-1 +\S+Z +containerd\.io\/gc\.expire=\S+,team=images$|^pull-1 +\S+Z +team=images,containerd\.io\/gc\.expire=\S+$/m,
    );
    assertMatch(listing.stdout, new RegExp(`^${generatedId} +\\S+Z +-$`, "m"));
    const quiet = (await daemon.ctr(["leases", "ls", "-q"])).stdout.trim().split("\n").sort();
    assertEquals(quiet, [generatedId, "pull-1"].sort());

    const removed = await daemon.ctr(["leases", "rm", "--sync", "pull-1", generatedId]);
    assertEquals([removed.code, removed.stdout.trim()], [0, `pull-1\n${generatedId}`]);
    const again = await daemon.ctr(["leases", "rm", "pull-1"]);
    assertEquals(again.code, 1);
    assertStringIncludes(again.stderr, "lease pull-1 not found");
    const badDuration = await daemon.ctr(["leases", "create", "--expires", "soon"]);
    assertEquals(badDuration.code, 1);
    assertStringIncludes(badDuration.stderr, 'invalid duration "soon"');
    assert((await daemon.ctr(["leases", "ls", "-q"])).stdout.trim() === "");
  } finally {
    await daemon.cleanup();
  }
});
