// Unpacking real images into snapshots: busybox plus one layer each, two images sharing
// their base (one snapshot for the shared chainID), labels that tie blobs and snapshots
// into garbage collection, refusal of a layer that does not match its diffID, and
// `mini-ctr images mount` / `unmount` on the result.

import { join } from "node:path";
import { ApiError } from "../../lib/api/errors.ts";
import { chainIds } from "../../lib/images/identity.ts";
import { unpackImage } from "../../lib/unpack/mod.ts";
import { assert, assertEquals, assertMatch, assertRejects } from "../helpers/assert.ts";
import { TestContainerd } from "../helpers/containerd.ts";
import { missingOverlay, missingRoot, missingTool, requirements } from "../helpers/requirements.ts";
import {
  assertNoMountsUnder,
  listNames,
  readOptional,
  testMountParent,
  withMounted,
} from "../snapshots/helpers.ts";
import { busyboxLayer, layerOf, pushImage, rawLayer } from "./image_builder.ts";

const ignore = (name: string) =>
  requirements(name, missingRoot(), missingOverlay(), missingTool("busybox"));

Deno.test({
  name: "unpack: two images on one busybox base share the base snapshot",
  ignore: ignore("unpack: shared base"),
  async fn() {
    const daemon = await TestContainerd.start();
    const client = daemon.client();
    try {
      const base = await busyboxLayer();
      const layerA = await layerOf({
        "a/hello": "from a\n",
        "etc/motd": "image a\n",
        "bin/.wh.ls": "",
      });
      const layerB = await layerOf({ "b/hello": "from b\n" });
      const imageA = await pushImage(client, "example.com/a:1", [base, layerA]);
      const imageB = await pushImage(client, "example.com/b:1", [base, layerB]);

      const resultA = await unpackImage(client, imageA.name, { platform: "linux/amd64" });
      const chainA = chainIds(imageA.diffIds);
      assertEquals(resultA, {
        chainId: chainA[1],
        platform: "linux/amd64",
        config: imageA.config.digest,
      });
      const resultB = await unpackImage(client, imageB.name);
      const chainB = chainIds(imageB.diffIds);
      assertEquals(chainA[0], chainB[0], "same first layer, same chainID");

      const snapshots = client.snapshots();
      const all = await snapshots.walk();
      assertEquals(all.map((info) => info.name).sort(), [chainA[0], chainA[1], chainB[1]].sort());
      assert(all.every((info) => info.kind === "Committed"), "no extract-* snapshot left behind");
      assertEquals((await snapshots.stat(chainA[1])).parent, chainA[0]);
      assertEquals((await snapshots.stat(resultB.chainId)).parent, chainB[0]);

      // Labels: the config points at the top snapshot, layer blobs carry their diffID.
      const configInfo = await client.content.info(imageA.config.digest);
      assertEquals(configInfo.labels["containerd.io/gc.ref.snapshot.overlayfs"], chainA[1]);
      for (const [index, layer] of imageA.layers.entries()) {
        const info = await client.content.info(layer.digest);
        assertEquals(info.labels["containerd.io/uncompressed"], imageA.diffIds[index]);
      }

      // The rootfs: busybox from the base, a's files on top, /bin/ls whited out.
      const view = await snapshots.view("look-a", resultA.chainId);
      await withMounted(view, async (root) => {
        assert((await Deno.stat(join(root, "bin/busybox"))).isFile);
        assertEquals(await Deno.readTextFile(join(root, "a/hello")), "from a\n");
        assertEquals(await readOptional(join(root, "bin/ls")), undefined, "whiteout applied");
        assert(
          (await Deno.lstat(join(root, "bin/cat"))).isFile ||
            (await Deno.lstat(join(root, "bin/cat"))).isSymlink,
        );
        assertEquals(await readOptional(join(root, "b/hello")), undefined);
      });
      await snapshots.remove("look-a");

      // Unpacking again finds every layer and creates nothing.
      await unpackImage(client, imageA.name);
      assertEquals((await snapshots.walk()).length, 3);

      // GC: removing image a frees only its own top snapshot; removing b frees the rest.
      await client.images.delete(imageA.name, { sync: true });
      assertEquals(
        (await snapshots.walk()).map((info) => info.name).sort(),
        [chainB[0], chainB[1]].sort(),
      );
      await client.images.delete(imageB.name, { sync: true });
      assertEquals(await snapshots.walk(), []);
      assertNoMountsUnder(daemon.paths.base);
      assertNoMountsUnder(testMountParent());
    } finally {
      client.close();
      await daemon.cleanup();
    }
  },
});

Deno.test({
  name: "unpack: a layer that does not hash to the config's diffID is refused",
  ignore: ignore("unpack: diffID mismatch"),
  async fn() {
    const daemon = await TestContainerd.start();
    const client = daemon.client();
    try {
      const base = await layerOf({ "etc/base": "base\n" });
      const real = await layerOf({ "etc/real": "real\n" });
      const claimed = await layerOf({ "etc/claimed": "claimed\n" });
      const image = await pushImage(client, "example.com/liar:1", [base, real], {
        diffIds: [base.diffId, claimed.diffId],
      });
      const error = await assertRejects(() => unpackImage(client, image.name), ApiError);
      assertEquals(error.code, "invalid_argument");
      assertMatch(error.message, /does not match|do not match/);
      const left = await client.snapshots().walk();
      assertEquals(left.map((info) => [info.name, info.kind]), [[base.diffId, "Committed"]]);
      const configInfo = await client.content.info(image.config.digest);
      assertEquals(configInfo.labels["containerd.io/gc.ref.snapshot.overlayfs"], undefined);
      // The manifest and config disagreeing on the number of layers is refused up front.
      const short = await pushImage(client, "example.com/short:1", [base, real], {
        diffIds: [base.diffId],
      });
      const mismatch = await assertRejects(() => unpackImage(client, short.name), ApiError);
      assertMatch(mismatch.message, /2 layers but the config lists 1/);
    } finally {
      client.close();
      await daemon.cleanup();
    }
  },
});

Deno.test({
  name: "unpack: a hostile layer is refused, leaves nothing behind, and the daemon stays up",
  ignore: ignore("unpack: hostile layer"),
  async fn() {
    const daemon = await TestContainerd.start();
    const client = daemon.client();
    try {
      const base = await layerOf({ "etc/base": "base\n" });
      const cases = [
        [{ name: "dev/disk", type: "block-device", devmajor: 8, devminor: 0, mode: 0o600 }],
        [{ name: "../../escaped", type: "file", size: 1, mode: 0o644 }],
      ] as const;
      for (const [index, headers] of cases.entries()) {
        const hostile = await rawLayer([...headers]);
        const name = `example.com/hostile:${index}`;
        await pushImage(client, name, [base, hostile]);
        const error = await assertRejects(() => unpackImage(client, name), ApiError);
        assertEquals(error.code, "invalid_argument", error.message);
        const left = await client.snapshots().walk();
        assertEquals(left.map((info) => info.name), [base.diffId], "only the good base layer");
      }
      await assertRejects(
        () => Deno.stat(join(daemon.paths.base, "escaped")),
        Deno.errors.NotFound,
      );
      assertEquals((await client.version()).revision, "mini");
    } finally {
      client.close();
      await daemon.cleanup();
    }
  },
});

Deno.test({
  name: "unpack: mini-ctr images mount unpacks, mounts read-only (or --rw), and unmounts",
  ignore: ignore("unpack: images mount"),
  async fn() {
    const daemon = await TestContainerd.start();
    const client = daemon.client();
    const target = join(daemon.paths.base, "mnt");
    try {
      await Deno.mkdir(target);
      const image = await pushImage(client, "example.com/mountme:1", [
        await busyboxLayer(),
        await layerOf({ "srv/index.html": "hello\n" }),
      ]);
      const mounted = await daemon.ctr(["images", "mount", image.name, target]);
      assertEquals(mounted.code, 0, mounted.stderr);
      assertEquals(mounted.stdout.trim(), target);
      try {
        assertEquals(await Deno.readTextFile(join(target, "srv/index.html")), "hello\n");
        await assertRejects(() => Deno.writeTextFile(join(target, "new"), "x"));
        assertEquals((await client.snapshots().stat(target)).kind, "View");
      } finally {
        const unmounted = await daemon.ctr(["images", "unmount", "--rm", target]);
        assertEquals(unmounted.code, 0, unmounted.stderr);
      }
      assertNoMountsUnder(target);
      await assertRejects(() => client.snapshots().stat(target), ApiError);

      const rw = await daemon.ctr(["images", "mount", "--rw", image.name, target]);
      assertEquals(rw.code, 0, rw.stderr);
      try {
        await Deno.writeTextFile(join(target, "srv/written"), "rw\n");
        assertEquals((await client.snapshots().stat(target)).kind, "Active");
      } finally {
        assertEquals((await daemon.ctr(["images", "unmount", target])).code, 0);
      }
      assertNoMountsUnder(target);
      assertEquals(await listNames(target), [], "the mount point is empty again");
      // Without --rm the snapshot stays, with the write in it.
      const again = await client.snapshots().mounts(target);
      await withMounted(again, async (root) => {
        assertEquals(await Deno.readTextFile(join(root, "srv/written")), "rw\n");
      });
    } finally {
      client.close();
      await daemon.cleanup();
    }
  },
});

Deno.test({
  name: "unpack: an image of 128 layers unpacks, mounts and runs busybox",
  ignore: requirements(
    "unpack: 128 layers",
    missingRoot(),
    missingOverlay(),
    missingTool("busybox"),
    missingTool("chroot"),
  ),
  async fn() {
    const daemon = await TestContainerd.start();
    const client = daemon.client();
    const target = join(daemon.paths.base, "deep");
    try {
      await Deno.mkdir(target);
      const layers = [await busyboxLayer()];
      for (let index = 1; index < 128; index++) {
        layers.push(await layerOf({ [`layers/${index}`]: `${index}\n`, "top": `${index}\n` }));
      }
      const image = await pushImage(client, "example.com/deep:128", layers);
      const mounted = await daemon.ctr(["images", "mount", image.name, target]);
      assertEquals(mounted.code, 0, mounted.stderr);
      try {
        assertEquals((await client.snapshots().walk(["kind==committed"])).length, 128);
        // Run a program from the 128-layer root: busybox from the bottom layer reads
        // files from every layer above it.
        const run = await new Deno.Command("chroot", {
          args: [
            target,
            "/bin/sh",
            "-c",
            "cat /top; ls /layers | wc -l; cat /layers/1 /layers/127",
          ],
          stdout: "piped",
          stderr: "piped",
        }).output();
        assertEquals(new TextDecoder().decode(run.stderr), "");
        assertEquals(new TextDecoder().decode(run.stdout).split("\n").map((line) => line.trim()), [
          "127",
          "127",
          "1",
          "127",
          "",
        ]);
      } finally {
        const unmounted = await daemon.ctr(["images", "unmount", "--rm", target]);
        assertEquals(unmounted.code, 0, unmounted.stderr);
      }
      assertNoMountsUnder(target);
    } finally {
      client.close();
      await daemon.cleanup();
    }
  },
});
