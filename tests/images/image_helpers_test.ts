// Unit tests of the image helpers (lib/images): validated parsing, walking from a
// target, platform choice, size, platforms, gc labels and chainIDs, on an in-memory image.

import { gunzipSync } from "node:zlib";
import { assert, assertEquals, assertRejects, assertThrows } from "../helpers/assert.ts";
import { ApiError } from "../../lib/api/errors.ts";
import {
  chainId,
  chainIds,
  childGcLabels,
  formatPlatformsColumn,
  imageChildren,
  imagePlatforms,
  imageSize,
  MAX_MANIFEST_BYTES,
  MediaTypes,
  parseImageConfig,
  parseImageIndex,
  parseImageManifest,
  readIndexOrManifest,
  resolveImage,
  walkImage,
} from "../../lib/images/mod.ts";
import { defaultPlatform, formatPlatform, onlyPlatform } from "../../lib/platforms/mod.ts";
import { buildTestImage, memoryReader, sha256, sizeOf } from "./fixtures.ts";

const encode = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
const amd64 = { os: "linux", architecture: "amd64" };
const arm64 = { os: "linux", architecture: "arm64", variant: "v8" };
const armV7 = { os: "linux", architecture: "arm", variant: "v7" };

Deno.test("images: the fixture's layers are real gzip tars whose diffIDs match the config", () => {
  const image = buildTestImage([amd64], { layerCount: 2 });
  const [{ layers, diffIds }] = image.manifests;
  for (const [index, layer] of layers.entries()) {
    const tar = gunzipSync(image.blobs.get(layer.digest)!);
    assertEquals(sha256(tar), diffIds[index]);
    assertEquals(new TextDecoder().decode(tar.subarray(257, 262)), "ustar");
  }
});

Deno.test("images: chainIDs follow the OCI formula", () => {
  const image = buildTestImage([amd64], { layerCount: 3 });
  const [a, b, c] = image.manifests[0].diffIds;
  const ids = chainIds([a, b, c]);
  assertEquals(ids[0], a);
  assertEquals(ids[1], sha256(`${a} ${b}`));
  assertEquals(ids[2], sha256(`${ids[1]} ${c}`));
  assertEquals(chainId([a, b, c]), ids[2]);
  assertEquals(chainId([]), undefined);
  // Order matters: the same layers stacked differently are a different chain.
  assert(chainId([b, a, c]) !== ids[2]);
  assertThrows(() => chainIds([a, "sha256:nothex"]), ApiError, "diffID 1");
});

Deno.test("images: resolveImage picks the best manifest for a platform", async () => {
  const image = buildTestImage([armV7, amd64, arm64]);
  const reader = memoryReader(image.blobs);
  const forArm64 = await resolveImage(reader, image.index, onlyPlatform(arm64));
  assertEquals(forArm64.manifestDescriptor.digest, image.manifests[2].manifest.digest);
  assertEquals(forArm64.config.architecture, "arm64");
  assertEquals(forArm64.indexes.length, 1);
  // An arm/v8-only host falls back to arm/v7.
  const forArmV8 = await resolveImage(
    reader,
    image.index,
    onlyPlatform({ os: "linux", architecture: "arm", variant: "v8" }),
  );
  assertEquals(forArmV8.manifestDescriptor.digest, image.manifests[0].manifest.digest);
  const forHost = await resolveImage(reader, image.index);
  assertEquals(forHost.config.architecture, defaultPlatform().architecture);
  const missing = await assertRejects(
    () => resolveImage(reader, image.index, onlyPlatform({ os: "linux", architecture: "s390x" })),
    ApiError,
    "no manifest for this platform",
  );
  assertEquals(missing.code, "not_found");
  assert(missing.message.includes("linux/arm64/v8"), missing.message);
  // A lone manifest is judged by its config's platform.
  const single = image.manifests[1];
  assertEquals(
    (await resolveImage(reader, single.manifest, onlyPlatform(amd64))).manifest.layers,
    single.layers,
  );
  await assertRejects(
    () => resolveImage(reader, single.manifest, onlyPlatform(arm64)),
    ApiError,
    "is for linux/amd64",
  );
});

Deno.test("images: size counts the target, one manifest, its config and layers, reading no layer", async () => {
  const image = buildTestImage([arm64, amd64], { layerCount: 2 });
  const reader = memoryReader(image.blobs);
  const chosen = image.manifests[1];
  const size = await imageSize(reader, image.index, onlyPlatform(amd64));
  assertEquals(size, sizeOf(image.index, chosen.manifest, chosen.config, ...chosen.layers));
  const layerDigests = image.manifests.flatMap((manifest) => manifest.layers.map((l) => l.digest));
  assert(!reader.reads.some((digest) => layerDigests.includes(digest)), "layers were read");
  assert(!reader.reads.includes(image.manifests[0].manifest.digest), "other platform was read");
});

Deno.test("images: platforms of an index come from its descriptors, of a manifest from its config", async () => {
  const image = buildTestImage([arm64, amd64, armV7]);
  const onlyIndex = new Map([[image.index.digest, image.blobs.get(image.index.digest)!]]);
  const platforms = await imagePlatforms(memoryReader(onlyIndex), image.index);
  assertEquals(platforms.map(formatPlatform), ["linux/arm64/v8", "linux/amd64", "linux/arm/v7"]);
  assertEquals(formatPlatformsColumn(platforms), "linux/amd64,linux/arm/v7,linux/arm64/v8");
  assertEquals(formatPlatformsColumn([]), "-");
  const single = image.manifests[2];
  assertEquals(
    (await imagePlatforms(memoryReader(image.blobs), single.manifest)).map(formatPlatform),
    ["linux/arm/v7"],
  );
  // Attestation entries (unknown/unknown) are not platforms.
  const withAttestation = {
    schemaVersion: 2,
    mediaType: MediaTypes.ociIndex,
    manifests: [
      { ...single.manifest, platform: armV7 },
      { ...single.manifest, platform: { os: "unknown", architecture: "unknown" } },
    ],
  };
  const bytes = encode(withAttestation);
  const descriptor = { mediaType: MediaTypes.ociIndex, digest: sha256(bytes), size: bytes.length };
  const blobs = new Map([[descriptor.digest, bytes]]);
  assertEquals((await imagePlatforms(memoryReader(blobs), descriptor)).length, 1);
});

Deno.test("images: a missing blob surfaces as not_found from the walk", async () => {
  const image = buildTestImage([amd64]);
  const blobs = new Map(image.blobs);
  blobs.delete(image.manifests[0].manifest.digest);
  const error = await assertRejects(() => imageSize(memoryReader(blobs), image.index), ApiError);
  assertEquals(error.code, "not_found");
});

Deno.test("images: walking visits parents before children and can skip subtrees", async () => {
  const image = buildTestImage([amd64, arm64], { layerCount: 2 });
  const reader = memoryReader(image.blobs);
  const seen: string[] = [];
  await walkImage(reader, image.index, (descriptor, parent) => {
    seen.push(`${parent?.digest.slice(7, 11) ?? "-"}>${descriptor.digest.slice(7, 11)}`);
  });
  const short = (descriptor: { digest: string }) => descriptor.digest.slice(7, 11);
  const expected = [`->${short(image.index)}`];
  for (const part of image.manifests) {
    expected.push(`${short(image.index)}>${short(part.manifest)}`);
    for (const child of [part.config, ...part.layers]) {
      expected.push(`${short(part.manifest)}>${short(child)}`);
    }
  }
  assertEquals(seen, expected);
  const manifestsOnly: string[] = [];
  await walkImage(reader, image.index, (descriptor) => {
    manifestsOnly.push(descriptor.digest);
    return descriptor.mediaType !== MediaTypes.ociManifest;
  });
  assertEquals(manifestsOnly.length, 3);
  assertEquals(
    (await imageChildren(reader, image.manifests[0].manifest)).map((child) => child.digest),
    [image.manifests[0].config.digest, ...image.manifests[0].layers.map((layer) => layer.digest)],
  );
  assertEquals(await imageChildren(reader, image.manifests[0].config), []);
});

Deno.test("images: gc labels link parents to children like containerd's", async () => {
  const image = buildTestImage([amd64, arm64], { layerCount: 2 });
  const reader = memoryReader(image.blobs);
  const indexChildren = await imageChildren(reader, image.index);
  assertEquals(childGcLabels(indexChildren), {
    "containerd.io/gc.ref.content.m.0": image.manifests[0].manifest.digest,
    "containerd.io/gc.ref.content.m.1": image.manifests[1].manifest.digest,
  });
  const manifestChildren = await imageChildren(reader, image.manifests[1].manifest);
  assertEquals(childGcLabels(manifestChildren), {
    "containerd.io/gc.ref.content.config": image.manifests[1].config.digest,
    "containerd.io/gc.ref.content.l.0": image.manifests[1].layers[0].digest,
    "containerd.io/gc.ref.content.l.1": image.manifests[1].layers[1].digest,
  });
});

Deno.test("images: malformed manifests, indexes and configs are refused with the reason", async () => {
  const image = buildTestImage([amd64]);
  const { manifest, config, layers } = image.manifests[0];
  const goodManifest = JSON.parse(new TextDecoder().decode(image.blobs.get(manifest.digest)!));
  const manifestCases: [unknown, string][] = [
    [{ ...goodManifest, schemaVersion: 3 }, "schemaVersion 3, expected 2"],
    [{ schemaVersion: 1, fsLayers: [] }, "schema 1"],
    [
      { ...goodManifest, layers: [{ ...layers[0], mediaType: "application/x-foo" }] },
      "unknown media type",
    ],
    [
      { ...goodManifest, layers: [{ ...layers[0], digest: "sha256:123" }] },
      "layers[0].digest is invalid",
    ],
    [{ ...goodManifest, layers: [{ ...layers[0], size: -1 }] }, "non-negative integer"],
    [
      { ...goodManifest, config: { ...config, mediaType: MediaTypes.ociLayer } },
      "expected an image config",
    ],
    [{ ...goodManifest, mediaType: MediaTypes.ociIndex }, "declares mediaType"],
    [{ ...goodManifest, manifests: [] }, "it is an index"],
    [{ ...goodManifest, layers: undefined }, '"layers" array'],
    [[1, 2], "must be a JSON object"],
  ];
  for (const [document, message] of manifestCases) {
    const error = assertThrows(
      () => parseImageManifest(encode(document), manifest),
      ApiError,
      message,
    );
    assertEquals(error.code, "invalid_argument");
  }
  assertThrows(
    () => parseImageManifest(new TextEncoder().encode("{not json"), manifest),
    ApiError,
    "not valid JSON",
  );
  const huge = new Uint8Array(MAX_MANIFEST_BYTES + 1).fill(32);
  assertThrows(() => parseImageManifest(huge), ApiError, "limit for manifests");
  // Refused before reading when the descriptor already says it is too big.
  const reader = memoryReader(image.blobs);
  await assertRejects(
    () => readIndexOrManifest(reader, { ...manifest, size: MAX_MANIFEST_BYTES + 1 }),
    ApiError,
    "over the",
  );
  assertEquals(reader.reads.length, 0);
  await assertRejects(
    () => readIndexOrManifest(reader, { ...manifest, size: 10 }),
    ApiError,
    "descriptor says 10",
  );
  await assertRejects(
    () => readIndexOrManifest(reader, { ...manifest, mediaType: "application/x-unknown" }),
    ApiError,
    "does not know",
  );

  const indexCases: [unknown, string][] = [
    [{ schemaVersion: 2, manifests: [{ ...config }] }, "expected an image manifest or index"],
    [{ schemaVersion: 2 }, '"manifests" array'],
    [{ schemaVersion: 2, manifests: [], layers: [] }, "it is a manifest"],
    [{ schemaVersion: "2", manifests: [] }, 'schemaVersion "2"'],
  ];
  for (const [document, message] of indexCases) {
    assertThrows(() => parseImageIndex(encode(document)), ApiError, message);
  }
  assertEquals(parseImageIndex(image.blobs.get(image.index.digest)!).manifests.length, 1);

  const configCases: [unknown, string][] = [
    [{ architecture: "amd64", rootfs: { type: "layers", diff_ids: [] } }, '"os"'],
    [{ os: "linux", architecture: "amd64", rootfs: { type: "layers" } }, "rootfs"],
    [
      { os: "linux", architecture: "amd64", rootfs: { type: "layers", diff_ids: ["x"] } },
      "diff_ids[0]",
    ],
  ];
  for (const [document, message] of configCases) {
    assertThrows(() => parseImageConfig(encode(document)), ApiError, message);
  }
});
