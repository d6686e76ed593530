// Integration tests of image import: the base image, docker save archives, gzip
// archives, multi-platform indexes and the naming flags, against a real
// mini-containerd on temp roots.

import { gzipSync } from "node:zlib";
import { join } from "node:path";
import { assert, assertEquals, assertRejects, assertStringIncludes } from "../helpers/assert.ts";
import { TestContainerd } from "../helpers/containerd.ts";
import { missingOverlay, missingRoot, missingTool, requirements } from "../helpers/requirements.ts";
import { ApiError } from "../../lib/api/errors.ts";
import { baseImageArchive, buildBaseImage } from "../../lib/base_image/mod.ts";
import { importImages } from "../../lib/image_archive/import.ts";
import { chainId } from "../../lib/images/identity.ts";
import { MediaTypes } from "../../lib/images/media_types.ts";
import { allPlatforms } from "../../lib/platforms/compare.ts";
import {
  dockerSaveRecords,
  indexOver,
  ociArchive,
  syntheticImage,
  tarBytes,
  verifiedBlobs,
  writeFile,
} from "./fixtures.ts";

const needsBusybox = () => requirements("import of the base image", missingTool("busybox"));

/** A stream over bytes in memory. */
function streamOf(bytes: Uint8Array): ReadableStream<Uint8Array> {
  return new Blob([bytes as BlobPart]).stream();
}

Deno.test({
  name: "import: the base image through mini-ctr gets its name, blobs and GC labels",
  ignore: needsBusybox(),
  async fn() {
    const daemon = await TestContainerd.start();
    const client = daemon.client();
    try {
      const image = await buildBaseImage();
      const archive = join(daemon.paths.base, "busybox.tar");
      await writeFile(archive, baseImageArchive(image));
      const imported = await daemon.ctr(["images", "import", "--no-unpack", archive]);
      assertEquals(imported.code, 0, imported.stderr);
      const record = await client.images.get("docker.io/library/busybox:latest");
      assertEquals(record.target.digest, image.manifest.digest);
      assertEquals(record.target.mediaType, MediaTypes.ociManifest);
      const manifestInfo = await client.content.info(image.manifest.digest);
      assertEquals(manifestInfo.labels["containerd.io/gc.ref.content.config"], image.config.digest);
      assertEquals(manifestInfo.labels["containerd.io/gc.ref.content.l.0"], image.layer.digest);
      for (const digest of image.blobs.keys()) {
        assert((await verifiedBlobs(daemon.paths.root)).includes(digest), `${digest} stored`);
      }
      // The import lease is gone and nothing is left half-written.
      assertEquals(await client.leases.list(), []);
      assertEquals(await client.content.listStatuses(), []);
      // After a collection only the image's three blobs stay: the index was not kept.
      await client.content.collectGarbage();
      assertEquals(await verifiedBlobs(daemon.paths.root), [...image.blobs.keys()].sort());
      // Importing again is idempotent (ctr re-points the name).
      const again = await daemon.ctr(["images", "import", "--no-unpack", archive]);
      assertEquals(again.code, 0, again.stderr);
      const listing = await daemon.ctr(["images", "ls", "-q"]);
      assertEquals(listing.stdout.trim(), "docker.io/library/busybox:latest");
    } finally {
      client.close();
      await daemon.cleanup();
    }
  },
});

Deno.test("import: a docker save archive becomes schema 2 manifests named after RepoTags", async () => {
  const daemon = await TestContainerd.start();
  const client = daemon.client();
  try {
    const first = await syntheticImage({ seed: "docker-a", layers: 2, layerSize: 64 * 1024 });
    const second = await syntheticImage({ seed: "docker-b", layers: 1, layerSize: 1024 });
    const bytes = await tarBytes(dockerSaveRecords([
      { image: first, repoTags: ["busybox:latest", "mini/app:1.0"] },
      { image: second, repoTags: ["localhost:5000/other:v2"] },
    ]));
    const result = await importImages(client, streamOf(bytes));
    assertEquals(
      result.images.map((image) => image.name),
      [
        "docker.io/library/busybox:latest",
        "docker.io/mini/app:1.0",
        "localhost:5000/other:v2",
      ],
    );
    const target = result.images[0].target;
    assertEquals(target.mediaType, MediaTypes.dockerManifest);
    assertEquals(result.images[1].target.digest, target.digest, "two tags, one manifest");
    const manifest = JSON.parse(
      new TextDecoder().decode(await client.content.readAll(target.digest)),
    );
    assertEquals(manifest.mediaType, MediaTypes.dockerManifest);
    assertEquals(manifest.config.mediaType, MediaTypes.dockerConfig);
    assertEquals(manifest.config.digest, first.config.digest, "the config keeps its digest");
    // docker save layers are uncompressed tars: their digest is the diffID.
    assertEquals(manifest.layers.map((layer: { digest: string }) => layer.digest), first.diffIds);
    assertEquals(
      manifest.layers.map((layer: { mediaType: string }) => layer.mediaType),
      [MediaTypes.dockerLayer, MediaTypes.dockerLayer],
    );
    const labels = (await client.content.info(target.digest)).labels;
    assertEquals(labels["containerd.io/gc.ref.content.l.1"], first.diffIds[1]);
    // Legacy files (VERSION, json, repositories) were not stored.
    await client.content.collectGarbage();
    const stored = await verifiedBlobs(daemon.paths.root);
    assertEquals(stored.length, 2 + 2 + 3, "2 manifests, 2 configs, 3 layers");

    // The same archive with gzip layers gets the gzip media type.
    const gzipped = await tarBytes(
      dockerSaveRecords([{ image: second, repoTags: ["gz:1"] }], { gzipLayers: true }),
    );
    const gzipResult = await importImages(client, streamOf(gzipped));
    const gzipManifest = JSON.parse(
      new TextDecoder().decode(await client.content.readAll(gzipResult.images[0].target.digest)),
    );
    assertEquals(gzipManifest.layers[0].mediaType, MediaTypes.dockerLayerGzip);
    assertEquals(gzipManifest.layers[0].digest, second.layers[0].digest);
  } finally {
    client.close();
    await daemon.cleanup();
  }
});

Deno.test("import: a gzip-compressed OCI archive is detected by its magic bytes", async () => {
  const daemon = await TestContainerd.start();
  const client = daemon.client();
  try {
    const image = await syntheticImage({
      seed: "gzip-archive",
      annotations: { "io.containerd.image.name": "docker.io/library/gz:latest" },
    });
    const tar = new Uint8Array(
      await new Response(ociArchive([image.manifest], image.blobs)).arrayBuffer(),
    );
    const result = await importImages(client, streamOf(new Uint8Array(gzipSync(tar))));
    assertEquals(result.images.map((record) => record.name), ["docker.io/library/gz:latest"]);
    assertEquals(result.images[0].target.digest, image.manifest.digest);

    // The same through mini-ctr reading standard input ("-"), into another namespace.
    const fromStdin = await daemon.ctr(
      ["-n", "piped", "images", "import", "--no-unpack", "-"],
      { stdin: new Uint8Array(gzipSync(tar)) },
    );
    assertEquals(fromStdin.code, 0, fromStdin.stderr);
    const piped = daemon.client("piped");
    try {
      assertEquals(
        (await piped.images.get("docker.io/library/gz:latest")).target.digest,
        image.manifest.digest,
      );
    } finally {
      piped.close();
    }
  } finally {
    client.close();
    await daemon.cleanup();
  }
});

Deno.test("import: a multi-platform index walks only the wanted platform's content", async () => {
  const daemon = await TestContainerd.start();
  const client = daemon.client();
  try {
    const amd64 = await syntheticImage({
      seed: "multi-amd64",
      platform: { os: "linux", architecture: "amd64" },
    });
    const arm64 = await syntheticImage({
      seed: "multi-arm64",
      platform: { os: "linux", architecture: "arm64", variant: "v8" },
    });
    const blobs = new Map([...amd64.blobs, ...arm64.blobs]);
    const index = indexOver([amd64.manifest, arm64.manifest], blobs, {
      "io.containerd.image.name": "docker.io/library/multi:latest",
      "org.opencontainers.image.ref.name": "latest",
    });
    // The archive leaves out the arm64 layer, as a single-platform pull would.
    const partial = new Map(blobs);
    partial.delete(arm64.layers[0].digest);
    const archive = async (contents: Map<string, Uint8Array>) =>
      new Uint8Array(await new Response(ociArchive([index], contents)).arrayBuffer());

    const hostOnly = await importImages(client, streamOf(await archive(partial)), {
      platforms: { match: (platform) => platform.architecture === "amd64", less: () => false },
    });
    assertEquals(hostOnly.images[0].name, "docker.io/library/multi:latest");
    assertEquals(hostOnly.images[0].target.digest, index.digest);
    const indexLabels = (await client.content.info(index.digest)).labels;
    assertEquals(indexLabels["containerd.io/gc.ref.content.m.0"], amd64.manifest.digest);
    assertEquals(indexLabels["containerd.io/gc.ref.content.m.1"], undefined, "arm64 not followed");

    const all = await assertRejects(
      async () =>
        importImages(client, streamOf(await archive(partial)), { platforms: allPlatforms }),
      ApiError,
    );
    assertStringIncludes(all.message, arm64.layers[0].digest);
    assertStringIncludes(all.message, "neither in the archive nor in the content store");

    const complete = await importImages(client, streamOf(await archive(blobs)), {
      platforms: allPlatforms,
    });
    assertEquals(complete.images[0].target.digest, index.digest);
    const allLabels = (await client.content.info(index.digest)).labels;
    assertEquals(allLabels["containerd.io/gc.ref.content.m.1"], arm64.manifest.digest);
  } finally {
    client.close();
    await daemon.cleanup();
  }
});

Deno.test("import: tag-only OCI ref names follow --base-name, --digests and --index-name", async () => {
  const daemon = await TestContainerd.start();
  const client = daemon.client();
  try {
    const tagged = await syntheticImage({
      seed: "names-1",
      annotations: { "org.opencontainers.image.ref.name": "1.0" },
    });
    const foreign = await syntheticImage({
      seed: "names-2",
      annotations: { "org.opencontainers.image.ref.name": "docker.io/other/thing:2" },
    });
    const blobs = new Map([...tagged.blobs, ...foreign.blobs]);
    const bytes = new Uint8Array(
      await new Response(ociArchive([tagged.manifest, foreign.manifest], blobs)).arrayBuffer(),
    );

    // No base name: tags get ctr's import-<date> prefix, full names are kept.
    const plain = await importImages(client, streamOf(bytes), {
      now: new Date("2024-05-06T12:00:00Z"),
    });
    assertEquals(plain.images.map((image) => image.name), [
      "import-2024-05-06:1.0",
      "docker.io/other/thing:2",
    ]);

    // A base name: tags join it, names outside it are dropped; digests and the index are kept.
    const based = await importImages(client, streamOf(bytes), {
      baseName: "docker.io/mini/app",
      digests: true,
      indexName: "docker.io/mini/app-index:all",
    });
    assertEquals(based.images.map((image) => image.name), [
      "docker.io/mini/app-index:all",
      "docker.io/mini/app:1.0",
      `docker.io/mini/app@${tagged.manifest.digest}`,
      `docker.io/mini/app@${foreign.manifest.digest}`,
    ]);
    assertEquals(based.images[0].target, based.index);
    const indexLabels = (await client.content.info(based.index.digest)).labels;
    assertEquals(indexLabels["containerd.io/gc.ref.content.m.1"], foreign.manifest.digest);

    const skipNamed = await importImages(client, streamOf(bytes), {
      baseName: "docker.io/mini/app",
      digests: true,
      skipDigestForNamed: true,
    });
    assertEquals(skipNamed.images.map((image) => image.name), [
      "docker.io/mini/app:1.0",
      `docker.io/mini/app@${foreign.manifest.digest}`,
    ]);
    const names = (await client.images.list()).map((image) => image.name).sort();
    assert(names.includes("import-2024-05-06:1.0"));
  } finally {
    client.close();
    await daemon.cleanup();
  }
});

Deno.test({
  name: "import: without --no-unpack mini-ctr unpacks the image into a snapshot, as ctr prints",
  ignore: requirements(
    "import with unpack",
    missingTool("busybox"),
    missingRoot(),
    missingOverlay(),
  ),
  async fn() {
    const daemon = await TestContainerd.start();
    const client = daemon.client();
    try {
      const image = await buildBaseImage();
      const archive = join(daemon.paths.base, "busybox.tar");
      await writeFile(archive, baseImageArchive(image));
      const imported = await daemon.ctr(["images", "import", archive]);
      assertEquals(imported.code, 0, imported.stderr);
      assertEquals(
        imported.stdout,
        `unpacking docker.io/library/busybox:latest (${image.manifest.digest})...done\n`,
      );
      const snapshot = await client.snapshots().stat(chainId([image.diffId])!);
      assertEquals(snapshot.kind, "Committed");
    } finally {
      client.close();
      await daemon.cleanup();
    }
  },
});
