// What this teaches: a layer's digest is its identity, so a diff must be reproducible:
// the same tree must give the same bytes, whatever the inode numbers, the order the file
// system lists names in, or the day it is built. Sorting the walk and clamping mtimes to
// SOURCE_DATE_EPOCH give that; gzip with a zero header mtime keeps it after compression.
// The reported digest and diffID must also be the real sha256 of what was written.
// Mirrors BuildKit's/containerd's reproducible-layer support (SOURCE_DATE_EPOCH,
// rewrite-timestamp) and core/diff's digest reporting.

import { gunzipSync, zstdDecompressSync } from "node:zlib";
import { diffLayer, writeDiffToFile } from "../../lib/archive/mod.ts";
import type { DiffOptions } from "../../lib/archive/types.ts";
import { MediaTypes } from "../../lib/images/media_types.ts";
import { assert, assertEquals, assertNotEquals } from "../helpers/assert.ts";
import { readAll, run, sha256 } from "./support.ts";

async function makeTree(root: string): Promise<void> {
  await Deno.mkdir(`${root}/b/deep`, { recursive: true });
  await Deno.mkdir(`${root}/a`);
  // Created in an order unlike the sorted one, so directory listing order differs.
  for (const name of ["zeta", "alpha", "Mid", "beta.txt", "beta"]) {
    await Deno.writeTextFile(`${root}/a/${name}`, `content of ${name}\n`.repeat(50));
  }
  await Deno.writeTextFile(`${root}/b/deep/file`, "deep\n");
  await Deno.link(`${root}/b/deep/file`, `${root}/b/hardlink`);
  await Deno.symlink("../a/alpha", `${root}/b/link`);
  await Deno.chmod(`${root}/a/zeta`, 0o751);
}

async function withTempDir(work: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "mini-archive-diff-" });
  try {
    await work(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const epoch = 1_600_000_000;

for (const compression of ["gzip", "zstd", "none"] as const) {
  Deno.test(`${compression} diffs of the same tree are identical with sourceDateEpoch`, async () => {
    await withTempDir(async (base) => {
      const options: DiffOptions = { compression, sourceDateEpoch: epoch };
      await makeTree(`${base}/one`);
      const first = await writeDiffToFile(`${base}/one`, `${base}/first`, options);
      // A copy has other inodes and another listing order; its mtimes are "now".
      await run("cp", ["-r", "--preserve=mode,links", `${base}/one`, `${base}/two`]);
      const second = await writeDiffToFile(`${base}/two`, `${base}/second`, options);
      assertEquals(second, first);
      assertEquals(await Deno.readFile(`${base}/second`), await Deno.readFile(`${base}/first`));

      // Without clamping, the copy's newer mtimes change the layer.
      const unclamped = await writeDiffToFile(`${base}/two`, `${base}/third`, { compression });
      assertNotEquals(unclamped.diffId, first.diffId);
    });
  });
}

Deno.test("the reported digest, diffID, sizes and media type are those of the bytes", async () => {
  await withTempDir(async (base) => {
    await makeTree(`${base}/tree`);
    for (const compression of ["gzip", "zstd"] as const) {
      const { stream, result } = diffLayer(`${base}/tree`, { compression });
      const blob = await readAll(stream);
      const tar = new Uint8Array(
        compression === "gzip" ? gunzipSync(blob) : zstdDecompressSync(blob),
      );
      const reported = await result;
      assertEquals(reported.digest, sha256(blob));
      assertEquals(reported.diffId, sha256(tar));
      assertEquals(reported.size, blob.length);
      assertEquals(reported.uncompressedSize, tar.length);
      assertEquals(
        reported.mediaType,
        compression === "gzip" ? MediaTypes.ociLayerGzip : MediaTypes.ociLayerZstd,
      );
      // 2 dirs + 1 subdir + 5 files + file + hardlink + symlink
      assertEquals(reported.entries, 11);
    }
  });
});

Deno.test("entries are in sorted walk order, hardlinks point at the first name", async () => {
  await withTempDir(async (base) => {
    await makeTree(`${base}/tree`);
    await writeDiffToFile(`${base}/tree`, `${base}/layer.tar`, { compression: "none" });
    const listing = (await run("tar", ["-tvf", `${base}/layer.tar`])).trim().split("\n");
    const names = listing.map((line) => line.split(/\s+/).slice(5).join(" "));
    assertEquals(names, [
      "a/",
      "a/Mid",
      "a/alpha",
      "a/beta",
      "a/beta.txt",
      "a/zeta",
      "b/",
      "b/deep/",
      "b/deep/file",
      "b/hardlink link to b/deep/file",
      "b/link -> ../a/alpha",
    ]);
    assert(listing[5].startsWith("-rwxr-x--x"), `mode kept: ${listing[5]}`);
  });
});

Deno.test("cancelling the diff stream rejects the result instead of hanging", async () => {
  await withTempDir(async (base) => {
    await makeTree(`${base}/tree`);
    const { stream, result } = diffLayer(`${base}/tree`, { compression: "none" });
    const reader = stream.getReader();
    await reader.read();
    await reader.cancel();
    let failed = false;
    await result.catch(() => failed = true);
    assert(failed, "result rejects after a cancel");
  });
});
