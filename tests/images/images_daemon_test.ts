// Integration tests of the Images service, its client and `mini-ctr images`, against a
// real mini-containerd on temp roots, with small real images written through the
// content client.

import { join } from "node:path";
import {
  assert,
  assertEquals,
  assertMatch,
  assertRejects,
  assertStringIncludes,
} from "../helpers/assert.ts";
import { TestContainerd } from "../helpers/containerd.ts";
import { ApiError } from "../../lib/api/errors.ts";
import type { ContainerdClient } from "../../lib/client/client.ts";
import { childGcLabels, MediaTypes } from "../../lib/images/mod.ts";
import type { Descriptor } from "../../lib/images/types.ts";
import { defaultPlatform, formatPlatform } from "../../lib/platforms/mod.ts";
import { formatBytes } from "../../lib/ctr/table.ts";
import { buildTestImage, sizeOf, type TestImage } from "./fixtures.ts";

const host = defaultPlatform();
const foreign = host.architecture === "amd64"
  ? { os: "linux", architecture: "arm64", variant: "v8" }
  : { os: "linux", architecture: "amd64" };
const busybox = "docker.io/library/busybox:latest";

/**
 * Writes every blob of a test image through the Content service, labelling the index
 * and manifests with the gc.ref edges to their children, as an import does. The
 * writes happen under a lease (as containerd clients write), so garbage collection
 * cannot take the blobs before an image roots them; call the returned `release` once
 * the image records exist.
 */
async function pushTestImage(
  client: ContainerdClient,
  image: TestImage,
  options: { skip?: string[] } = {},
): Promise<{ release: () => Promise<void> }> {
  const labelsOf = new Map<string, Record<string, string>>();
  labelsOf.set(
    image.index.digest,
    childGcLabels(image.manifests.map(({ manifest, platform }) => ({ ...manifest, platform }))),
  );
  for (const part of image.manifests) {
    labelsOf.set(part.manifest.digest, childGcLabels([part.config, ...part.layers]));
  }
  const lease = await client.leases.create();
  const content = client.content.withLease(lease.id);
  for (const [digest, bytes] of image.blobs) {
    if (options.skip?.includes(digest)) continue;
    await content.write(new Uint8Array(bytes), {
      ref: `test-${digest}`,
      expected: digest,
      total: bytes.byteLength,
      labels: labelsOf.get(digest) ?? {},
    });
  }
  return { release: () => client.leases.delete(lease.id) };
}

function blobPath(daemon: TestContainerd, digest: string): string {
  return join(
    daemon.paths.root,
    "io.containerd.content.v1.content",
    "blobs",
    "sha256",
    digest.slice("sha256:".length),
  );
}

async function exists(path: string): Promise<boolean> {
  return await Deno.stat(path).then(() => true, () => false);
}

Deno.test("images: ls shows ctr's columns, sizes and platforms; -q prints refs only", async () => {
  const daemon = await TestContainerd.start();
  const client = daemon.client();
  try {
    const image = buildTestImage([host, foreign], { layerCount: 2 });
    const written = await pushTestImage(client, image);
    await client.images.create({ name: busybox, target: image.index, labels: { b: "2", a: "1" } });
    const single = image.manifests[0];
    await client.images.create({ name: "localhost:5000/single:v1", target: single.manifest });
    await written.release();
    await client.content.collectGarbage();

    const listing = await daemon.ctr(["images", "ls"]);
    assertEquals(listing.code, 0, listing.stderr);
    assertEquals(listing.stderr, "");
    const lines = listing.stdout.trimEnd().split("\n").map((line) => line.trimEnd());
    assertEquals(lines[0].split(/\s+/).filter(Boolean), [
      "REF",
      "TYPE",
      "DIGEST",
      "SIZE",
      "PLATFORMS",
      "LABELS",
    ]);
    const rows = lines.slice(1).map((line) => line.split(/ {1,}(?=\S)/));
    const hostPart = image.manifests[0];
    const expectedSize = sizeOf(
      image.index,
      hostPart.manifest,
      hostPart.config,
      ...hostPart.layers,
    );
    const platforms = [formatPlatform(host), formatPlatform(foreign)].sort().join(",");
    assertEquals(rows[0], [
      busybox,
      MediaTypes.ociIndex,
      image.index.digest,
      ...formatBytes(expectedSize).split(" "),
      platforms,
      "a=1,b=2",
    ]);
    assertEquals(rows[1], [
      "localhost:5000/single:v1",
      MediaTypes.ociManifest,
      single.manifest.digest,
      ...formatBytes(sizeOf(single.manifest, single.config, ...single.layers)).split(" "),
      formatPlatform(host),
      "-",
    ]);
    // Columns line up: each header starts where its column does.
    const column = (text: string) => lines[0].indexOf(text);
    assertEquals(lines[1].indexOf(MediaTypes.ociIndex), column("TYPE"));
    assertEquals(lines[1].indexOf(image.index.digest), column("DIGEST"));
    assertEquals(lines[2].indexOf(platforms.split(",")[0]), column("PLATFORMS"));

    const quiet = await daemon.ctr(["image", "ls", "-q"]);
    assertEquals(quiet.stdout, `${busybox}\nlocalhost:5000/single:v1\n`);
    const filtered = await daemon.ctr(["i", "ls", "-q", "labels.a==1"]);
    assertEquals(filtered.stdout, `${busybox}\n`);
    const either = await daemon.ctr(["i", "ls", "-q", "name~=single", "labels.a==1"]);
    assertEquals(either.stdout, `${busybox}\nlocalhost:5000/single:v1\n`);
    const badFilter = await daemon.ctr(["i", "ls", "name=="]);
    assertEquals(badFilter.code, 1);
    assertStringIncludes(badFilter.stderr, "filter");
  } finally {
    client.close();
    await daemon.cleanup();
  }
});

Deno.test("images: tag, label, inspect and rm through mini-ctr", async () => {
  const daemon = await TestContainerd.start();
  const client = daemon.client();
  try {
    const image = buildTestImage([host], { layerCount: 1 });
    const written = await pushTestImage(client, image);
    await client.images.create({ name: busybox, target: image.index, labels: { origin: "test" } });
    await written.release();

    const tagged = await daemon.ctr(["images", "tag", busybox, "localhost:5000/copy:1"]);
    assertEquals(tagged.code, 0, tagged.stderr);
    assertEquals(tagged.stdout, "localhost:5000/copy:1\n");
    const copy = await client.images.get("localhost:5000/copy:1");
    assertEquals(copy.target, image.index);
    assertEquals(copy.labels, { origin: "test" });
    const again = await daemon.ctr(["images", "tag", busybox, "localhost:5000/copy:1"]);
    assertEquals(again.code, 1);
    assertStringIncludes(again.stderr, "already exists");
    const forced = await daemon.ctr(["images", "tag", "--force", busybox, "localhost:5000/copy:1"]);
    assertEquals(forced.code, 0, forced.stderr);
    const badTarget = await daemon.ctr(["images", "tag", busybox, "Not/Valid"]);
    assertEquals(badTarget.code, 1);
    assertStringIncludes(badTarget.stderr, "is not a valid repository/tag");
    const missingSource = await daemon.ctr(["images", "tag", "busybox", "x:1"]);
    assertEquals(missingSource.code, 1);
    assertStringIncludes(missingSource.stderr, `did you mean "${busybox}"`);

    const labelled = await daemon.ctr(["images", "label", busybox, "z=9", "origin="]);
    assertEquals(labelled.stdout, "z=9\n");
    assertEquals((await client.images.get(busybox)).labels, { z: "9" });

    const tree = await daemon.ctr(["images", "inspect", busybox]);
    assertEquals(tree.code, 0, tree.stderr);
    const part = image.manifests[0];
    const treeLines = tree.stdout.trimEnd().split("\n");
    assertEquals(treeLines[0], busybox);
    assertMatch(treeLines[1], /^│ {4}Created: \d{4}-/);
    assertEquals(treeLines[3], '│    Label "z": "9"');
    assertEquals(
      treeLines.slice(4),
      [
        `└── ${MediaTypes.ociIndex} @${image.index.digest} (${image.index.size} bytes)`,
        `    └── ${MediaTypes.ociManifest} @${part.manifest.digest} (${part.manifest.size} bytes)`,
        `        │    Platform: ${formatPlatform(host)}`,
        `        ├── ${MediaTypes.ociConfig} @${part.config.digest} (${part.config.size} bytes)`,
        `        └── ${MediaTypes.ociLayerGzip} @${part.layers[0].digest} (${
          part.layers[0].size
        } bytes)`,
      ],
    );
    const verbose = await daemon.ctr(["images", "inspect", "--content", busybox]);
    assertStringIncludes(
      verbose.stdout,
      `"containerd.io/gc.ref.content.m.0": "${part.manifest.digest}"`,
    );
    assertStringIncludes(verbose.stdout, '"diff_ids": [');
    const json = await daemon.ctr(["images", "inspect", "--json", busybox]);
    const document = JSON.parse(json.stdout);
    assertEquals(document.image.name, busybox);
    assertEquals(document.manifestDescriptor.digest, part.manifest.digest);
    assertEquals(document.config.rootfs.diff_ids, part.diffIds);
    const noMatch = await daemon.ctr([
      "images",
      "inspect",
      "--json",
      "--platform",
      "linux/s390x",
      busybox,
    ]);
    assertEquals(noMatch.code, 1);
    assertStringIncludes(noMatch.stderr, "no manifest for this platform");

    const removal = await daemon.ctr([
      "images",
      "rm",
      "localhost:5000/copy:1",
      "docker.io/library/none:1",
    ]);
    assertEquals(removal.code, 0, removal.stderr);
    assertEquals(removal.stdout, "localhost:5000/copy:1\n");
    assertStringIncludes(removal.stderr, "docker.io/library/none:1: image not found");
    const familiar = await daemon.ctr(["images", "rm", "busybox"]);
    assertEquals(familiar.code, 0);
    assertStringIncludes(familiar.stderr, `busybox: image not found (did you mean "${busybox}"?`);
    assertEquals((await daemon.ctr(["images", "ls", "-q"])).stdout, `${busybox}\n`);
    const help = await daemon.ctr(["images", "--help"]);
    assertStringIncludes(help.stdout, "delete, del, remove, rm");
  } finally {
    client.close();
    await daemon.cleanup();
  }
});

Deno.test("images: an image in moby is invisible in default", async () => {
  const daemon = await TestContainerd.start();
  const moby = daemon.client("moby");
  const defaultClient = daemon.client();
  try {
    const image = buildTestImage([host]);
    const written = await pushTestImage(moby, image);
    await moby.images.create({ name: busybox, target: image.index });
    await written.release();
    assertEquals((await daemon.ctr(["-n", "moby", "images", "ls", "-q"])).stdout, `${busybox}\n`);
    assertEquals((await daemon.ctr(["images", "ls", "-q"])).stdout, "");
    const missing = await assertRejects(() => defaultClient.images.get(busybox), ApiError);
    assertEquals(missing.code, "not_found");
    // The namespace was created implicitly, and cannot be removed while it holds the image.
    assert((await defaultClient.namespaces.list()).some((namespace) => namespace.name === "moby"));
    const refused = await daemon.ctr(["namespaces", "rm", "moby"]);
    assertEquals(refused.code, 1);
    assertStringIncludes(refused.stderr, "images");
  } finally {
    moby.close();
    defaultClient.close();
    await daemon.cleanup();
  }
});

Deno.test("images: bad input gets a clear error and the daemon stays up", async () => {
  const daemon = await TestContainerd.start();
  const client = daemon.client();
  try {
    const image = buildTestImage([host]);
    const cases: [{ name: string; target: Descriptor }, string][] = [
      [{ name: "Busybox:latest", target: image.index }, "must be lowercase"],
      [{ name: "busybox::x", target: image.index }, "invalid reference"],
      [
        { name: busybox, target: { ...image.index, mediaType: "application/x-what" } },
        "not an image index",
      ],
      [
        { name: busybox, target: { ...image.index, digest: "sha256:xyz" } },
        "target.digest is invalid",
      ],
      [{ name: busybox, target: { ...image.index, size: -1 } }, "non-negative integer"],
    ];
    for (const [input, message] of cases) {
      const error = await assertRejects(() => client.images.create(input), ApiError, message);
      assertEquals(error.code, "invalid_argument", message);
    }
    const wrongShape = await assertRejects(
      () =>
        client.transport.call("/containerd.services.images.v1.Images/Create", { image: "x" }, {
          namespace: "default",
        }),
      ApiError,
      "image is required",
    );
    assertEquals(wrongShape.code, "invalid_argument");
    const noNamespace = await assertRejects(
      () => client.transport.call("/containerd.services.images.v1.Images/List", {}),
      ApiError,
      "namespace is required",
    );
    assertEquals(noNamespace.code, "invalid_argument");
    const badUpdate = await assertRejects(
      () => client.images.update({ name: busybox }, ["labels"]),
      ApiError,
    );
    assertEquals(badUpdate.code, "not_found");
    assertEquals(await client.images.list(), []);
    assertEquals((await client.version()).revision, "mini");
  } finally {
    client.close();
    await daemon.cleanup();
  }
});

Deno.test("images: put creates then replaces; ls survives an image with missing content", async () => {
  const daemon = await TestContainerd.start();
  const client = daemon.client();
  try {
    const first = buildTestImage([host], { tag: "first" });
    const second = buildTestImage([host, foreign], { tag: "second" });
    const firstWritten = await pushTestImage(client, first);
    // Only the index of `second` and the foreign platform: this host's manifest is missing.
    const secondWritten = await pushTestImage(client, second, {
      skip: [second.manifests[0].manifest.digest],
    });
    const created = await client.images.put({ name: busybox, target: first.index });
    const replaced = await client.images.put({
      name: busybox,
      target: second.index,
      labels: { v: "2" },
    });
    await firstWritten.release();
    await secondWritten.release();
    assertEquals(replaced.createdAt, created.createdAt);
    assertEquals(replaced.target, second.index);
    const listing = await daemon.ctr(["images", "ls"]);
    assertEquals(listing.code, 0);
    assertStringIncludes(listing.stderr, `failed calculating size for image ${busybox}`);
    // The index itself is present, so the PLATFORMS column still comes out.
    assertStringIncludes(
      listing.stdout,
      [formatPlatform(host), formatPlatform(foreign)].sort().join(","),
    );
    const tree = await daemon.ctr(["images", "inspect", busybox]);
    assertEquals(tree.code, 0, tree.stderr);
    assertStringIncludes(tree.stdout, "Content does not exist locally, skipping");
  } finally {
    client.close();
    await daemon.cleanup();
  }
});

Deno.test("images: rm --sync garbage-collects blobs nothing else references", async () => {
  const daemon = await TestContainerd.start();
  const client = daemon.client();
  try {
    const doomed = buildTestImage([host], { tag: "doomed", layerCount: 2 });
    const viaCtr = buildTestImage([host], { tag: "via-ctr" });
    const kept = buildTestImage([host], { tag: "kept" });
    const written = [
      await pushTestImage(client, doomed),
      await pushTestImage(client, viaCtr),
      await pushTestImage(client, kept),
    ];
    await client.images.create({ name: busybox, target: doomed.index });
    await client.images.create({ name: "docker.io/library/alias:1", target: doomed.index });
    await client.images.create({ name: "docker.io/library/via-ctr:1", target: viaCtr.index });
    await client.images.create({ name: "docker.io/library/kept:1", target: kept.index });
    for (const lease of written) await lease.release();
    const allBlobs = [...doomed.blobs.keys(), ...viaCtr.blobs.keys(), ...kept.blobs.keys()];
    // A collection now removes nothing: every blob is reachable from an image.
    await client.content.collectGarbage();
    for (const digest of allBlobs) {
      assert(await exists(blobPath(daemon, digest)), `${digest} was collected too early`);
    }
    // One of two names goes: the blobs stay, they are still reachable from the alias.
    await client.images.delete(busybox);
    await client.content.collectGarbage();
    for (const digest of doomed.blobs.keys()) assert(await exists(blobPath(daemon, digest)));
    // The last name goes with sync: the collection has run when the call returns.
    await client.images.delete("docker.io/library/alias:1", { sync: true });
    for (const digest of doomed.blobs.keys()) {
      assertEquals(await exists(blobPath(daemon, digest)), false, `${digest} survived`);
      const gone = await assertRejects(() => client.content.info(digest), ApiError);
      assertEquals(gone.code, "not_found");
    }
    // The same through mini-ctr.
    const removal = await daemon.ctr(["images", "rm", "--sync", "docker.io/library/via-ctr:1"]);
    assertEquals(removal.code, 0, removal.stderr);
    for (const digest of viaCtr.blobs.keys()) {
      assertEquals(await exists(blobPath(daemon, digest)), false, `${digest} survived`);
    }
    for (const digest of kept.blobs.keys()) {
      assert(await exists(blobPath(daemon, digest)), `${digest} of a kept image was removed`);
    }
  } finally {
    client.close();
    await daemon.cleanup();
  }
});
