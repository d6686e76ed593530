// Round trips through the Diff service: change a tree in a snapshot, diff it against its
// parent into a layer blob, apply that blob onto the parent in a fresh snapshot, and the
// two trees must match file by file, metadata included. Also: the upper directories match
// in overlay form (whiteouts as 0/0 devices, opaque xattrs), a diff with
// SOURCE_DATE_EPOCH is reproducible, and `mini-ctr snapshots diff` writes the same blob.

import { join } from "node:path";
import { lgetxattr, lsetxattr } from "../../lib/archive/syscalls.ts";
import type { ContainerdClient } from "../../lib/client/client.ts";
import { createDiff } from "../../lib/diff/create.ts";
import { mkfifo } from "../../lib/linux/files.ts";
import { layerStack } from "../../lib/mount/layers.ts";
import { readonlyMounts } from "../../lib/mount/temp.ts";
import type { Mount } from "../../lib/mount/types.ts";
import { assert, assertEquals, assertNotEquals } from "../helpers/assert.ts";
import { TestContainerd } from "../helpers/containerd.ts";
import { missingOverlay, missingRoot, requirements } from "../helpers/requirements.ts";
import { assertNoMountsUnder, testMountParent, withMounted, writeFiles } from "./helpers.ts";
import { readTree, treeDifferences } from "./tree.ts";

const encoder = new TextEncoder();
const ignore = (name: string) => requirements(name, missingRoot(), missingOverlay());
const at = (seconds: number) => new Date(seconds * 1000);

/** A base tree with every kind of entry and plenty of metadata. */
async function buildBase(root: string): Promise<void> {
  await writeFiles(root, {
    "etc/config": "key=value\n",
    "etc/hosts": "127.0.0.1 localhost\n",
    "bin/tool": "#!/bin/sh\necho tool\n",
    "var/lib/data/one": "1",
    "var/lib/data/two": "2",
    "opt/app/readme": "to be replaced\n",
    "opt/app/sub/deep": "deep\n",
    "home/user/private": "secret\n",
    "links/original": "shared content\n",
  });
  await Deno.writeFile(join(root, "bin/binary"), new Uint8Array(70_000).map((_, i) => i * 7));
  await Deno.writeFile(join(root, "empty"), new Uint8Array());
  await Deno.chmod(join(root, "bin/tool"), 0o4755);
  await Deno.mkdir(join(root, "tmp"));
  await Deno.chmod(join(root, "tmp"), 0o1777);
  await Deno.chown(join(root, "home/user"), 1000, 1000);
  await Deno.chown(join(root, "home/user/private"), 1000, 1000);
  await Deno.chmod(join(root, "home/user/private"), 0o600);
  await Deno.link(join(root, "links/original"), join(root, "links/hardlink"));
  await Deno.symlink("../etc/config", join(root, "links/relative"));
  await Deno.symlink("/etc/hosts", join(root, "links/absolute"));
  mkfifo(join(root, "pipe"), 0o640);
  lsetxattr(join(root, "etc/config"), "user.origin", encoder.encode("base"));
  await stampTimes(root, 1_600_000_000);
}

/** The changes a container might make, through the mounted overlay. */
async function change(root: string): Promise<void> {
  await Deno.writeTextFile(join(root, "etc/config"), "key=changed\n");
  await Deno.chmod(join(root, "etc/hosts"), 0o600);
  await Deno.chown(join(root, "bin/binary"), 33, 33);
  await Deno.remove(join(root, "var/lib/data/one"));
  await Deno.remove(join(root, "home/user"), { recursive: true });
  await Deno.remove(join(root, "opt/app"), { recursive: true });
  await writeFiles(root, { "opt/app/new": "replacement\n", "srv/www/index.html": "<h1>hi</h1>\n" });
  await Deno.rename(join(root, "var/lib/data/two"), join(root, "var/lib/data/three"));
  await Deno.link(join(root, "srv/www/index.html"), join(root, "srv/www/alias.html"));
  await Deno.symlink("www/index.html", join(root, "srv/link"));
  await Deno.remove(join(root, "links/relative"));
  await Deno.symlink("../etc/hosts", join(root, "links/relative"));
  lsetxattr(join(root, "bin/tool"), "user.note", encoder.encode("added in layer two"));
  await Deno.writeTextFile(join(root, "links/hardlink"), "breaks the link\n");
  await stampTimes(root, 1_700_000_000);
}

/** Gives everything under `root` mtimes in whole seconds (as a layer records them). */
async function stampTimes(root: string, seconds: number): Promise<void> {
  const tree = await readTree(root);
  // Children first, so a directory's own time is set after its entries changed.
  for (const path of Object.keys(tree.entries).sort().reverse()) {
    const full = path === "." ? root : join(root, path);
    if (tree.entries[path].type === "symlink") continue;
    await Deno.utime(full, at(seconds), at(seconds));
  }
}

async function roundTrip(client: ContainerdClient, parentKey: string, changedKey: string) {
  const snapshots = client.snapshots();
  const differ = client.diff();
  const layer = await createDiff(snapshots, differ, changedKey, { sourceDateEpoch: 1_800_000_000 });
  const info = await client.content.info(layer.digest);
  const diffId = info.labels["containerd.io/uncompressed"];
  assert(diffId?.startsWith("sha256:"), "the new blob records its diffID");

  const replayKey = `${changedKey}-replay`;
  const mounts = await snapshots.prepare(replayKey, parentKey);
  const applied = await differ.apply(layer, mounts);
  assertEquals(applied.digest, diffId, "apply computes the same diffID the diff recorded");

  const expected = await withMounted(
    readonlyMounts(await snapshots.mounts(changedKey)),
    (root) => readTree(root),
  );
  const actual = await withMounted(readonlyMounts(mounts), (root) => readTree(root));
  assertEquals(treeDifferences(expected, actual), []);
  return { layer, replayKey, mounts };
}

Deno.test({
  name: "roundtrip: diff of a changed tree applied onto its parent gives the same tree",
  ignore: ignore("roundtrip: diff then apply"),
  async fn() {
    const daemon = await TestContainerd.start();
    const client = daemon.client();
    try {
      const snapshots = client.snapshots();
      const baseMounts = await snapshots.prepare("base-active", "");
      await buildBase(layerStack(baseMounts)!.writable!);
      await snapshots.commit("base", "base-active");

      const changed = await snapshots.prepare("changed", "base");
      await withMounted(changed, change);

      const { layer, replayKey, mounts } = await roundTrip(client, "base", "changed");

      // The upper directories agree too, in the kernel's own form.
      const upperTree = (snapshotMounts: Mount[]) =>
        readTree(layerStack(snapshotMounts)!.writable!, {
          xattrPrefixes: ["user.", "trusted.overlay.opaque"],
        });
      const changedUpper = await upperTree(changed);
      const replayUpper = await upperTree(mounts);
      assertEquals(
        Object.keys(replayUpper.entries).sort(),
        Object.keys(changedUpper.entries).sort(),
      );
      const whiteout = replayUpper.entries["var/lib/data/one"];
      assertEquals(whiteout.type, "char", "a deletion is a whiteout device in the upperdir");
      const opaque = replayUpper.entries["opt/app"];
      assertEquals(opaque.xattrs["trusted.overlay.opaque"], "y");
      const replayDirectory = layerStack(mounts)!.writable!;
      assertEquals(
        new TextDecoder().decode(
          lgetxattr(join(replayDirectory, "opt/app"), "trusted.overlay.opaque"),
        ),
        "y",
      );

      // Reproducible: the same tree and epoch give the same digest; another epoch does not.
      const again = await createDiff(snapshots, client.diff(), "changed", {
        sourceDateEpoch: 1_800_000_000,
      });
      assertEquals(again.digest, layer.digest);
      const earlier = await createDiff(snapshots, client.diff(), "changed", {
        sourceDateEpoch: 1_650_000_000,
      });
      assertNotEquals(earlier.digest, layer.digest);

      // The same through mini-ctr (and a committed snapshot diffs through temporary views).
      const viaCtrPair = await daemon.ctr([
        "snapshots",
        "diff",
        "--source-date-epoch=1800000000",
        "base",
        "changed",
      ]);
      assertEquals(viaCtrPair.stdout.trim(), layer.digest, viaCtrPair.stderr);
      // The replayed snapshot gives the same layer once every mtime is clamped: whiteout
      // devices carry the time they were made (deletion vs. apply), which no tree shows.
      const clamped = await createDiff(snapshots, client.diff(), "changed", {
        sourceDateEpoch: 1_500_000_000,
      });
      await snapshots.commit("changed-layer", replayKey);
      const viaCtr = await daemon.ctr([
        "snapshots",
        "diff",
        "--source-date-epoch",
        "1500000000",
        "changed-layer",
      ]);
      assertEquals(viaCtr.code, 0, viaCtr.stderr);
      assertEquals(viaCtr.stdout.trim(), clamped.digest);
      assertEquals(
        (await snapshots.walk()).map((info) => info.name).sort(),
        ["base", "changed", "changed-layer"],
        "the temporary views are gone",
      );
      assertNoMountsUnder(daemon.paths.base);
      assertNoMountsUnder(testMountParent());
    } finally {
      client.close();
      await daemon.cleanup();
    }
  },
});

Deno.test({
  name: "roundtrip: a first layer (no parent) and an uncompressed/zstd media type",
  ignore: ignore("roundtrip: first layer"),
  async fn() {
    const daemon = await TestContainerd.start();
    const client = daemon.client();
    try {
      const snapshots = client.snapshots();
      const first = await snapshots.prepare("first", "");
      await buildBase(layerStack(first)!.writable!);
      const { layer } = await roundTrip(client, "", "first");
      assertEquals(layer.mediaType, "application/vnd.oci.image.layer.v1.tar+gzip");
      for (
        const mediaType of [
          "application/vnd.oci.image.layer.v1.tar",
          "application/vnd.oci.image.layer.v1.tar+zstd",
        ]
      ) {
        const other = await createDiff(snapshots, client.diff(), "first", {
          mediaType,
          sourceDateEpoch: 1_800_000_000,
        });
        assertEquals(other.mediaType, mediaType);
        const info = await client.content.info(other.digest);
        assertEquals(
          info.labels["containerd.io/uncompressed"],
          (await client.content.info(layer.digest)).labels["containerd.io/uncompressed"],
          "same tar, same diffID",
        );
        if (mediaType.endsWith(".tar")) {
          assertEquals(other.digest, info.labels["containerd.io/uncompressed"]);
        }
      }
      assertNoMountsUnder(daemon.paths.base);
      assertNoMountsUnder(testMountParent());
    } finally {
      client.close();
      await daemon.cleanup();
    }
  },
});
