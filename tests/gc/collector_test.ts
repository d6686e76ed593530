// Unit tests of the mark-and-sweep collector (lib/gc/collector.ts) with stand-in
// sources on a real metadata database: reachability across types and cycles, the
// single transaction, and cleanup only after commit.

import { join } from "node:path";
import { assertEquals, assertRejects } from "../helpers/assert.ts";
import { GarbageCollector } from "../../lib/gc/collector.ts";
import { labelReferences } from "../../lib/gc/labels.ts";
import type { GcNode, GcResourceSource } from "../../lib/gc/types.ts";
import { MetadataDb } from "../../lib/metadata/db.ts";

/** A source whose records are rows of a table, with edges kept in memory. */
class TableSource implements GcResourceSource {
  readonly types: string[];
  cleanups = 0;
  failOn?: string;

  constructor(
    private readonly db: MetadataDb,
    readonly name: string,
    readonly rootKeys: string[],
    readonly edges: Record<string, GcNode[]>,
  ) {
    this.types = [name];
    db.ensureSchema(`CREATE TABLE IF NOT EXISTS "${name}" (namespace TEXT, key TEXT)`);
  }

  add(...keys: string[]): void {
    for (const key of keys) this.db.run(`INSERT INTO "${this.name}" VALUES ('ns', ?)`, key);
  }

  keys(): string[] {
    return this.db.all<{ key: string }>(`SELECT key FROM "${this.name}" ORDER BY key`)
      .map((row) => row.key);
  }

  roots(): GcNode[] {
    return this.rootKeys.map((key) => ({ type: this.name, namespace: "ns", key }));
  }

  references(node: GcNode): GcNode[] {
    return this.edges[node.key] ?? [];
  }

  candidates(): GcNode[] {
    return this.keys().map((key) => ({ type: this.name, namespace: "ns", key }));
  }

  remove(node: GcNode): void {
    if (node.key === this.failOn) throw new Error(`cannot remove ${node.key}`);
    this.db.run(`DELETE FROM "${this.name}" WHERE key = ?`, node.key);
  }

  cleanup(): Promise<string[]> {
    this.cleanups++;
    return Promise.resolve([]);
  }
}

async function withDb(work: (db: MetadataDb) => Promise<void>): Promise<void> {
  const directory = await Deno.makeTempDir({ prefix: "mini-gc-unit-" });
  const db = new MetadataDb(join(directory, "meta.db"));
  try {
    await work(db);
  } finally {
    db.close();
    await Deno.remove(directory, { recursive: true });
  }
}

const node = (type: string, key: string): GcNode => ({ type, namespace: "ns", key });

Deno.test("gc: marks across types and cycles, sweeps only the unreachable", async () => {
  await withDb(async (db) => {
    const blobs = new TableSource(db, "blobs", ["index"], {
      index: [node("blobs", "manifest")],
      manifest: [node("blobs", "layer"), node("snaps", "top")],
      cycle1: [node("blobs", "cycle2")],
      cycle2: [node("blobs", "cycle1")],
      layer: [node("unregistered", "whatever")],
    });
    const snaps = new TableSource(db, "snaps", [], { top: [node("snaps", "base")] });
    blobs.add("index", "manifest", "layer", "orphan", "cycle1", "cycle2");
    snaps.add("top", "base", "stray");
    const collector = new GarbageCollector(db);
    collector.register(blobs);
    collector.register(snaps);

    const report = await collector.collect();
    assertEquals(blobs.keys(), ["index", "layer", "manifest"]);
    assertEquals(snaps.keys(), ["base", "top"]);
    assertEquals(
      report.removed.map((removed) => `${removed.type}/${removed.key}`).sort(),
      ["blobs/cycle1", "blobs/cycle2", "blobs/orphan", "snaps/stray"],
    );
    assertEquals([blobs.cleanups, snaps.cleanups], [1, 1]);
    assertEquals((await collector.collect()).removed, [], "a second pass finds nothing");
  });
});

Deno.test("gc: a failing removal rolls the whole sweep back and skips cleanup", async () => {
  await withDb(async (db) => {
    const blobs = new TableSource(db, "blobs", [], {});
    blobs.add("a", "b", "c");
    blobs.failOn = "c";
    const collector = new GarbageCollector(db);
    collector.register(blobs);
    await assertRejects(() => collector.collect(), Error, "cannot remove c");
    assertEquals(blobs.keys(), ["a", "b", "c"]);
    assertEquals(blobs.cleanups, 0);
    blobs.failOn = undefined;
    assertEquals((await collector.collect()).removed.length, 3);
  });
});

Deno.test("gc: scheduled collections run after the debounce", async () => {
  await withDb(async (db) => {
    const blobs = new TableSource(db, "blobs", [], {});
    blobs.add("gone");
    const collector = new GarbageCollector(db, { debounceMs: 10 });
    collector.register(blobs);
    collector.schedule();
    collector.schedule();
    const deadline = Date.now() + 20_000;
    while (blobs.keys().length > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    assertEquals(blobs.keys(), []);
    await collector.stop();
  });
});

Deno.test("gc labels: content and snapshot edges, other labels ignored", () => {
  const edges = labelReferences("ns", {
    "containerd.io/gc.ref.content.m.0": "sha256:m",
    "containerd.io/gc.ref.content.config": "sha256:c",
    "containerd.io/gc.ref.content": "sha256:bare",
    "containerd.io/gc.ref.snapshot.overlayfs": "chain",
    "containerd.io/gc.ref.contentious": "sha256:not-an-edge",
    "containerd.io/gc.root": "x",
    "containerd.io/uncompressed": "sha256:u",
  });
  assertEquals(
    edges.map((edge) => `${edge.type} ${edge.key}`).sort(),
    ["content sha256:bare", "content sha256:c", "content sha256:m", "snapshots/overlayfs chain"],
  );
});
