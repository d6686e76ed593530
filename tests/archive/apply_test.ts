// What this teaches: what "applying a layer" must produce, entry kind by entry kind:
// files with exact modes (setuid/setgid/sticky survive chown), owners, mtimes (directories
// dated after their children), symlinks, hardlinks, FIFOs, devices, xattrs; the layer's
// compression found from its bytes; the diffID equal to the sha256 of the tar; and the
// two whiteout forms.
// Mirrors containerd's pkg/archive tests (TestApply*, whiteout tests in tar_test.go).

import { applyLayer, LayerEntryError } from "../../lib/archive/mod.ts";
import type { ApplyOptions } from "../../lib/archive/types.ts";
import { lgetxattr } from "../../lib/archive/syscalls.ts";
import { assert, assertEquals, assertRejects, assertStringIncludes } from "../helpers/assert.ts";
import { missingRoot, requirements } from "../helpers/requirements.ts";
import {
  buildTar,
  gzip,
  sha256,
  snapshotTree,
  streamOf,
  type TestEntry,
  type TreeRecord,
  zstd,
} from "./support.ts";

const oci: ApplyOptions = { whiteoutFormat: "oci", allowDevices: false };
const ignoreUnlessRoot = requirements("archive apply (owners, devices)", missingRoot());

async function withTarget(work: (target: string) => Promise<void>): Promise<void> {
  const target = await Deno.makeTempDir({ prefix: "mini-archive-apply-" });
  try {
    await work(target);
  } finally {
    await Deno.remove(target, { recursive: true });
  }
}

const at = (seconds: number) => new Date(seconds * 1000);

Deno.test({
  name: "every entry kind is applied with its metadata",
  ignore: ignoreUnlessRoot,
  fn: async () => {
    const entries: TestEntry[] = [
      { name: "etc/", type: "directory", mode: 0o755, mtime: at(1_500_000_000) },
      {
        name: "etc/shadow",
        content: "root:*:1::::::\n",
        mode: 0o640,
        uid: 0,
        gid: 42,
        mtime: at(1_500_000_100),
      },
      { name: "bin/", type: "directory", mode: 0o755, mtime: at(1_500_000_200) },
      {
        name: "bin/su",
        content: "binary",
        mode: 0o4755,
        uid: 0,
        gid: 0,
        mtime: at(1_500_000_300),
      },
      { name: "bin/wall", content: "binary2", mode: 0o2755, gid: 5, mtime: at(1_500_000_400) },
      { name: "tmp/", type: "directory", mode: 0o1777, mtime: at(1_500_000_500) },
      {
        name: "srv/",
        type: "directory",
        mode: 0o2770,
        uid: 1000,
        gid: 1000,
        mtime: at(1_500_000_600),
      },
      { name: "srv/data", content: "hello\n", uid: 1000, gid: 1000, mtime: at(1_500_000_700) },
      {
        name: "bin/sh",
        type: "symlink",
        linkname: "busybox",
        uid: 7,
        gid: 8,
        mtime: at(1_500_000_800),
      },
      { name: "bin/busybox", content: "bb", mode: 0o755, mtime: at(1_500_000_900) },
      { name: "bin/ash", type: "link", linkname: "bin/busybox" },
      { name: "run/", type: "directory", mode: 0o755, mtime: at(1_500_001_000) },
      { name: "run/pipe", type: "fifo", mode: 0o620, uid: 3, gid: 4, mtime: at(1_500_001_100) },
      {
        name: "dev/null",
        type: "character-device",
        devmajor: 1,
        devminor: 3,
        mode: 0o666,
        mtime: at(1_500_001_200),
      },
      {
        name: "dev/loop7",
        type: "block-device",
        devmajor: 7,
        devminor: 7,
        mode: 0o660,
        gid: 6,
        mtime: at(1_500_001_300),
      },
      {
        name: "note",
        content: "with xattrs",
        pax: { "SCHILY.xattr.user.comment": "kept", mtime: "1500001400.25" },
      },
    ];
    await withTarget(async (target) => {
      const tar = await buildTar(entries);
      const result = await applyLayer(target, streamOf(tar), {
        whiteoutFormat: "oci",
        allowDevices: true,
      });
      assertEquals(result.diffId, sha256(tar));
      assertEquals(result.size, tar.length);
      assertEquals(result.entries, entries.length);
      const tree = snapshotTree(target, { skipRoot: true });
      const pick = (path: string) => {
        const record = tree.get(path);
        assert(record !== undefined, `${path} exists`);
        return record;
      };
      assertEquals(pick("etc").mtime, 1_500_000_000, "directory mtime set after its children");
      assertEquals(pick("etc").mode, "755");
      assertEquals(
        [pick("etc/shadow").mode, pick("etc/shadow").gid, pick("etc/shadow").mtime],
        ["640", 42, 1_500_000_100],
      );
      assertEquals(pick("bin/su").mode, "4755", "setuid survives");
      assertEquals([pick("bin/wall").mode, pick("bin/wall").gid], ["2755", 5], "setgid survives");
      assertEquals(pick("tmp").mode, "1777", "sticky bit");
      assertEquals([pick("srv").mode, pick("srv").uid, pick("srv").gid], ["2770", 1000, 1000]);
      assertEquals([pick("srv/data").uid, pick("srv/data").gid], [1000, 1000]);
      assertEquals(pick("bin/sh").type, "symlink");
      assertEquals(pick("bin/sh").linkTarget, "busybox");
      assertEquals([pick("bin/sh").uid, pick("bin/sh").gid], [7, 8], "lchown of the link itself");
      assertEquals(pick("bin/sh").mtime, 1_500_000_800, "a symlink's own mtime");
      assertEquals(pick("bin/ash").hardlinkGroup, "bin/ash");
      assertEquals(pick("bin/busybox").hardlinkGroup, "bin/ash");
      assertEquals(pick("run/pipe").type, "fifo");
      assertEquals([pick("run/pipe").mode, pick("run/pipe").uid], ["620", 3]);
      assertEquals([pick("dev/null").type, pick("dev/null").device], ["char", "1:3"]);
      assertEquals(
        [pick("dev/loop7").type, pick("dev/loop7").device, pick("dev/loop7").gid],
        ["block", "7:7", 6],
      );
      assertEquals(pick("dev").mode, "755", "implicit parent directories are 0755");
      assertEquals(pick("note").xattrs, { "user.comment": "6b657074" });
      assertEquals(pick("note").mtime, 1_500_001_400, "PAX mtime");
      const noteInfo = await Deno.lstat(`${target}/note`);
      assertEquals(noteInfo.mtime?.getTime(), 1_500_001_400_250, "PAX sub-second mtime");
    });
  },
});

Deno.test("gzip, zstd and plain layers give the same tree and diffID", async () => {
  const tar = await buildTar([
    { name: "a/", type: "directory", mode: 0o755 },
    { name: "a/file", content: "x".repeat(100_000) },
    { name: "a/link", type: "symlink", linkname: "file" },
  ]);
  const trees: Map<string, TreeRecord>[] = [];
  for (
    const [blob, compression] of [[tar, "none"], [gzip(tar), "gzip"], [zstd(tar), "zstd"]] as const
  ) {
    await withTarget(async (target) => {
      const result = await applyLayer(target, streamOf(blob, 999), { ...oci, sameOwner: false });
      assertEquals(result.compression, compression);
      assertEquals(result.diffId, sha256(tar), `diffID of the ${compression} layer`);
      trees.push(snapshotTree(target, { skipRoot: true }));
    });
  }
  assertEquals(trees[0], trees[1]);
  assertEquals(trees[0], trees[2]);
});

Deno.test("a wrong expected diffID fails the apply", async () => {
  const tar = await buildTar([{ name: "f", content: "data" }]);
  await withTarget(async (target) => {
    await assertRejects(
      () =>
        applyLayer(target, streamOf(gzip(tar)), {
          ...oci,
          sameOwner: false,
          expectedDiffId: sha256(new Uint8Array([1])),
        }),
      Error,
      "diffID mismatch",
    );
  });
});

Deno.test("truncated and unsupported layers are reported", async () => {
  const tar = await buildTar([{ name: "big", content: "y".repeat(50_000) }]);
  await withTarget(async (target) => {
    await assertRejects(
      () => applyLayer(target, streamOf(tar.subarray(0, 20_000)), { ...oci, sameOwner: false }),
      Error,
      "Unexpected end of data",
    );
    const bzip2 = new TextEncoder().encode("BZh91AY&SY");
    await assertRejects(() => applyLayer(target, streamOf(bzip2), oci), Error, "bzip2");
    const badGzip = gzip(tar).slice(0, 200);
    badGzip[100] ^= 0xff;
    await assertRejects(() => applyLayer(target, streamOf(badGzip), { ...oci, sameOwner: false }));
  });
});

Deno.test("OCI whiteouts delete lower files and opaque markers empty directories", async () => {
  await withTarget(async (target) => {
    // The "lower layers": what the target holds before the layer.
    await Deno.mkdir(`${target}/keep/sub`, { recursive: true });
    await Deno.writeTextFile(`${target}/keep/old`, "old");
    await Deno.writeTextFile(`${target}/keep/sub/old`, "old");
    await Deno.writeTextFile(`${target}/gone`, "gone");
    await Deno.mkdir(`${target}/gonedir/deep`, { recursive: true });
    await Deno.writeTextFile(`${target}/gonedir/deep/file`, "x");
    await Deno.mkdir(`${target}/opaque/sub`, { recursive: true });
    await Deno.writeTextFile(`${target}/opaque/lower`, "lower");
    await Deno.writeTextFile(`${target}/opaque/sub/lower`, "lower");
    await Deno.writeTextFile(`${target}/untouched`, "same");

    const tar = await buildTar([
      { name: ".wh.gone", content: "" },
      { name: ".wh.gonedir", content: "" },
      { name: "keep/", type: "directory", mode: 0o755 },
      { name: "keep/.wh.old", content: "" },
      { name: "keep/new", content: "new" },
      { name: "opaque/", type: "directory", mode: 0o755 },
      { name: "opaque/sub/", type: "directory", mode: 0o755 },
      { name: "opaque/sub/before", content: "from this layer" },
      { name: "opaque/.wh..wh..opq", content: "" },
      { name: "opaque/after", content: "from this layer" },
      { name: ".wh..wh.plnk", type: "directory" },
    ]);
    const result = await applyLayer(target, streamOf(tar), { ...oci, sameOwner: false });
    assertEquals(result.warnings, []);
    const paths = [...snapshotTree(target).keys()].sort();
    assertEquals(paths, [
      ".",
      "keep",
      "keep/new",
      "keep/sub",
      "keep/sub/old",
      "opaque",
      "opaque/after",
      "opaque/sub",
      "opaque/sub/before",
      "untouched",
    ]);
  });
});

Deno.test({
  name: "overlay-form whiteouts are 0/0 devices and an opaque xattr",
  ignore: ignoreUnlessRoot,
  fn: async () => {
    await withTarget(async (target) => {
      const tar = await buildTar([
        { name: ".wh.gone", content: "" },
        { name: "dir/", type: "directory", mode: 0o755 },
        { name: "dir/.wh..wh..opq", content: "" },
        { name: "dir/.wh.sub", content: "" },
        { name: "dir/new", content: "new" },
      ]);
      // allowDevices is off: the whiteout devices are the applier's own doing.
      await applyLayer(target, streamOf(tar), { whiteoutFormat: "overlay", allowDevices: false });
      const tree = snapshotTree(target, { ignoreXattrPrefixes: [] });
      assertEquals(tree.get("gone")?.type, "char");
      assertEquals(tree.get("gone")?.device, "0:0");
      assertEquals(tree.get("dir/sub")?.device, "0:0");
      assertEquals(tree.get("dir/new")?.type, "file");
      assertEquals(
        new TextDecoder().decode(lgetxattr(`${target}/dir`, "trusted.overlay.opaque")),
        "y",
      );
      assert(!tree.has("dir/.wh..wh..opq"), "the marker itself is not written");
    });
  },
});

Deno.test("later entries replace earlier ones of another kind", async () => {
  await withTarget(async (target) => {
    await Deno.mkdir(`${target}/was-dir/child`, { recursive: true });
    await Deno.writeTextFile(`${target}/was-file`, "file");
    await Deno.mkdir(`${target}/stays-dir`);
    await Deno.writeTextFile(`${target}/stays-dir/lower`, "lower");
    const tar = await buildTar([
      { name: "was-dir", content: "now a file" },
      { name: "was-file/", type: "directory", mode: 0o700 },
      { name: "stays-dir/", type: "directory", mode: 0o711 },
      { name: "twice", content: "first" },
      { name: "twice", content: "second" },
    ]);
    await applyLayer(target, streamOf(tar), { ...oci, sameOwner: false });
    assertEquals(await Deno.readTextFile(`${target}/was-dir`), "now a file");
    assert((await Deno.lstat(`${target}/was-file`)).isDirectory);
    assertEquals(await Deno.readTextFile(`${target}/stays-dir/lower`), "lower", "dirs merge");
    assertEquals((await Deno.lstat(`${target}/stays-dir`)).mode! & 0o7777, 0o711);
    assertEquals(await Deno.readTextFile(`${target}/twice`), "second");
  });
});

Deno.test("a hardlink to a missing file names the entry", async () => {
  await withTarget(async (target) => {
    const tar = await buildTar([{ name: "dir/link", type: "link", linkname: "dir/nothing" }]);
    const error = await assertRejects(
      () => applyLayer(target, streamOf(tar), { ...oci, sameOwner: false }),
      LayerEntryError,
    );
    assertStringIncludes(error.message, '"dir/link"');
    assertStringIncludes(error.message, "does not exist");
  });
});

Deno.test("a whiteout never removes what the same layer wrote, in either order", async () => {
  for (const whiteoutFirst of [true, false]) {
    await withTarget(async (target) => {
      await Deno.mkdir(`${target}/var/cache`, { recursive: true });
      await Deno.writeTextFile(`${target}/var/cache/lower`, "lower");
      await Deno.writeTextFile(`${target}/var/file`, "lower");
      const whiteouts: TestEntry[] = [
        { name: "var/.wh.cache", content: "" },
        { name: "var/.wh.file", content: "" },
      ];
      const recreated: TestEntry[] = [
        { name: "var/cache/", type: "directory", mode: 0o755 },
        { name: "var/cache/new", content: "new" },
        { name: "var/file", content: "new" },
      ];
      const tar = await buildTar(
        whiteoutFirst ? [...whiteouts, ...recreated] : [...recreated, ...whiteouts],
      );
      await applyLayer(target, streamOf(tar), { ...oci, sameOwner: false });
      const paths = [...snapshotTree(target).keys()].sort();
      assertEquals(paths, [".", "var", "var/cache", "var/cache/new", "var/file"]);
      assertEquals(await Deno.readTextFile(`${target}/var/file`), "new");
    });
  }
});
