// Unit tests of the image records store (lib/images/store.ts) and its garbage
// collection roots, on a temp metadata database.

import { join } from "node:path";
import { assert, assertEquals, assertNotEquals, assertThrows } from "../helpers/assert.ts";
import { ApiError } from "../../lib/api/errors.ts";
import { GarbageCollector } from "../../lib/gc/collector.ts";
import { CONTENT_NODE, labelReferences } from "../../lib/gc/labels.ts";
import type { GcNode, GcResourceSource } from "../../lib/gc/types.ts";
import { imagesGcSource } from "../../lib/images/gc.ts";
import { MediaTypes } from "../../lib/images/media_types.ts";
import { ImageStore } from "../../lib/images/store.ts";
import type { Descriptor } from "../../lib/images/types.ts";
import { childGcLabels, imageChildren } from "../../lib/images/walk.ts";
import { MetadataDb } from "../../lib/metadata/db.ts";
import { NamespaceStore } from "../../lib/metadata/namespaces.ts";
import { buildTestImage, memoryReader } from "./fixtures.ts";

async function withStore(
  work: (store: ImageStore, namespaces: NamespaceStore, db: MetadataDb) => Promise<void> | void,
) {
  const dir = await Deno.makeTempDir({ prefix: "mini-images-store-" });
  const db = new MetadataDb(join(dir, "meta.db"));
  try {
    const namespaces = new NamespaceStore(db);
    await work(new ImageStore(db, namespaces), namespaces, db);
  } finally {
    db.close();
    await Deno.remove(dir, { recursive: true });
  }
}

const image = buildTestImage([{ os: "linux", architecture: "amd64" }]);
const other = buildTestImage([{ os: "linux", architecture: "arm64" }], { tag: "other" });
const busybox = "docker.io/library/busybox:latest";

function expectError(work: () => unknown, code: string, message: string): void {
  const error = assertThrows(work, ApiError, message);
  assertEquals(error.code, code, message);
}

Deno.test("image store: create, get, list, and the namespace appears on first use", async () => {
  await withStore((store, namespaces) => {
    assert(!namespaces.exists("moby"));
    const created = store.create("moby", {
      name: busybox,
      target: { ...image.index, platform: { os: "linux", architecture: "amd64" } },
      labels: { team: "lab", empty: "" },
    });
    assert(namespaces.exists("moby"));
    // Only mediaType, digest, size (and annotations) of the target are stored.
    assertEquals(created.target, image.index);
    assertEquals(created.labels, { team: "lab" });
    assertEquals(created.createdAt, created.updatedAt);
    assertEquals(store.get("moby", busybox), created);
    assertEquals(store.list("moby").map((entry) => entry.name), [busybox]);
    expectError(
      () => store.create("moby", { name: busybox, target: other.index }),
      "already_exists",
      "already exists",
    );
  });
});

Deno.test("image store: namespaces are isolated", async () => {
  await withStore((store, namespaces) => {
    store.create("moby", { name: busybox, target: image.index });
    assertEquals(store.list("default"), []);
    expectError(() => store.get("default", busybox), "not_found", "not found in namespace default");
    store.create("default", { name: busybox, target: other.index });
    assertNotEquals(store.get("default", busybox).target, store.get("moby", busybox).target);
    store.delete("default", busybox);
    assertEquals(store.get("moby", busybox).target, image.index);
    // A namespace holding images cannot be removed.
    expectError(() => namespaces.delete("moby"), "failed_precondition", "images");
  });
});

Deno.test("image store: invalid names, targets and labels are refused", async () => {
  await withStore((store) => {
    const cases: [unknown, unknown, unknown, string][] = [
      ["", image.index, {}, "name must not be empty"],
      ["Busybox", image.index, {}, "must be lowercase"],
      ["docker.io/library/busybox:-x", image.index, {}, "invalid reference"],
      [busybox, undefined, {}, "target is required"],
      [busybox, { ...image.index, digest: "sha256:1234" }, {}, "target.digest is invalid"],
      [busybox, { ...image.index, digest: "md5:abc" }, {}, "not supported"],
      [busybox, { ...image.index, mediaType: "application/x-unknown" }, {}, "not an image index"],
      [busybox, { ...image.manifests[0].layers[0] }, {}, "not an image index"],
      [busybox, { ...image.index, size: 0 }, {}, "greater than zero"],
      [busybox, { ...image.index, size: -5 }, {}, "non-negative integer"],
      [busybox, { ...image.index, size: "12" }, {}, "non-negative integer"],
      [busybox, image.index, { key: 1 }, "string value"],
    ];
    for (const [name, target, labels, message] of cases) {
      expectError(
        () =>
          store.create("default", {
            name: name as string,
            target: target as Descriptor,
            labels: labels as Record<string, string>,
          }),
        "invalid_argument",
        message,
      );
    }
    assertEquals(store.list("default"), []);
    // Familiar names are valid references; they are stored as given.
    assertEquals(store.create("default", { name: "busybox", target: image.index }).name, "busybox");
  });
});

Deno.test("image store: update replaces, or changes only the fields of the mask", async () => {
  await withStore((store) => {
    const created = store.create("default", {
      name: busybox,
      target: image.index,
      labels: { a: "1", b: "2" },
    });
    const relabeled = store.update("default", { name: busybox, labels: { c: "3", a: "" } }, [
      "labels.c",
      "labels.a",
    ]);
    assertEquals(relabeled.labels, { b: "2", c: "3" });
    assertEquals(relabeled.target, image.index);
    assertEquals(relabeled.createdAt, created.createdAt);
    const replaced = store.update("default", { name: busybox, labels: { only: "this" } });
    assertEquals(replaced.labels, { only: "this" });
    const retargeted = store.update("default", { name: busybox, target: other.index }, ["target"]);
    assertEquals(retargeted.target, other.index);
    assertEquals(retargeted.labels, { only: "this" });
    const annotated = store.update(
      "default",
      { name: busybox, target: { ...other.index, annotations: { note: "x" } } },
      ["annotations.note"],
    );
    assertEquals(annotated.target.annotations, { note: "x" });
    expectError(
      () => store.update("default", { name: busybox }, ["name"]),
      "invalid_argument",
      'cannot update field "name"',
    );
    expectError(
      () => store.update("default", { name: busybox, target: { ...image.index, size: 0 } }),
      "invalid_argument",
      "greater than zero",
    );
    expectError(
      () => store.update("default", { name: "docker.io/library/none:latest", labels: {} }),
      "not_found",
      "not found",
    );
    assertEquals(store.get("default", busybox).target.digest, other.index.digest);
  });
});

Deno.test("image store: put creates, then replaces target and labels, keeping createdAt", async () => {
  await withStore((store) => {
    const first = store.put("default", { name: busybox, target: image.index, labels: { v: "1" } });
    const second = store.put("default", { name: busybox, target: other.index });
    assertEquals(second.createdAt, first.createdAt);
    assertEquals(second.target, other.index);
    assertEquals(second.labels, {});
    assertEquals(store.list("default").length, 1);
  });
});

Deno.test("image store: list filters like ctr's", async () => {
  await withStore((store) => {
    store.create("default", { name: busybox, target: image.index, labels: { env: "prod" } });
    store.create("default", {
      name: "docker.io/library/alpine:3",
      target: image.manifests[0].manifest,
      labels: { env: "dev", "containerd.io/gc.root": "x" },
    });
    store.create("default", { name: "localhost:5000/app:v1", target: other.index });
    const names = (...filters: string[]) =>
      store.list("default", filters).map((entry) => entry.name);
    assertEquals(names(), [
      "docker.io/library/alpine:3",
      busybox,
      "localhost:5000/app:v1",
    ]);
    assertEquals(names(`name==${busybox}`), [busybox]);
    assertEquals(names("name~=^docker.io/"), ["docker.io/library/alpine:3", busybox]);
    assertEquals(names("labels.env==prod"), [busybox]);
    assertEquals(names("labels.env"), ["docker.io/library/alpine:3", busybox]);
    assertEquals(names('labels."containerd.io/gc.root"'), ["docker.io/library/alpine:3"]);
    assertEquals(names(`target.mediatype==${MediaTypes.ociManifest}`), [
      "docker.io/library/alpine:3",
    ]);
    assertEquals(names(`target.digest==${other.index.digest}`), ["localhost:5000/app:v1"]);
    // Comma is AND, separate filters are OR.
    assertEquals(names("labels.env==prod,name~=alpine"), []);
    assertEquals(names("labels.env==prod", "name~=alpine"), [
      "docker.io/library/alpine:3",
      busybox,
    ]);
    expectError(() => store.list("default", ["name=="]), "invalid_argument", "filter");
    expectError(() => store.list("default", ["name~=("]), "invalid_argument", "regular expression");
  });
});

Deno.test("image store: delete, conditional delete and the not-found hint", async () => {
  await withStore((store) => {
    store.create("default", { name: busybox, target: image.index });
    expectError(
      () => store.get("default", "busybox"),
      "not_found",
      `did you mean "${busybox}"`,
    );
    expectError(
      () => store.delete("default", busybox, { target: other.index.digest }),
      "not_found",
      `has target ${image.index.digest}`,
    );
    store.delete("default", busybox, { target: image.index.digest });
    assertEquals(store.list("default"), []);
    expectError(() => store.delete("default", busybox), "not_found", "not found");
  });
});

/** A stand-in for the content store's gc source: blobs in a Map, edges from their labels. */
function memoryContentSource(
  blobs: Map<string, { namespace: string; labels: Record<string, string> }>,
): GcResourceSource {
  return {
    name: "memory content",
    types: [CONTENT_NODE],
    roots: () => [],
    references: (node) => labelReferences(node.namespace, blobs.get(node.key)?.labels ?? {}),
    candidates: () =>
      [...blobs].map(([digest, blob]): GcNode => ({
        type: CONTENT_NODE,
        namespace: blob.namespace,
        key: digest,
      })),
    remove: (node) => void blobs.delete(node.key),
  };
}

Deno.test("image store: images are gc roots; after delete their blobs are collectable", async () => {
  await withStore(async (store, _namespaces, db) => {
    // Label every blob with the gc.ref edges to its children, as import does.
    const blobs = new Map<string, { namespace: string; labels: Record<string, string> }>();
    const reader = memoryReader(new Map([...image.blobs, ...other.blobs]));
    for (const digest of [...image.blobs.keys(), ...other.blobs.keys()]) {
      blobs.set(digest, { namespace: "default", labels: {} });
    }
    for (const test of [image, other]) {
      blobs.get(test.index.digest)!.labels = childGcLabels(await imageChildren(reader, test.index));
      for (const part of test.manifests) {
        blobs.get(part.manifest.digest)!.labels = childGcLabels(
          await imageChildren(reader, part.manifest),
        );
      }
    }
    const collector = new GarbageCollector(db);
    collector.register(imagesGcSource(store));
    collector.register(memoryContentSource(blobs));
    store.create("default", { name: busybox, target: image.index });
    store.create("default", { name: "docker.io/library/other:1", target: other.index });
    store.create("default", { name: "docker.io/library/alias:1", target: other.index });
    const nothing = await collector.collect();
    assertEquals(nothing.removed, []);
    store.delete("default", busybox);
    const first = await collector.collect();
    assertEquals(first.removed.map((node) => node.key).sort(), [...image.blobs.keys()].sort());
    assertEquals([...blobs.keys()].sort(), [...other.blobs.keys()].sort());
    // Two names on one target: the blobs live until the last name goes.
    store.delete("default", "docker.io/library/other:1");
    assertEquals((await collector.collect()).removed, []);
    store.delete("default", "docker.io/library/alias:1");
    assertEquals((await collector.collect()).removed.length, other.blobs.size);
    assertEquals(blobs.size, 0);
  });
});
