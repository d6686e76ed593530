// What this teaches: the best test of an unpacker is another unpacker. Two layers are
// made with GNU tar (not with mini's writer), whiteouts included, packed into an OCI
// image layout, and unpacked by umoci, an independent OCI implementation. mini's apply
// of the same layers must give the same tree, file by file with metadata. The overlay
// form is checked the same way: layer 2 applied as an overlay upperdir, mounted above
// layer 1, must show that tree too.
// Mirrors the conformance idea of containerd's integration tests, with umoci as the
// reference (umoci's oci/layer/unpack.go).

import { applyLayer } from "../../lib/archive/mod.ts";
import type { WhiteoutFormat } from "../../lib/archive/types.ts";
import { lsetxattr } from "../../lib/archive/syscalls.ts";
import { mount, unmount } from "../../lib/linux/mount.ts";
import { assert, assertEquals } from "../helpers/assert.ts";
import { missingOverlay, missingRoot, missingTool, requirements } from "../helpers/requirements.ts";
import { run, sha256, snapshotTree, treeDifferences } from "./support.ts";

const ignore = requirements(
  "archive cross-check against umoci",
  missingRoot(),
  missingTool("umoci"),
  missingTool("tar"),
  missingOverlay(),
);

const layerOne = `
set -e
cd "$1"
mkdir -p etc bin usr/lib usr/share/doc var/cache tmp dev opt/app/conf
echo "root:x:0:0::/root:/bin/sh" > etc/passwd
echo secret > etc/shadow; chmod 640 etc/shadow; chgrp 42 etc/shadow
echo busybox > bin/busybox; chmod 755 bin/busybox
ln bin/busybox bin/sh
ln -s busybox bin/ls
ln -s /usr/lib lib
echo su > bin/su; chmod 4755 bin/su
chmod 1777 tmp
echo lib > usr/lib/libc.so
echo doc > usr/share/doc/readme
echo cached > var/cache/old
mkfifo var/cache/fifo
mknod dev/null c 1 3; chmod 666 dev/null
echo conf > opt/app/conf/a.conf; echo conf > opt/app/conf/b.conf
echo app > opt/app/bin; chown -R 1000:1000 opt/app
echo gone > opt/gone
find . -exec touch -h -d @1600000000 {} +
`;

const layerTwo = `
set -e
cd "$1"
mkdir -p etc usr/share/doc opt/app/conf bin
echo "root:x:0:0::/root:/bin/bash" > etc/passwd
: > usr/share/doc/.wh.readme
: > opt/.wh.gone
: > opt/app/conf/.wh..wh..opq
echo fresh > opt/app/conf/c.conf
mkdir -p var; : > var/.wh.cache; echo new > var/new
echo bash > bin/bash; chmod 755 bin/bash
ln -s bash bin/sh
chown 1000:1000 opt/app opt/app/conf opt/app/conf/c.conf
find . -exec touch -h -d @1700000000 {} +
`;

interface Layer {
  path: string;
  digest: string;
  diffId: string;
  size: number;
}

async function tarLayer(source: string, output: string): Promise<Layer> {
  await run("tar", [
    "--format=posix",
    "--xattrs",
    "--xattrs-include=*",
    "--numeric-owner",
    "-czf",
    output,
    "-C",
    source,
    ".",
  ]);
  const blob = await Deno.readFile(output);
  const tar = await run("sh", ["-c", 'gzip -dc "$1" | sha256sum', "sh", output]);
  return {
    path: output,
    digest: sha256(blob),
    diffId: `sha256:${tar.split(" ")[0]}`,
    size: blob.length,
  };
}

/** Writes an OCI image layout holding one image made of `layers`, tagged "latest". */
async function writeImageLayout(layout: string, layers: Layer[]): Promise<void> {
  await Deno.mkdir(`${layout}/blobs/sha256`, { recursive: true });
  const putBlob = async (bytes: Uint8Array) => {
    const digest = sha256(bytes);
    await Deno.writeFile(`${layout}/blobs/sha256/${digest.slice(7)}`, bytes);
    return { digest, size: bytes.length };
  };
  for (const layer of layers) await putBlob(await Deno.readFile(layer.path));
  const json = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
  const config = await putBlob(json({
    architecture: "amd64",
    os: "linux",
    config: {},
    rootfs: { type: "layers", diff_ids: layers.map((layer) => layer.diffId) },
  }));
  const manifest = await putBlob(json({
    schemaVersion: 2,
    mediaType: "application/vnd.oci.image.manifest.v1+json",
    config: { mediaType: "application/vnd.oci.image.config.v1+json", ...config },
    layers: layers.map((layer) => ({
      mediaType: "application/vnd.oci.image.layer.v1.tar+gzip",
      digest: layer.digest,
      size: layer.size,
    })),
  }));
  await Deno.writeTextFile(`${layout}/oci-layout`, JSON.stringify({ imageLayoutVersion: "1.0.0" }));
  await Deno.writeTextFile(
    `${layout}/index.json`,
    JSON.stringify({
      schemaVersion: 2,
      manifests: [{
        mediaType: "application/vnd.oci.image.manifest.v1+json",
        ...manifest,
        annotations: { "org.opencontainers.image.ref.name": "latest" },
      }],
    }),
  );
}

async function apply(target: string, layer: Layer, whiteoutFormat: WhiteoutFormat) {
  const result = await applyLayer(target, (await Deno.open(layer.path)).readable, {
    whiteoutFormat,
    allowDevices: true,
    expectedDiffId: layer.diffId,
  });
  assertEquals(result.warnings, []);
}

Deno.test({
  name: "mini unpacks GNU tar layers exactly as umoci does",
  ignore,
  fn: async () => {
    const base = await Deno.makeTempDir({ prefix: "mini-archive-umoci-" });
    let mounted: string | undefined;
    try {
      for (const dir of ["one", "two", "mini", "lower1", "upper2", "stacked"]) {
        await Deno.mkdir(`${base}/${dir}`);
      }
      await run("sh", ["-c", layerOne, "sh", `${base}/one`]);
      lsetxattr(`${base}/one/usr/lib/libc.so`, "user.origin", new TextEncoder().encode("one"));
      await run("sh", ["-c", layerTwo, "sh", `${base}/two`]);
      const layers = [
        await tarLayer(`${base}/one`, `${base}/one.tar.gz`),
        await tarLayer(`${base}/two`, `${base}/two.tar.gz`),
      ];

      await writeImageLayout(`${base}/layout`, layers);
      await run("umoci", ["unpack", "--image", `${base}/layout:latest`, `${base}/bundle`]);
      const reference = snapshotTree(`${base}/bundle/rootfs`, { skipRoot: true });
      // Make sure umoci really unpacked both layers before comparing against it.
      assertEquals(reference.get("bin/su")?.mode, "4755");
      assertEquals(reference.get("bin/sh")?.linkTarget, "bash");
      assert(!reference.has("opt/gone") && !reference.has("var/cache"), "whiteouts applied");
      assert(reference.has("opt/app/conf/c.conf") && !reference.has("opt/app/conf/a.conf"));

      for (const layer of layers) await apply(`${base}/mini`, layer, "oci");
      assertEquals(
        treeDifferences(snapshotTree(`${base}/mini`, { skipRoot: true }), reference),
        [],
      );

      await apply(`${base}/lower1`, layers[0], "oci");
      await apply(`${base}/upper2`, layers[1], "overlay");
      mounted = `${base}/stacked`;
      mount("overlay", mounted, "overlay", 0, `lowerdir=${base}/upper2:${base}/lower1`);
      const stacked = snapshotTree(mounted, { skipRoot: true });
      unmount(mounted);
      mounted = undefined;
      assertEquals(treeDifferences(stacked, reference), []);
    } finally {
      if (mounted !== undefined) unmount(mounted);
      await Deno.remove(base, { recursive: true });
    }
  },
});
