// What this teaches: the property that makes layers work: for a container whose root is
// an overlay of `lower` and `upper`, diff(upper) applied onto a copy of `lower` gives the
// very tree the container saw (the merged view), file by file, metadata included. And
// the same diff applied in *overlay form* and stacked as a lower layer gives that tree
// again, through the kernel. The changes exercise every translation: deletions
// (whiteouts), a directory deleted and recreated (opaque), renames, copy-ups of content
// and of metadata only, new hardlinks, symlinks, FIFOs and xattrs.
// Mirrors containerd's snapshotter/diff round trips (core/diff tests with the overlay
// snapshotter) and continuity's fstest.CheckDirectoryEqual.

import { applyLayer, writeDiffToFile } from "../../lib/archive/mod.ts";
import { lsetxattr } from "../../lib/archive/syscalls.ts";
import { mount, unmount } from "../../lib/linux/mount.ts";
import { assert, assertEquals } from "../helpers/assert.ts";
import { missingOverlay, missingRoot, requirements } from "../helpers/requirements.ts";
import { run, snapshotTree, treeDifferences } from "./support.ts";

const ignore = requirements("archive overlay round trip", missingRoot(), missingOverlay());

// The lower layer, built with plain tools so it does not depend on the code under test.
const buildLower = `
set -e
cd "$1"
mkdir -p etc bin tmp data replace/sub links run dev hl movedir/inner deleteme/deep
echo "root:x:0:0::/root:/bin/sh" > etc/passwd
echo "secret" > etc/shadow; chmod 640 etc/shadow; chown 0:42 etc/shadow
echo tool > bin/tool; chmod 4755 bin/tool
echo sgid > bin/sgid; chmod 2755 bin/sgid; chgrp 5 bin/sgid
chmod 1777 tmp
echo keep > data/keep.txt; echo remove > data/remove.txt; echo move > data/move.txt
echo old1 > replace/old1; echo old2 > replace/sub/old2
echo target > links/target.txt; ln -s target.txt links/rel; ln -s /etc/passwd links/abs
mkfifo run/fifo
mknod dev/null c 1 3; chmod 666 dev/null
mknod dev/loop9 b 7 9
echo shared > hl/a; ln hl/a hl/b
echo inner > movedir/inner/file; chown -R 1000:1000 movedir
echo deep > deleteme/deep/file
echo owned > data/owned.txt; chown 1000:1001 data/owned.txt
touch -d @1500000000 etc/passwd bin/tool data/keep.txt
find . -exec touch -h -d @1600000000 {} +
`;

// The container's changes, made through the merged mount.
const changeMerged = `
set -e
cd "$1"
rm data/remove.txt
rm -rf replace; mkdir replace; echo fresh > replace/new; chmod 750 replace
rm -rf deleteme
echo appended >> etc/passwd
chmod 600 etc/shadow
chown 1000:1000 data/keep.txt
mv data/move.txt data/moved.txt
mv movedir moveddir
echo new > data/new.txt
ln -s ../data/new.txt links/new
mkfifo run/newfifo
mkdir -p newhl; echo pair > newhl/x; ln newhl/x newhl/y
mkdir -m 2750 newdir; chgrp 7 newdir
mkdir -p a/b/c; echo deep > a/b/c/file
echo locked > data/locked; chmod 000 data/locked
touch -d @1700000000 data/new.txt
`;

/** Mounts a read-only overlay of `lowerdir` (no upperdir) and snapshots it. */
function snapshotMountedOverlay(lowerdir: string, mergedDir: string) {
  mount("overlay", mergedDir, "overlay", 0, `lowerdir=${lowerdir}`);
  try {
    return snapshotTree(mergedDir, { skipRoot: true });
  } finally {
    unmount(mergedDir);
  }
}

Deno.test({
  name: "diff of an overlay upperdir applied onto the lower equals the merged view",
  ignore,
  fn: async () => {
    const base = await Deno.makeTempDir({ prefix: "mini-archive-roundtrip-" });
    const dirs = ["lower", "upper", "work", "merged", "applied", "overlay-layer", "stacked"];
    for (const dir of dirs) await Deno.mkdir(`${base}/${dir}`);
    const merged = `${base}/merged`;
    let mounted = false;
    try {
      await run("sh", ["-c", buildLower, "sh", `${base}/lower`]);
      lsetxattr(`${base}/lower/data/keep.txt`, "user.origin", new TextEncoder().encode("lower"));

      mount(
        "overlay",
        merged,
        "overlay",
        0,
        `lowerdir=${base}/lower,upperdir=${base}/upper,workdir=${base}/work`,
      );
      mounted = true;
      await run("sh", ["-c", changeMerged, "sh", merged]);
      lsetxattr(`${merged}/data/new.txt`, "user.note", new Uint8Array([0x80, 0x00, 0x7f]));
      const mergedView = snapshotTree(merged, { skipRoot: true });
      unmount(merged);
      mounted = false;

      const result = await writeDiffToFile(`${base}/upper`, `${base}/layer.tar.gz`, {
        compression: "gzip",
      });
      const names = (await run("tar", ["-tzf", `${base}/layer.tar.gz`])).split("\n");
      for (
        const expected of [
          "data/.wh.remove.txt",
          "data/.wh.move.txt",
          ".wh.deleteme",
          ".wh.movedir",
          "replace/.wh..wh..opq",
          "newhl/y",
        ]
      ) {
        assert(names.includes(expected), `the diff contains ${expected}:\n${names.join("\n")}`);
      }

      // OCI form: apply onto a copy of the lower, as an unpacker without overlay would.
      await run("cp", ["-a", `${base}/lower/.`, `${base}/applied`]);
      const applied = await applyLayer(
        `${base}/applied`,
        (await Deno.open(`${base}/layer.tar.gz`)).readable,
        { whiteoutFormat: "oci", allowDevices: true },
      );
      assertEquals(applied.diffId, result.diffId, "apply computes the diff's diffID");
      assertEquals(applied.warnings, []);
      const appliedView = snapshotTree(`${base}/applied`, { skipRoot: true });
      assertEquals(treeDifferences(appliedView, mergedView), []);

      // Overlay form: the diff as a new lower layer on top of the old one.
      await applyLayer(
        `${base}/overlay-layer`,
        (await Deno.open(`${base}/layer.tar.gz`)).readable,
        { whiteoutFormat: "overlay", allowDevices: true },
      );
      const stackedView = snapshotMountedOverlay(
        `${base}/overlay-layer:${base}/lower`,
        `${base}/stacked`,
      );
      assertEquals(treeDifferences(stackedView, mergedView), []);
    } finally {
      if (mounted) unmount(merged);
      await Deno.remove(base, { recursive: true });
    }
  },
});
