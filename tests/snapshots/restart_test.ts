// What survives a crash: snapshots are records plus directories, made in one transaction.
// Directories without a record (a Prepare cut short, a Remove cut short, a rolled-back
// transaction) are swept at start-up; snapshots with records are untouched.

import { join } from "node:path";
import { MetadataDb } from "../../lib/metadata/db.ts";
import { openSnapshotStore } from "../../lib/snapshots/open.ts";
import { layerStack } from "../../lib/mount/layers.ts";
import { assertEquals } from "../helpers/assert.ts";
import { missingRoot, requirements } from "../helpers/requirements.ts";
import { listNames } from "./helpers.ts";

Deno.test({
  name: "snapshots: start-up removes half-made directories and keeps real snapshots",
  ignore: requirements("snapshots: start-up cleanup", missingRoot()),
  async fn() {
    const base = await Deno.makeTempDir({ prefix: "mini-snapshots-test-" });
    try {
      let db = new MetadataDb(join(base, "meta.db"));
      let store = openSnapshotStore(db, join(base, "overlayfs"));
      const mounts = store.prepare("default", "keep-active", "");
      await Deno.writeTextFile(join(layerStack(mounts)!.writable!, "file"), "kept");
      await store.commit("default", "keep", "keep-active");
      store.prepare("default", "active", "keep");
      const directory = store.backend.snapshotsDirectory;
      const real = await listNames(directory);
      assertEquals(real, ["1", "2"]);
      db.close();

      // What a crash at various points could leave.
      await Deno.mkdir(join(directory, "new-123abc/fs"), { recursive: true });
      await Deno.mkdir(join(directory, "rm-7/fs"), { recursive: true });
      await Deno.mkdir(join(directory, "99/fs"), { recursive: true });

      db = new MetadataDb(join(base, "meta.db"));
      store = openSnapshotStore(db, join(base, "overlayfs"));
      assertEquals(await listNames(directory), real);
      assertEquals(
        store.walk("default").map((info) => [info.name, info.kind]),
        [["active", "Active"], ["keep", "Committed"]],
      );
      const view = store.view("default", "look", "keep");
      assertEquals(await Deno.readTextFile(join(view[0].source, "file")), "kept");
      // The next id is never one that was used before, even after removals.
      await store.remove("default", "look");
      store.prepare("default", "next", "keep");
      assertEquals(await listNames(directory), ["1", "2", "4"]);
      db.close();
    } finally {
      await Deno.remove(base, { recursive: true });
    }
  },
});
