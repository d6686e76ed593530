// Snapshots as garbage-collection nodes: an image config's gc.ref.snapshot label keeps
// the top of its chain, every snapshot keeps its parent, gc.root labels and Active/View
// snapshots are roots, and unreachable committed snapshots go, directories included.

import { join } from "node:path";
import { GarbageCollector } from "../../lib/gc/collector.ts";
import { CONTENT_NODE, labelReferences } from "../../lib/gc/labels.ts";
import type { GcNode, GcResourceSource } from "../../lib/gc/types.ts";
import { MetadataDb } from "../../lib/metadata/db.ts";
import { snapshotGcSource } from "../../lib/snapshots/gc.ts";
import { openSnapshotStore } from "../../lib/snapshots/open.ts";
import { assertEquals } from "../helpers/assert.ts";
import { missingRoot, requirements } from "../helpers/requirements.ts";
import { listNames } from "./helpers.ts";

/** A stand-in for the content store: config blobs that are roots, with their labels. */
function fakeConfigs(configs: Map<string, Record<string, string>>): GcResourceSource {
  return {
    name: "fake-content",
    types: [CONTENT_NODE],
    roots: () =>
      [...configs.keys()].map((key) => ({ type: CONTENT_NODE, namespace: "default", key })),
    references: (node: GcNode) => labelReferences(node.namespace, configs.get(node.key) ?? {}),
    candidates: () => [],
    remove: () => {},
  };
}

Deno.test({
  name: "snapshots: garbage collection keeps what images and roots reach, removes the rest",
  ignore: requirements("snapshots: garbage collection", missingRoot()),
  async fn() {
    const base = await Deno.makeTempDir({ prefix: "mini-snapshots-test-" });
    const db = new MetadataDb(join(base, "meta.db"));
    try {
      const store = openSnapshotStore(db, join(base, "overlayfs"));
      const commitChain = async (names: string[], parent = "") => {
        for (const name of names) {
          store.prepare("default", `${name}-active`, parent);
          await store.commit("default", name, `${name}-active`);
          parent = name;
        }
      };
      await commitChain(["base", "image-a-top"]);
      await commitChain(["image-b-top"], "base");
      await commitChain(["orphan-1", "orphan-2"]);
      await commitChain(["pinned"]);
      store.update("default", "pinned", { "containerd.io/gc.root": "yes" });
      await commitChain(["under-container"]);
      store.prepare("default", "container-rootfs", "under-container");
      store.prepare("other", "elsewhere-active", "");
      await store.commit("other", "elsewhere", "elsewhere-active");

      const configs = new Map([["sha256:config-a", {
        "containerd.io/gc.ref.snapshot.overlayfs": "image-a-top",
      }]]);
      const collector = new GarbageCollector(db);
      collector.register(fakeConfigs(configs));
      collector.register(snapshotGcSource(store));
      const before = await listNames(store.backend.snapshotsDirectory);

      const report = await collector.collect();
      const removed = report.removed.map((node) => `${node.namespace}/${node.key}`).sort();
      assertEquals(removed, [
        "default/image-b-top",
        "default/orphan-1",
        "default/orphan-2",
        "other/elsewhere",
      ]);
      assertEquals(
        store.walk("default").map((info) => info.name),
        ["base", "container-rootfs", "image-a-top", "pinned", "under-container"],
      );
      const after = await listNames(store.backend.snapshotsDirectory);
      assertEquals(before.length - after.length, 4, "their directories were deleted too");
      assertEquals(after.filter((name) => !/^\d+$/.test(name)), [], "no rm-* left");

      // Dropping the image's reference frees its whole chain on the next pass.
      configs.clear();
      await collector.collect();
      assertEquals(
        store.walk("default").map((info) => info.name),
        ["container-rootfs", "pinned", "under-container"],
      );
    } finally {
      db.close();
      await Deno.remove(base, { recursive: true });
    }
  },
});
