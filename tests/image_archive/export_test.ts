// Export: the OCI archive mini writes, a round trip through import, platform
// selection, and interop with the independent readers and writers skopeo and umoci.

import { join } from "node:path";
import { extract } from "tar-stream";
import { assert, assertEquals, assertMatch, assertStringIncludes } from "../helpers/assert.ts";
import { REPO_ROOT, TestContainerd } from "../helpers/containerd.ts";
import { missingTool, requirements } from "../helpers/requirements.ts";
import { baseImageArchive, buildBaseImage } from "../../lib/base_image/mod.ts";
import { importImages } from "../../lib/image_archive/import.ts";
import { MediaTypes } from "../../lib/images/media_types.ts";
import type { ImageIndex } from "../../lib/images/types.ts";
import { allPlatforms, defaultPlatform } from "../../lib/platforms/compare.ts";
import { indexOver, ociArchive, syntheticImage, writeFile } from "./fixtures.ts";

/** The files of a tar (regular files only), by name. */
async function readTarFiles(bytes: Uint8Array): Promise<Map<string, Uint8Array>> {
  const extractor = extract();
  const files = new Map<string, Uint8Array>();
  const done = (async () => {
    for await (const entry of extractor) {
      const chunks: Uint8Array[] = [];
      for await (const chunk of entry as AsyncIterable<Uint8Array>) chunks.push(chunk);
      if (entry.header.type === "file") {
        files.set(
          entry.header.name,
          new Uint8Array(await new Blob(chunks as BlobPart[]).arrayBuffer()),
        );
      }
    }
  })();
  extractor.write(bytes);
  (extractor as unknown as { end(): void }).end();
  await done;
  return files;
}

function json<T>(bytes: Uint8Array | undefined): T {
  assert(bytes !== undefined, "file missing from the archive");
  return JSON.parse(new TextDecoder().decode(bytes)) as T;
}

async function run(command: string, args: string[]): Promise<string> {
  const output = await new Deno.Command(command, { args, stdout: "piped", stderr: "piped" })
    .output();
  const stderr = new TextDecoder().decode(output.stderr);
  if (!output.success) throw new Error(`${command} ${args.join(" ")} failed:\n${stderr}`);
  return new TextDecoder().decode(output.stdout);
}

/** A daemon with the base image imported; returns it with the built image. */
async function daemonWithBaseImage() {
  const daemon = await TestContainerd.start();
  const image = await buildBaseImage();
  const archive = join(daemon.paths.base, "busybox.tar");
  await writeFile(archive, baseImageArchive(image));
  const imported = await daemon.ctr(["images", "import", "--no-unpack", archive]);
  assertEquals(imported.code, 0, imported.stderr);
  return { daemon, image };
}

const needsBusybox = (name: string) => requirements(name, missingTool("busybox"));

Deno.test({
  name: "export: an OCI archive with names, manifest.json, and a round trip to the same digests",
  ignore: needsBusybox("export round trip"),
  async fn() {
    const { daemon, image } = await daemonWithBaseImage();
    const second = await TestContainerd.start();
    try {
      const out = join(daemon.paths.base, "export.tar");
      const exported = await daemon.ctr([
        "images",
        "export",
        out,
        "docker.io/library/busybox:latest",
      ]);
      assertEquals(exported.code, 0, exported.stderr);
      const files = await readTarFiles(await Deno.readFile(out));
      assertEquals(json(files.get("oci-layout")), { imageLayoutVersion: "1.0.0" });
      const index = json<ImageIndex>(files.get("index.json"));
      assertEquals(index.mediaType, MediaTypes.ociIndex);
      assertEquals(index.manifests.length, 1);
      assertEquals(index.manifests[0].digest, image.manifest.digest);
      assertEquals(
        index.manifests[0].annotations?.["io.containerd.image.name"],
        "docker.io/library/busybox:latest",
      );
      assertEquals(index.manifests[0].annotations?.["org.opencontainers.image.ref.name"], "latest");
      assertEquals(json(files.get("manifest.json")), [{
        Config: `blobs/sha256/${image.config.digest.slice(7)}`,
        RepoTags: ["busybox:latest"],
        Layers: [`blobs/sha256/${image.layer.digest.slice(7)}`],
      }]);
      for (const [digest, bytes] of image.blobs) {
        assertEquals(files.get(`blobs/sha256/${digest.slice(7)}`), bytes, digest);
      }

      // Into another daemon: the same image, the same digests.
      const reimported = await second.ctr(["images", "import", "--no-unpack", out]);
      assertEquals(reimported.code, 0, reimported.stderr);
      const client = second.client();
      try {
        const record = await client.images.get("docker.io/library/busybox:latest");
        assertEquals(record.target.digest, image.manifest.digest);
        const labels = (await client.content.info(image.manifest.digest)).labels;
        assertEquals(labels["containerd.io/gc.ref.content.l.0"], image.layer.digest);
      } finally {
        client.close();
      }

      // Exporting twice gives the same bytes; "-" writes the same archive to stdout.
      const again = join(daemon.paths.base, "again.tar");
      assertEquals(
        (await daemon.ctr(["images", "export", again, "docker.io/library/busybox:latest"])).code,
        0,
      );
      assertEquals(await Deno.readFile(again), await Deno.readFile(out));
      const toStdout = await new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "--allow-all",
          "--quiet",
          join(REPO_ROOT, "cmd/mini_ctr.ts"),
          "--address",
          daemon.paths.address,
          "images",
          "export",
          "-",
          "docker.io/library/busybox:latest",
        ],
        stdout: "piped",
        stderr: "piped",
      }).output();
      assertEquals(toStdout.code, 0, new TextDecoder().decode(toStdout.stderr));
      assertEquals(toStdout.stdout, await Deno.readFile(out));

      const unknown = await daemon.ctr([
        "images",
        "export",
        join(daemon.paths.base, "x.tar"),
        "nope:1",
      ]);
      assertEquals(unknown.code, 1);
      assertStringIncludes(unknown.stderr, "nope:1");
      await Deno.stat(join(daemon.paths.base, "x.tar")).then(
        () => assert(false, "no file for a failed export"),
        () => {},
      );
    } finally {
      await second.cleanup();
      await daemon.cleanup();
    }
  },
});

Deno.test({
  name: "interop: skopeo inspects and umoci unpacks an archive exported by mini",
  ignore: requirements(
    "skopeo/umoci interop",
    missingTool("skopeo"),
    missingTool("umoci"),
    missingTool("busybox"),
  ),
  async fn() {
    const { daemon, image } = await daemonWithBaseImage();
    try {
      const out = join(daemon.paths.base, "export.tar");
      assertEquals(
        (await daemon.ctr(["images", "export", out, "docker.io/library/busybox:latest"])).code,
        0,
      );

      const inspected = JSON.parse(await run("skopeo", ["inspect", `oci-archive:${out}`]));
      assertEquals(inspected.Digest, image.manifest.digest);
      assertEquals(inspected.Os, "linux");
      assertEquals(inspected.Layers, [image.layer.digest]);
      const config = JSON.parse(await run("skopeo", ["inspect", "--config", `oci-archive:${out}`]));
      assertEquals(config.config.Cmd, ["sh"]);

      // umoci reads an unpacked layout directory, picking the image by its ref name.
      const layout = join(daemon.paths.base, "layout");
      await Deno.mkdir(layout);
      await run("tar", ["-xf", out, "-C", layout]);
      const bundle = join(daemon.paths.base, "bundle");
      await run("umoci", ["unpack", "--image", `${layout}:latest`, bundle]);
      const busybox = await Deno.stat(join(bundle, "rootfs/bin/busybox"));
      assert(busybox.isFile && (busybox.mode! & 0o111) !== 0, "bin/busybox is an executable file");
      const shell = await Deno.stat(join(bundle, "rootfs/bin/sh"));
      assertEquals(shell.ino, busybox.ino, "bin/sh is a hardlink to busybox");
      assertEquals((await Deno.stat(join(bundle, "rootfs/tmp"))).mode! & 0o7777, 0o1777);
      const runtimeConfig = JSON.parse(await Deno.readTextFile(join(bundle, "config.json")));
      assertEquals(runtimeConfig.process.args, ["sh"]);
    } finally {
      await daemon.cleanup();
    }
  },
});

Deno.test({
  name: "interop: archives written by skopeo copy (OCI and docker-archive) import into mini",
  ignore: requirements("skopeo interop", missingTool("skopeo"), missingTool("busybox")),
  async fn() {
    const { daemon, image } = await daemonWithBaseImage();
    const fresh = await TestContainerd.start();
    try {
      const out = join(daemon.paths.base, "mini.tar");
      assertEquals(
        (await daemon.ctr(["images", "export", out, "docker.io/library/busybox:latest"])).code,
        0,
      );
      const skopeoOci = join(daemon.paths.base, "skopeo-oci.tar");
      await run("skopeo", ["copy", `oci-archive:${out}:latest`, `oci-archive:${skopeoOci}:x`]);
      const skopeoDocker = join(daemon.paths.base, "skopeo-docker.tar");
      await run("skopeo", [
        "copy",
        `oci-archive:${out}:latest`,
        `docker-archive:${skopeoDocker}:mini/from-skopeo:v1`,
      ]);

      // skopeo's OCI index only has the ref name "x": --base-name completes it.
      const oci = await fresh.ctr([
        "images",
        "import",
        "--no-unpack",
        "--base-name",
        "docker.io/library/from-skopeo",
        skopeoOci,
      ]);
      assertEquals(oci.code, 0, oci.stderr);
      const client = fresh.client();
      try {
        const record = await client.images.get("docker.io/library/from-skopeo:x");
        assertEquals(record.target.digest, image.manifest.digest, "skopeo kept the manifest");

        // Without --base-name the tag gets ctr's dated prefix.
        assertEquals((await fresh.ctr(["images", "import", "--no-unpack", skopeoOci])).code, 0);
        const names = (await client.images.list()).map((entry) => entry.name);
        assert(names.some((name) => /^import-\d{4}-\d{2}-\d{2}:x$/.test(name)), names.join(", "));

        // skopeo's docker-archive: manifest.json, <diffID>.tar layers and a layer symlink.
        const docker = await fresh.ctr(["images", "import", "--no-unpack", skopeoDocker]);
        assertEquals(docker.code, 0, docker.stderr);
        const fromDocker = await client.images.get("docker.io/mini/from-skopeo:v1");
        assertEquals(fromDocker.target.mediaType, MediaTypes.dockerManifest);
        const manifest = JSON.parse(
          new TextDecoder().decode(await client.content.readAll(fromDocker.target.digest)),
        );
        assertEquals(manifest.config.digest, image.config.digest);
        assertEquals(
          manifest.layers[0].digest,
          image.diffId,
          "skopeo wrote the layer uncompressed",
        );
        assertEquals(manifest.layers[0].mediaType, MediaTypes.dockerLayer);
      } finally {
        client.close();
      }
    } finally {
      await fresh.cleanup();
      await daemon.cleanup();
    }
  },
});

Deno.test("export: platforms of a multi-platform image (default, --platform, --all-platforms)", async () => {
  const daemon = await TestContainerd.start();
  const client = daemon.client();
  try {
    const amd64 = await syntheticImage({
      seed: "export-amd64",
      platform: { os: "linux", architecture: "amd64" },
    });
    const arm64 = await syntheticImage({
      seed: "export-arm64",
      platform: { os: "linux", architecture: "arm64", variant: "v8" },
    });
    const blobs = new Map([...amd64.blobs, ...arm64.blobs]);
    const index = indexOver([amd64.manifest, arm64.manifest], blobs, {
      "io.containerd.image.name": "docker.io/library/multi:latest",
    });
    await importImages(client, ociArchive([index], blobs), { platforms: allPlatforms });

    const exportWith = async (flags: string[]) => {
      const out = join(daemon.paths.base, `export-${crypto.randomUUID()}.tar`);
      const result = await daemon.ctr([
        "images",
        "export",
        ...flags,
        out,
        "docker.io/library/multi:latest",
      ]);
      assertEquals(result.code, 0, result.stderr);
      return await readTarFiles(await Deno.readFile(out));
    };
    const blobNames = (files: Map<string, Uint8Array>) =>
      [...files.keys()].filter((name) => name.startsWith("blobs/")).map((name) =>
        `sha256:${name.slice(13)}`
      ).sort();

    const amd64Blobs = [...amd64.blobs.keys()];
    const arm64Blobs = [...arm64.blobs.keys()];
    const host = await exportWith(["--platform", "linux/amd64"]);
    assertEquals(blobNames(host), [index.digest, ...amd64Blobs].sort());
    assertEquals(json<ImageIndex>(host.get("index.json")).manifests[0].digest, index.digest);
    assertEquals(
      json<Array<{ Config: string }>>(host.get("manifest.json"))[0].Config,
      `blobs/sha256/${amd64.config.digest.slice(7)}`,
    );

    if (defaultPlatform().architecture === "amd64") {
      assertEquals(blobNames(await exportWith([])), blobNames(host), "default: this machine's");
    }

    const arm = await exportWith(["--platform", "linux/arm64"]);
    assertEquals(blobNames(arm), [index.digest, ...arm64Blobs].sort());
    assertEquals(
      json<Array<{ Config: string }>>(arm.get("manifest.json"))[0].Config,
      `blobs/sha256/${arm64.config.digest.slice(7)}`,
    );

    const all = await exportWith([
      "--all-platforms",
      "--platform",
      "linux/amd64",
      "--skip-manifest-json",
    ]);
    assertEquals(blobNames(all), [index.digest, ...amd64Blobs, ...arm64Blobs].sort());
    assertEquals(all.has("manifest.json"), false);

    // With a platform's layer gone, --all-platforms must fail before writing anything.
    await client.images.delete("docker.io/library/multi:latest");
    await client.content.collectGarbage();
    const partial = new Map(blobs);
    partial.delete(arm64.layers[0].digest);
    await importImages(client, ociArchive([index], partial), {
      platforms: { match: (platform) => platform.architecture === "amd64", less: () => false },
    });
    await client.content.collectGarbage(); // the arm64 manifest is referenced by nothing now
    const out = join(daemon.paths.base, "incomplete.tar");
    const failed = await daemon.ctr([
      "images",
      "export",
      "--all-platforms",
      out,
      "docker.io/library/multi:latest",
    ]);
    assertEquals(failed.code, 1);
    assertMatch(
      failed.stderr,
      new RegExp(`${arm64.manifest.digest} .*linux/arm64.* is not in the content store`),
    );
    await Deno.stat(out).then(() => assert(false, "no file for a failed export"), () => {});
  } finally {
    client.close();
    await daemon.cleanup();
  }
});
