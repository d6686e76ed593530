// Tests of the offline busybox base image: determinism, the rootfs it contains, the
// config it declares, and the checks on the busybox binary.

import { gunzipSync } from "node:zlib";
import { extract } from "tar-stream";
import {
  assert,
  assertEquals,
  assertMatch,
  assertRejects,
  assertStringIncludes,
} from "../helpers/assert.ts";
import { missingTool, requirements } from "../helpers/requirements.ts";
import {
  BASE_IMAGE_NAME,
  baseImageArchive,
  buildBaseImage,
  elfInterpreter,
  writeBaseImageArchive,
} from "../../lib/base_image/mod.ts";
import { sha256Digest } from "../../lib/image_archive/digest.ts";
import { ApiError } from "../../lib/api/errors.ts";
import type { ImageConfig, ImageIndex, ImageManifest } from "../../lib/images/types.ts";
import { defaultPlatform } from "../../lib/platforms/compare.ts";

const needsBusybox = () => requirements("base image", missingTool("busybox"));

interface ListedEntry {
  name: string;
  type: string;
  mode: number;
  uid: number;
  gid: number;
  mtime: number;
  linkname: string | null;
  content: Uint8Array;
}

/** Lists a tar held in memory, with each entry's bytes. */
async function listTar(bytes: Uint8Array): Promise<ListedEntry[]> {
  const extractor = extract();
  const entries: ListedEntry[] = [];
  const done = (async () => {
    for await (const entry of extractor) {
      const chunks: Uint8Array[] = [];
      for await (const chunk of entry as AsyncIterable<Uint8Array>) chunks.push(chunk);
      const header = entry.header;
      entries.push({
        name: header.name,
        type: header.type,
        mode: header.mode,
        uid: header.uid,
        gid: header.gid,
        mtime: header.mtime.getTime(),
        linkname: header.linkname,
        content: new Uint8Array(await new Blob(chunks as BlobPart[]).arrayBuffer()),
      });
    }
  })();
  extractor.write(bytes);
  (extractor as unknown as { end(): void }).end();
  await done;
  return entries;
}

Deno.test({
  name: "base image: two builds give identical digests and identical archive bytes",
  ignore: needsBusybox(),
  async fn() {
    const first = await buildBaseImage();
    const second = await buildBaseImage();
    assertEquals(first.manifest.digest, second.manifest.digest);
    assertEquals(first.config.digest, second.config.digest);
    assertEquals(first.layer.digest, second.layer.digest);
    const firstArchive = new Uint8Array(await new Response(baseImageArchive(first)).arrayBuffer());
    const secondArchive = new Uint8Array(
      await new Response(baseImageArchive(second)).arrayBuffer(),
    );
    assertEquals(sha256Digest(firstArchive), sha256Digest(secondArchive));
    // Every blob is named by its own hash.
    for (const [digest, bytes] of first.blobs) assertEquals(sha256Digest(bytes), digest);
    // A different creation time is a different image: the digests really depend on inputs.
    const later = await buildBaseImage({ created: "2025-06-01T00:00:00Z" });
    assert(later.manifest.digest !== first.manifest.digest, "created must change the digest");
  },
});

Deno.test({
  name: "base image: the layer holds busybox, its applets as hardlinks, and the usual dirs",
  ignore: needsBusybox(),
  async fn() {
    const image = await buildBaseImage();
    const entries = await listTar(new Uint8Array(gunzipSync(image.blobs.get(image.layer.digest)!)));
    const names = entries.map((entry) => entry.name);
    assertEquals([...names].sort((a, b) => a < b ? -1 : a > b ? 1 : 0), names, "entries sorted");
    const byName = new Map(entries.map((entry) => [entry.name, entry]));
    for (const directory of ["bin/", "dev/", "etc/", "home/", "proc/", "root/", "sys/", "tmp/"]) {
      assertEquals(byName.get(directory)?.type, "directory", directory);
    }
    assertEquals(byName.get("tmp/")?.mode, 0o1777);
    assertEquals(byName.get("root/")?.mode, 0o700);
    // The first applet path carries the bytes; busybox and sh are hardlinks to it.
    const file = entries.find((entry) => entry.type === "file" && entry.name.startsWith("bin/"))!;
    assertEquals(file.content, await Deno.readFile("/bin/busybox"));
    for (const name of ["bin/busybox", "bin/sh", "bin/ls"]) {
      const entry = byName.get(name);
      assertEquals(entry?.type, "link", name);
      assertEquals(entry?.linkname, file.name, name);
    }
    const applets = new TextDecoder().decode(
      (await new Deno.Command("/bin/busybox", { args: ["--list-full"], stdout: "piped" }).output())
        .stdout,
    ).trim().split("\n").map((line) => line.split("/").pop()!);
    for (const applet of applets.filter((name) => name !== "linuxrc")) {
      assert(byName.has(`bin/${applet}`), `missing applet bin/${applet}`);
    }
    const passwd = new TextDecoder().decode(byName.get("etc/passwd")!.content);
    assertMatch(passwd, /^root:x:0:0:root:\/root:\/bin\/sh$/m);
    assertMatch(passwd, /^nobody:x:65534:65534:/m);
    assertMatch(new TextDecoder().decode(byName.get("etc/group")!.content), /^nogroup:x:65534:$/m);
    for (const entry of entries) {
      assertEquals([entry.uid, entry.gid], [0, 0], entry.name);
      assertEquals(entry.mtime, Date.parse("2024-01-01T00:00:00Z"), entry.name);
    }
  },
});

Deno.test({
  name: "base image: config, manifest and index describe the image like the official one",
  ignore: needsBusybox(),
  async fn() {
    const image = await buildBaseImage();
    const config = JSON.parse(
      new TextDecoder().decode(image.blobs.get(image.config.digest)),
    ) as ImageConfig;
    const host = defaultPlatform();
    assertEquals(config.os, "linux");
    assertEquals(config.architecture, host.architecture);
    assertEquals(config.config?.Env, [
      "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    ]);
    assertEquals(config.config?.Cmd, ["sh"]);
    assertEquals(config.rootfs.diff_ids, [image.diffId]);
    const layerTar = new Uint8Array(gunzipSync(image.blobs.get(image.layer.digest)!));
    assertEquals(sha256Digest(layerTar), image.diffId, "diffID is the uncompressed tar's digest");
    assertEquals(config.history?.length, 2);
    assertEquals(
      config.history?.[0].created_by,
      `/bin/sh -c #(nop) ADD file:${image.diffId.slice(7)} in / `,
    );
    assertEquals(config.history?.[1], {
      created: config.created,
      created_by: '/bin/sh -c #(nop)  CMD ["sh"]',
      empty_layer: true,
    });
    const manifest = JSON.parse(
      new TextDecoder().decode(image.blobs.get(image.manifest.digest)),
    ) as ImageManifest;
    assertEquals(manifest.config.digest, image.config.digest);
    assertEquals(manifest.layers.map((layer) => layer.digest), [image.layer.digest]);

    const directory = await Deno.makeTempDir({ prefix: "mini-base-image-" });
    try {
      const path = `${directory}/busybox.tar`;
      await writeBaseImageArchive(path);
      const files = new Map(
        (await listTar(await Deno.readFile(path))).map((entry) => [entry.name, entry]),
      );
      assertEquals(
        JSON.parse(new TextDecoder().decode(files.get("oci-layout")!.content)),
        { imageLayoutVersion: "1.0.0" },
      );
      const index = JSON.parse(
        new TextDecoder().decode(files.get("index.json")!.content),
      ) as ImageIndex;
      assertEquals(index.manifests.length, 1);
      assertEquals(index.manifests[0].digest, image.manifest.digest);
      assertEquals(index.manifests[0].annotations, {
        "io.containerd.image.name": BASE_IMAGE_NAME,
        "org.opencontainers.image.ref.name": "latest",
      });
      const dockerManifest = JSON.parse(
        new TextDecoder().decode(files.get("manifest.json")!.content),
      );
      assertEquals(dockerManifest[0].RepoTags, ["busybox:latest"]);
      for (const [digest, bytes] of image.blobs) {
        assertEquals(files.get(`blobs/sha256/${digest.slice(7)}`)?.content, bytes);
      }
    } finally {
      await Deno.remove(directory, { recursive: true });
    }
  },
});

Deno.test("base image: a dynamically linked or missing busybox is refused clearly", async () => {
  // /bin/ls on Debian is dynamically linked: its ELF interpreter is found.
  const ls = await Deno.readFile("/bin/ls");
  assertMatch(elfInterpreter(ls) ?? "", /ld-linux/);
  const dynamic = await assertRejects(
    () => buildBaseImage({ busyboxPath: "/bin/ls" }),
    ApiError,
  );
  assertStringIncludes(dynamic.message, "dynamically linked");
  assertStringIncludes(dynamic.message, "busybox-static");
  const missing = await assertRejects(
    () => buildBaseImage({ busyboxPath: "/nonexistent/busybox" }),
    ApiError,
  );
  assertStringIncludes(missing.message, "apt-get install -y busybox-static");
});
