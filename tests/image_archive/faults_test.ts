// Bad archives: each one must fail with an error naming the problem, leave no
// unfinished ingest and no unverified blob behind, create no image, and leave the
// daemon serving.

import { gzipSync } from "node:zlib";
import { join } from "node:path";
import { assert, assertEquals, assertMatch, assertRejects } from "../helpers/assert.ts";
import { TestContainerd } from "../helpers/containerd.ts";
import { ApiError } from "../../lib/api/errors.ts";
import { importImages } from "../../lib/image_archive/import.ts";
import { MediaTypes } from "../../lib/images/media_types.ts";
import { sha256Digest } from "../../lib/image_archive/digest.ts";
import type { TarRecord } from "../../lib/image_archive/tar_stream.ts";
import {
  dockerSaveRecords,
  fileRecord,
  ociArchive,
  ociLayoutFiles,
  pseudoRandomBytes,
  syntheticImage,
  tarBytes,
  verifiedBlobs,
} from "./fixtures.ts";

const imageName = { "io.containerd.image.name": "docker.io/library/faulty:latest" };

function streamOf(bytes: Uint8Array): ReadableStream<Uint8Array> {
  return new Blob([bytes as BlobPart]).stream();
}

async function bytesOf(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** A valid archive of an image with a 1 MiB layer, and that image. */
async function validArchive() {
  const image = await syntheticImage({
    seed: "faults",
    layerSize: 1024 * 1024,
    annotations: imageName,
  });
  return { image, bytes: await bytesOf(ociArchive([image.manifest], image.blobs)) };
}

/** Rewrites one byte in the middle of a copy. */
function flipByteAt(bytes: Uint8Array, offset: number): Uint8Array {
  const copy = bytes.slice();
  copy[offset] ^= 0xff;
  return copy;
}

Deno.test("import faults: every broken archive is refused cleanly and the daemon stays up", async (t) => {
  const daemon = await TestContainerd.start();
  const client = daemon.client();
  const { image, bytes: valid } = await validArchive();
  const layer = image.layers[0];
  const layerBytes = image.blobs.get(layer.digest)!;

  /** Imports `archive`, expects an ApiError matching `pattern`, and checks nothing leaked. */
  const refuses = async (archive: Uint8Array, pattern: RegExp) => {
    const error = await assertRejects(() => importImages(client, streamOf(archive)), ApiError);
    assertMatch(error.message, pattern);
    assertEquals(await client.content.listStatuses(), [], "no ingest left behind");
    await verifiedBlobs(daemon.paths.root); // throws on a blob whose bytes do not match its name
    assertEquals(await client.images.list(), [], "no image created");
    assertEquals((await client.version()).revision, "mini", "the daemon still answers");
    // Whole blobs that arrived before the failure belong to nothing once the import's
    // lease is gone: a collection removes them all.
    await client.content.collectGarbage();
    assertEquals(await verifiedBlobs(daemon.paths.root), [], "leftovers are collectable");
    return error;
  };

  try {
    await t.step("an entry name climbing out with ../", async () => {
      const records = [
        fileRecord("../../etc/evil", new Uint8Array([1])),
        ...ociLayoutFiles([image.manifest], image.blobs),
      ];
      await refuses(await tarBytes(records), /"\.\.\/\.\.\/etc\/evil" escapes the archive root/);
    });

    await t.step("an absolute entry name", async () => {
      const records = [
        ...ociLayoutFiles([image.manifest], image.blobs),
        fileRecord("/etc/passwd", new Uint8Array([1])),
      ];
      await refuses(await tarBytes(records), /"\/etc\/passwd" has an absolute path/);
    });

    await t.step("a blob that is a symlink", async () => {
      const records: TarRecord[] = ociLayoutFiles([image.manifest], image.blobs)
        .filter((record) => record.name !== `blobs/sha256/${layer.digest.slice(7)}`);
      records.push({
        name: `blobs/sha256/${layer.digest.slice(7)}`,
        type: "symlink",
        mode: 0o777,
        linkname: "/etc/shadow",
      });
      await refuses(await tarBytes(records), /is a symlink, not a regular file/);
    });

    await t.step("a blob whose bytes do not match its digest name", async () => {
      const records = ociLayoutFiles([image.manifest], image.blobs).map((record) =>
        record.name === `blobs/sha256/${layer.digest.slice(7)}`
          ? fileRecord(record.name, flipByteAt(layerBytes, 1000))
          : record
      );
      await refuses(await tarBytes(records), /does not match its name/);
      assert(!(await verifiedBlobs(daemon.paths.root)).includes(layer.digest));
    });

    await t.step("a malformed blob name", async () => {
      const records = [
        ...ociLayoutFiles([image.manifest], image.blobs),
        fileRecord("blobs/sha256/not-hex", new Uint8Array([1])),
      ];
      await refuses(await tarBytes(records), /not a valid blob name/);
    });

    await t.step("an archive truncated in the middle of the layer", async () => {
      const layerOffset = indexOfBytes(valid, layerBytes.subarray(0, 64));
      assert(layerOffset > 0);
      await refuses(valid.subarray(0, layerOffset + 300_000), /archive is truncated/);
      assert(!(await verifiedBlobs(daemon.paths.root)).includes(layer.digest));
    });

    await t.step("a gzip archive with a corrupted byte", async () => {
      const gzipped = new Uint8Array(gzipSync(valid, { level: 1 }));
      await refuses(
        flipByteAt(gzipped, Math.floor(gzipped.length / 2)),
        /gzip stream is corrupt or truncated/,
      );
    });

    await t.step("a truncated gzip archive", async () => {
      const gzipped = new Uint8Array(gzipSync(valid, { level: 1 }));
      await refuses(gzipped.subarray(0, gzipped.length - 5000), /corrupt or truncated|truncated/);
    });

    await t.step("bytes that are not a tar at all", async () => {
      await refuses(pseudoRandomBytes("not a tar", 4096), /not a valid tar stream/);
    });

    await t.step("a layer of an unknown media type", async () => {
      const odd = await syntheticImage({ seed: "odd", annotations: imageName });
      const manifest = JSON.parse(new TextDecoder().decode(odd.blobs.get(odd.manifest.digest)));
      manifest.layers[0].mediaType = "application/x-mystery";
      const blobs = new Map(odd.blobs);
      blobs.delete(odd.manifest.digest);
      const manifestBytes = new TextEncoder().encode(JSON.stringify(manifest));
      blobs.set(sha256Digest(manifestBytes), manifestBytes);
      const descriptor = {
        ...odd.manifest,
        digest: sha256Digest(manifestBytes),
        size: manifestBytes.byteLength,
      };
      await refuses(
        await bytesOf(ociArchive([descriptor], blobs)),
        /unknown media type application\/x-mystery/,
      );
    });

    await t.step("an index entry of an unknown media type", async () => {
      const entry = { ...image.manifest, mediaType: "application/x-not-an-image" };
      await refuses(await bytesOf(ociArchive([entry], image.blobs)), /application\/x-not-an-image/);
    });

    await t.step("a manifest whose config is missing from the archive", async () => {
      const blobs = new Map(image.blobs);
      blobs.delete(image.config.digest);
      await refuses(
        await bytesOf(ociArchive([image.manifest], blobs)),
        new RegExp(
          `${image.config.digest} is referenced but is neither in the archive nor in the content store`,
        ),
      );
    });

    await t.step("an index.json over the JSON size limit", async () => {
      const huge = {
        ...JSON.parse('{"schemaVersion":2}'),
        manifests: [],
        padding: "x".repeat(5 * 1024 * 1024),
      };
      const records = [
        fileRecord("oci-layout", { imageLayoutVersion: "1.0.0" }),
        fileRecord("index.json", huge),
      ];
      await refuses(
        await tarBytes(records),
        /index\.json is \d+ bytes, over the 4194304-byte limit/,
      );
    });

    await t.step("an unsupported OCI layout version", async () => {
      const records = ociLayoutFiles([image.manifest], image.blobs).map((record) =>
        record.name === "oci-layout"
          ? fileRecord("oci-layout", { imageLayoutVersion: "9.9.9" })
          : record
      );
      await refuses(await tarBytes(records), /unsupported OCI layout version "9\.9\.9"/);
    });

    await t.step("a docker manifest.json naming a layer that is not there", async () => {
      const records = dockerSaveRecords([{ image, repoTags: ["faulty:latest"] }])
        .filter((record) => !record.name.endsWith("/layer.tar"));
      await refuses(
        await tarBytes(records),
        /layer ".*\/layer\.tar" listed in manifest\.json is not in the archive/,
      );
    });

    await t.step("a tar with neither layout nor manifest.json", async () => {
      await refuses(
        await tarBytes([fileRecord("hello.txt", new Uint8Array([104, 105]))]),
        /unrecognized image archive/,
      );
    });

    await t.step("mini-ctr reports the problem and exits 1", async () => {
      const path = join(daemon.paths.base, "traversal.tar");
      await Deno.writeFile(path, await tarBytes([fileRecord("../x", new Uint8Array([1]))]));
      const result = await daemon.ctr(["images", "import", "--no-unpack", path]);
      assertEquals(result.code, 1);
      assertMatch(result.stderr, /^ctr: archive entry "\.\.\/x" escapes the archive root/);
      const missing = await daemon.ctr(["images", "import", join(daemon.paths.base, "nope.tar")]);
      assertEquals(missing.code, 1);
      assertMatch(missing.stderr, /cannot open .*nope\.tar/);
    });

    await t.step("after all that, a good archive still imports", async () => {
      const result = await importImages(client, streamOf(valid));
      assertEquals(result.images.map((record) => record.name), ["docker.io/library/faulty:latest"]);
      assert((await verifiedBlobs(daemon.paths.root)).includes(layer.digest));
      assertEquals(
        JSON.parse(new TextDecoder().decode(await client.content.readAll(image.manifest.digest)))
          .mediaType,
        MediaTypes.ociManifest,
      );
    });
  } finally {
    client.close();
    await daemon.cleanup();
  }
});

/** The position of `needle` in `haystack`, or -1. */
function indexOfBytes(haystack: Uint8Array, needle: Uint8Array): number {
  outer: for (let start = 0; start <= haystack.length - needle.length; start++) {
    for (let offset = 0; offset < needle.length; offset++) {
      if (haystack[start + offset] !== needle[offset]) continue outer;
    }
    return start;
  }
  return -1;
}
