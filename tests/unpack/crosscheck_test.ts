// Cross-checks mini's unpack against an independent unpacker: the same three-layer image
// (busybox, then a layer with a whiteout and an opaque directory, then one that deletes a
// directory and changes a file) is unpacked by mini into overlay snapshots and by
// `umoci unpack` into a plain directory; the two root filesystems must match file by
// file, metadata included.

import { join } from "node:path";
import { chainIds } from "../../lib/images/identity.ts";
import { unpackImage } from "../../lib/unpack/mod.ts";
import { assert, assertEquals } from "../helpers/assert.ts";
import { TestContainerd } from "../helpers/containerd.ts";
import { missingOverlay, missingRoot, missingTool, requirements } from "../helpers/requirements.ts";
import { assertNoMountsUnder, testMountParent, withMounted } from "../snapshots/helpers.ts";
import { readTree, treeDifferences } from "../snapshots/tree.ts";
import { buildImage, busyboxLayer, layerOf, pushImage, writeOciLayout } from "./image_builder.ts";

Deno.test({
  name: "unpack: mini and umoci unpack the same image into the same tree",
  ignore: requirements(
    "unpack: cross-check with umoci",
    missingRoot(),
    missingOverlay(),
    missingTool("busybox"),
    missingTool("umoci"),
  ),
  async fn() {
    const daemon = await TestContainerd.start();
    const client = daemon.client();
    try {
      const layers = [
        await busyboxLayer(),
        await layerOf({
          "a/hello": "hello\n",
          "a/dir/x": "x\n",
          "bin/.wh.ls": "",
          "etc/.wh..wh..opq": "",
          "etc/motd": "only this in /etc\n",
        }),
        await layerOf({ "a/.wh.dir": "", "a/hello": "hello again\n" }),
      ];
      const name = "example.com/crosscheck:1";
      const image = await pushImage(client, name, layers);
      const { chainId } = await unpackImage(client, name);
      assertEquals(chainId, chainIds(image.diffIds)[2]);
      const snapshots = client.snapshots();
      const mini = await withMounted(
        await snapshots.view("crosscheck-view", chainId),
        (root) => readTree(root),
      );

      const layout = join(daemon.paths.base, "layout");
      const bundle = join(daemon.paths.base, "bundle");
      await writeOciLayout(layout, buildImage(name, layers), "test");
      const umoci = await new Deno.Command("umoci", {
        args: ["unpack", "--image", `${layout}:test`, bundle],
        stdout: "piped",
        stderr: "piped",
      }).output();
      assertEquals(umoci.code, 0, new TextDecoder().decode(umoci.stderr));
      const reference = await readTree(join(bundle, "rootfs"));

      assert(Object.keys(reference.entries).length > 100, "busybox and its applets are there");
      assertEquals(mini.entries["etc/motd"]?.type, "file");
      assertEquals(Object.keys(mini.entries).filter((path) => path.startsWith("etc/")), [
        "etc/motd",
      ]);
      assertEquals(mini.entries["a/dir"], undefined);
      assertEquals(mini.entries["bin/ls"], undefined);
      // The root directory itself is made by each unpacker, not by the layers.
      delete mini.entries["."];
      delete reference.entries["."];
      assertEquals(treeDifferences(reference, mini), []);
      assertNoMountsUnder(daemon.paths.base);
      assertNoMountsUnder(testMountParent());
    } finally {
      client.close();
      await daemon.cleanup();
    }
  },
});
