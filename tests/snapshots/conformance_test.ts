// Runs the snapshotter conformance suite twice: against the store in this process, and
// against a real mini-containerd through the Snapshots API.

import { join } from "node:path";
import { MetadataDb } from "../../lib/metadata/db.ts";
import { openSnapshotStore } from "../../lib/snapshots/open.ts";
import { rootPaths } from "../../lib/containerd/daemon.ts";
import { TestContainerd } from "../helpers/containerd.ts";
import { missingOverlay, missingRoot, requirements } from "../helpers/requirements.ts";
import { snapshotterSuite } from "./suite.ts";

const ignore = (name: string) => requirements(name, missingRoot(), missingOverlay());

snapshotterSuite("in-process", ignore("snapshotter conformance (in-process)"), async () => {
  const base = await Deno.makeTempDir({ prefix: "mini-snapshots-test-" });
  const db = new MetadataDb(join(base, "meta.db"));
  const store = openSnapshotStore(db, join(base, "overlayfs"));
  let namespaceNumber = 0;
  return {
    snapshotsDirectory: store.backend.snapshotsDirectory,
    context: () => ({
      snapshots: store.forNamespace(`case-${++namespaceNumber}`),
      otherNamespace: store.forNamespace(`case-${namespaceNumber}-other`),
      snapshotsDirectory: store.backend.snapshotsDirectory,
    }),
    close: async () => {
      db.close();
      await Deno.remove(base, { recursive: true });
    },
  };
});

snapshotterSuite(
  "through the API",
  ignore("snapshotter conformance (through the API)"),
  async () => {
    const daemon = await TestContainerd.start();
    const clients: ReturnType<TestContainerd["client"]>[] = [];
    let namespaceNumber = 0;
    return {
      snapshotsDirectory: join(rootPaths(daemon.paths.root).overlayfs, "snapshots"),
      context: () => {
        const mine = daemon.client(`case-${++namespaceNumber}`);
        const other = daemon.client(`case-${namespaceNumber}-other`);
        clients.push(mine, other);
        return {
          snapshots: mine.snapshots(),
          otherNamespace: other.snapshots(),
          snapshotsDirectory: join(rootPaths(daemon.paths.root).overlayfs, "snapshots"),
        };
      },
      close: async () => {
        for (const client of clients) client.close();
        await daemon.cleanup();
      },
    };
  },
);
