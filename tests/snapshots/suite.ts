// A snapshotter conformance suite in the spirit of containerd's core/snapshots/testsuite:
// the same checks run against any implementation of SnapshotsApi (in-process, and through
// the daemon's API). Each case gets a fresh namespace, so cases never see each other.

import { ApiError } from "../../lib/api/errors.ts";
import { mountAll, unmountAll } from "../../lib/mount/mount.ts";
import { layerStack } from "../../lib/mount/layers.ts";
import { MOUNT_DATA_LIMIT, mountDataSize } from "../../lib/mount/lowerdirs.ts";
import type { Mount } from "../../lib/mount/types.ts";
import type { SnapshotsApi } from "../../lib/snapshots/types.ts";
import { lgetxattr } from "../../lib/archive/syscalls.ts";
import {
  assert,
  assertEquals,
  assertNotEquals,
  assertRejects,
  assertStringIncludes,
} from "../helpers/assert.ts";
import {
  assertNoMountsUnder,
  listNames,
  readOptional,
  testMountParent,
  withMounted,
  writeFiles,
  writeIntoSnapshot,
} from "./helpers.ts";

/** What a suite case gets: a snapshotter in a fresh namespace, and where snapshots live. */
export interface SuiteContext {
  snapshots: SnapshotsApi;
  /** The same snapshotter in another fresh namespace. */
  otherNamespace: SnapshotsApi;
  /** `<snapshotter root>/snapshots`, to check directories on disk. */
  snapshotsDirectory: string;
}

type Case = [name: string, run: (context: SuiteContext) => Promise<void>];

async function expectError(work: () => Promise<unknown>, code: string, text?: string) {
  const error = await assertRejects(work, ApiError);
  assertEquals(error.code, code, `error ${error.message}`);
  if (text) assertStringIncludes(error.message, text);
}

const cases: Case[] = [
  ["prepare without a parent is a writable bind; commit freezes it and drops the key", async (
    { snapshots },
  ) => {
    const mounts = await snapshots.prepare("base-active", "");
    assertEquals(mounts.length, 1);
    assertEquals(mounts[0].type, "bind");
    assert(mounts[0].options.includes("rw"), `options ${mounts[0].options}`);
    await withMounted(mounts, (root) => writeFiles(root, { "etc/hostname": "base\n" }));
    assertEquals((await snapshots.stat("base-active")).kind, "Active");
    await snapshots.commit("base", "base-active");
    const info = await snapshots.stat("base");
    assertEquals(info.kind, "Committed");
    assertEquals(info.parent, "");
    await expectError(() => snapshots.stat("base-active"), "not_found");
    await expectError(() => snapshots.mounts("base-active"), "not_found");
    const view = await snapshots.view("base-view", "base");
    await withMounted(view, async (root) => {
      assertEquals(await Deno.readTextFile(`${root}/etc/hostname`), "base\n");
    });
  }],

  ["a chain shows every layer, nearest parent first, with deletions and opaque dirs", async (
    { snapshots },
  ) => {
    const first = await snapshots.prepare("l1-active", "");
    await writeIntoSnapshot(first, { a: "1", b: "1", "dir/x": "1", "dir/keep": "1" });
    await snapshots.commit("l1", "l1-active");

    const second = await snapshots.prepare("l2-active", "l1");
    assertEquals(second[0].type, "overlay");
    await withMounted(second, async (root) => {
      await Deno.writeTextFile(`${root}/a`, "2");
      await Deno.remove(`${root}/b`);
      await Deno.remove(`${root}/dir`, { recursive: true });
      await writeFiles(root, { "dir/y": "2" });
    });
    await snapshots.commit("l2", "l2-active");

    const third = await snapshots.prepare("l3-active", "l2");
    const options = third[0].options;
    const lower = options.find((option) => option.startsWith("lowerdir="))!.slice(9).split(":");
    assertEquals(lower.length, 2, "two parents, two lowerdirs");
    const upper = options.find((option) => option.startsWith("upperdir="))!.slice(9);
    assert(
      options.some((option) => option.startsWith("workdir=")),
      "an Active overlay has a workdir",
    );
    // Nearest parent first: l2's directory, then l1's.
    const l2Directory = lower[0];
    const deleted = await Deno.lstat(`${l2Directory}/b`);
    assert(deleted.isCharDevice && deleted.rdev === 0, "the kernel recorded b as a 0/0 whiteout");
    assertEquals(
      new TextDecoder().decode(lgetxattr(`${l2Directory}/dir`, "trusted.overlay.opaque")),
      "y",
    );
    await withMounted(third, async (root) => {
      assertEquals(await Deno.readTextFile(`${root}/a`), "2");
      assertEquals(await readOptional(`${root}/b`), undefined);
      assertEquals(await listNames(`${root}/dir`), ["y"]);
      await Deno.writeTextFile(`${root}/c`, "3");
    });
    assertEquals(await Deno.readTextFile(`${upper}/c`), "3", "writes land in the upperdir");
    assertEquals(await readOptional(`${lower[1]}/c`), undefined);
  }],

  ["only committed snapshots can be parents; keys are unique", async ({ snapshots }) => {
    await snapshots.prepare("active", "");
    await expectError(() => snapshots.prepare("child", "active"), "failed_precondition");
    await snapshots.commit("committed", "active");
    await snapshots.view("a-view", "committed");
    await expectError(() => snapshots.prepare("child", "a-view"), "failed_precondition");
    await expectError(() => snapshots.view("child", "a-view"), "failed_precondition");
    await expectError(() => snapshots.prepare("child", "missing"), "not_found");
    await expectError(() => snapshots.prepare("committed", ""), "already_exists");
    await expectError(() => snapshots.view("a-view", ""), "already_exists");
    await expectError(() => snapshots.prepare("", ""), "invalid_argument");
    assertEquals((await snapshots.walk()).length, 2, "failed calls leave nothing behind");
  }],

  ["commit rules: only Active commits, names are unique, the parent carries over", async (
    { snapshots },
  ) => {
    await snapshots.prepare("p-active", "");
    await snapshots.commit("p", "p-active");
    await snapshots.prepare("c-active", "p");
    await snapshots.view("v", "p");
    await expectError(() => snapshots.commit("from-view", "v"), "failed_precondition");
    await expectError(() => snapshots.commit("again", "p"), "failed_precondition");
    await expectError(() => snapshots.commit("x", "missing"), "not_found");
    await expectError(() => snapshots.commit("p", "c-active"), "already_exists");
    assertEquals(
      (await snapshots.stat("c-active")).kind,
      "Active",
      "a refused commit changes nothing",
    );
    await snapshots.commit("c", "c-active", { labels: { stage: "two" } });
    const info = await snapshots.stat("c");
    assertEquals([info.kind, info.parent, info.labels], ["Committed", "p", { stage: "two" }]);
  }],

  ["views are read-only: a bind for zero or one parent, an overlay without upper for more", async (
    { snapshots },
  ) => {
    const empty = await snapshots.view("empty-view", "");
    assertEquals([empty[0].type, empty[0].options.includes("ro")], ["bind", true]);
    await withMounted(empty, async (root) => {
      assertEquals(await listNames(root), []);
      await assertRejects(() => Deno.writeTextFile(`${root}/x`, "x"));
    });
    const first = await snapshots.prepare("one-active", "");
    await writeIntoSnapshot(first, { one: "1" });
    await snapshots.commit("one", "one-active");
    const single = await snapshots.view("single-view", "one");
    assertEquals(single[0].type, "bind");
    assertEquals(single[0].source, layerStack(first)!.writable, "a view of one layer binds it");
    assert(single[0].options.includes("ro"));
    const second = await snapshots.prepare("two-active", "one");
    await writeIntoSnapshot(second, { two: "2" });
    await snapshots.commit("two", "two-active");
    const double = await snapshots.view("double-view", "two");
    assertEquals(double[0].type, "overlay");
    assert(!double[0].options.some((option) => option.startsWith("upperdir=")));
    await withMounted(double, async (root) => {
      assertEquals(await listNames(root), ["one", "two"]);
      const error = await assertRejects(() => Deno.writeTextFile(`${root}/three`, "3"));
      assertStringIncludes(String(error), "Read-only");
    });
    assertEquals((await snapshots.stat("double-view")).kind, "View");
  }],

  ["removal: not while children exist, then the directories go too", async (
    { snapshots, snapshotsDirectory },
  ) => {
    const before = await listNames(snapshotsDirectory);
    await snapshots.prepare("root-active", "");
    await snapshots.commit("root", "root-active");
    await snapshots.prepare("child-active", "root");
    await snapshots.view("child-view", "root");
    assertEquals((await listNames(snapshotsDirectory)).length, before.length + 3);
    await expectError(() => snapshots.remove("root"), "failed_precondition", "remove that first");
    await snapshots.remove("child-active");
    await expectError(() => snapshots.remove("root"), "failed_precondition");
    await snapshots.remove("child-view");
    await snapshots.remove("root");
    await expectError(() => snapshots.remove("root"), "not_found");
    assertEquals(await listNames(snapshotsDirectory), before, "no directory left behind");
  }],

  ["usage counts blocks and inodes; hard links once; commit records it", async ({ snapshots }) => {
    const mounts = await snapshots.prepare("u-active", "");
    const empty = await snapshots.usage("u-active");
    assertEquals(empty.inodes, 1, "just the root directory");
    const directory = layerStack(mounts)!.writable!;
    await Deno.writeFile(`${directory}/big`, new Uint8Array(1024 * 1024).fill(7));
    await Deno.link(`${directory}/big`, `${directory}/big-link`);
    for (let index = 0; index < 9; index++) {
      await Deno.writeTextFile(`${directory}/small-${index}`, "x");
    }
    const used = await snapshots.usage("u-active");
    assertEquals(used.inodes, 11, "root + big (once, despite the link) + 9 small files");
    assert(used.size >= 1024 * 1024 + 9 * 512, `size ${used.size}`);
    assert(used.size < 2 * 1024 * 1024, `the hard link is not counted twice (${used.size})`);
    await snapshots.commit("u", "u-active");
    assertEquals(await snapshots.usage("u"), used);
    await snapshots.view("u-view", "u");
    assertEquals(await snapshots.usage("u-view"), { size: 0, inodes: 0 });
  }],

  ["labels: set at creation, changed by field path, replaced, validated", async ({ snapshots }) => {
    await snapshots.prepare("labelled", "", { labels: { a: "1", b: "2" } });
    assertEquals((await snapshots.stat("labelled")).labels, { a: "1", b: "2" });
    let info = await snapshots.update("labelled", { a: "one", b: "" }, ["labels.a", "labels.b"]);
    assertEquals(info.labels, { a: "one" });
    info = await snapshots.update("labelled", { c: "3" }, ["labels.c"]);
    assertEquals(info.labels, { a: "one", c: "3" });
    info = await snapshots.update("labelled", { only: "this" });
    assertEquals(info.labels, { only: "this" });
    await expectError(() => snapshots.update("labelled", {}, ["parent"]), "invalid_argument");
    await expectError(
      () => snapshots.update("labelled", { big: "x".repeat(5000) }),
      "invalid_argument",
    );
    await expectError(() => snapshots.update("missing", { a: "b" }), "not_found");
  }],

  ["walk filters by kind, parent, name and labels", async ({ snapshots }) => {
    await snapshots.prepare("layer-a-active", "");
    await snapshots.commit("layer-a", "layer-a-active", {
      labels: { "containerd.io/gc.root": "x" },
    });
    await snapshots.prepare("work", "layer-a", { labels: { role: "container" } });
    await snapshots.view("look", "layer-a");
    const names = async (...filters: string[]) =>
      (await snapshots.walk(filters)).map((info) => info.name).sort();
    assertEquals(await names(), ["layer-a", "look", "work"]);
    assertEquals(await names("kind==committed"), ["layer-a"]);
    assertEquals(await names("kind==active"), ["work"]);
    assertEquals(await names("parent==layer-a"), ["look", "work"]);
    assertEquals(await names('labels."containerd.io/gc.root"'), ["layer-a"]);
    assertEquals(await names("labels.role==container,kind==active"), ["work"]);
    assertEquals(await names("name~=^l"), ["layer-a", "look"]);
    assertEquals(await names("kind==view", "kind==committed"), ["layer-a", "look"]);
    await expectError(() => snapshots.walk(["name=="]), "invalid_argument");
  }],

  ["keys are per namespace over one global set of directories", async (
    { snapshots, otherNamespace },
  ) => {
    const mine = await snapshots.prepare("same-key", "");
    const theirs = await otherNamespace.prepare("same-key", "");
    assertNotEquals(layerStack(mine)!.writable, layerStack(theirs)!.writable);
    await snapshots.commit("shared-name", "same-key");
    await expectError(() => otherNamespace.stat("shared-name"), "not_found");
    await expectError(() => otherNamespace.prepare("child", "shared-name"), "not_found");
    assertEquals((await otherNamespace.stat("same-key")).kind, "Active");
  }],

  ["128 layers mount, with each layer's file readable through the overlay", async (
    { snapshots },
  ) => {
    let parent = "";
    for (let index = 0; index < 128; index++) {
      const mounts = await snapshots.prepare(`deep-${index}-active`, parent);
      await writeIntoSnapshot(mounts, { [`layer-${index}`]: `${index}\n`, top: `${index}\n` });
      await snapshots.commit(`deep-${index}`, `deep-${index}-active`);
      parent = `deep-${index}`;
    }
    const mounts = await snapshots.prepare("deep-container", parent);
    const data = mounts[0].options.join(",");
    assert(
      mountDataSize(data) > MOUNT_DATA_LIMIT,
      `with absolute lowerdirs the options (${mountDataSize(data)} bytes) exceed one page`,
    );
    await checkDeepMount(mounts, 128, true);
    const view = await snapshots.view("deep-view", parent);
    await checkDeepMount(view, 128, false);
  }],
];

async function checkDeepMount(mounts: Mount[], layers: number, writable: boolean) {
  const target = await Deno.makeTempDir({ prefix: "mini-deep-", dir: testMountParent() });
  const cwd = Deno.cwd();
  try {
    mountAll(mounts, target);
    try {
      assertEquals(Deno.cwd(), cwd, "mounting from the snapshots directory restored the cwd");
      for (let index = 0; index < layers; index++) {
        assertEquals(await Deno.readTextFile(`${target}/layer-${index}`), `${index}\n`);
      }
      assertEquals(await Deno.readTextFile(`${target}/top`), `${layers - 1}\n`);
      if (writable) await Deno.writeTextFile(`${target}/written`, "ok");
    } finally {
      await unmountAll(target);
    }
    assertNoMountsUnder(target);
  } finally {
    await Deno.remove(target, { recursive: true });
  }
}

/**
 * Registers the suite as one Deno test with a step per case. `open` is called once and
 * returns a factory of fresh-namespace contexts and a cleanup.
 */
export function snapshotterSuite(
  name: string,
  ignore: boolean,
  open: () => Promise<{
    context: () => SuiteContext;
    close: () => Promise<void>;
    snapshotsDirectory: string;
  }>,
): void {
  Deno.test({
    name: `snapshotter conformance (${name})`,
    ignore,
    async fn(test) {
      const { context, close, snapshotsDirectory } = await open();
      try {
        for (const [caseName, run] of cases) {
          await test.step(caseName, () => run(context()));
        }
        assertNoMountsUnder(snapshotsDirectory);
        assertNoMountsUnder(testMountParent());
      } finally {
        await close();
      }
    },
  });
}
