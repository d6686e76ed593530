// What this teaches: the attacks a layer can carry against the machine that unpacks it,
// each as a crafted tar: "../" climbing, absolute names, a symlink planted by one entry
// and written through by the next, hardlinks to host files, device nodes, whiteouts that
// name ".." or reach through symlinks. For each, apply either refuses the entry or keeps
// it inside the target; a sentinel directory beside the target must come out untouched.
// Mirrors containerd's pkg/archive/tar_test.go (TestBreakouts) and moby's
// pkg/archive/archive_unix_test.go breakout tests.

import { applyLayer, LayerEntryError } from "../../lib/archive/mod.ts";
import type { ApplyOptions } from "../../lib/archive/types.ts";
import { assert, assertEquals, assertRejects } from "../helpers/assert.ts";
import { missingRoot, requirements } from "../helpers/requirements.ts";
import { buildTar, snapshotTree, streamOf, type TestEntry } from "./support.ts";

interface Scene {
  base: string;
  target: string;
  sentinel: string;
  /** The sentinel's absolute path without the leading "/", for names inside the tar. */
  sentinelRelative: string;
}

async function makeScene(): Promise<Scene> {
  const base = await Deno.realPath(await Deno.makeTempDir({ prefix: "mini-archive-sec-" }));
  const target = `${base}/target`;
  const sentinel = `${base}/sentinel`;
  await Deno.mkdir(target);
  await Deno.mkdir(`${sentinel}/dir`, { recursive: true });
  await Deno.writeTextFile(`${sentinel}/victim`, "original\n");
  await Deno.writeTextFile(`${sentinel}/dir/inner`, "inner\n");
  await Deno.chmod(`${sentinel}/victim`, 0o644);
  await Deno.utime(`${sentinel}/victim`, 1_000_000, 1_000_000);
  return { base, target, sentinel, sentinelRelative: sentinel.slice(1) };
}

/** Creates <target>/<sentinel path>, where symlinks to the sentinel resolve to. */
async function makeSentinelPathInTarget(scene: Scene): Promise<void> {
  await Deno.mkdir(`${scene.target}/${scene.sentinelRelative}`, { recursive: true });
}

const ociOptions: ApplyOptions = { whiteoutFormat: "oci", allowDevices: false };

/**
 * Applies the tar built from `entries(scene)` and checks the sentinel is unchanged.
 * `expect` says whether the apply must be refused (and which entry the error names) or
 * must succeed (with `check` inspecting where things landed inside the target).
 */
async function attack(
  entries: (scene: Scene) => TestEntry[],
  expect: { refusedEntry: string } | { applied: (scene: Scene) => Promise<void> | void },
  options: ApplyOptions = ociOptions,
  prepare?: (scene: Scene) => Promise<void>,
): Promise<void> {
  const scene = await makeScene();
  try {
    await prepare?.(scene);
    const before = snapshotTree(scene.sentinel);
    const tar = await buildTar(entries(scene));
    if ("refusedEntry" in expect) {
      const error = await assertRejects(
        () => applyLayer(scene.target, streamOf(tar), options),
        LayerEntryError,
      );
      assertEquals(error.entryName, expect.refusedEntry, "the error names the entry");
    } else {
      await applyLayer(scene.target, streamOf(tar), options);
      await expect.applied(scene);
    }
    assertEquals(snapshotTree(scene.sentinel), before, "the sentinel directory is unchanged");
    assertEquals(await Deno.readTextFile(`${scene.sentinel}/victim`), "original\n");
  } finally {
    await Deno.remove(scene.base, { recursive: true });
  }
}

async function readInTarget(scene: Scene, path: string): Promise<string> {
  return await Deno.readTextFile(`${scene.target}/${path}`);
}

const ignoreUnlessRoot = requirements("archive security (chown, devices)", missingRoot());

Deno.test("a name with .. is refused", async () => {
  await attack(
    () => [{ name: "../sentinel/victim", content: "pwned\n" }],
    { refusedEntry: "../sentinel/victim" },
  );
});

Deno.test("a name with .. in the middle is refused", async () => {
  await attack(
    () => [
      { name: "a/", type: "directory" },
      { name: "a/../../sentinel/victim", content: "pwned\n" },
    ],
    { refusedEntry: "a/../../sentinel/victim" },
  );
});

Deno.test("a long PAX path with .. is refused", async () => {
  const longName = `${"x".repeat(120)}/../../../sentinel/victim`;
  await attack(() => [{ name: longName, content: "pwned\n" }], { refusedEntry: longName });
});

Deno.test("an absolute name lands inside the target", async () => {
  await attack(
    (scene) => [{ name: `${scene.sentinel}/victim`, content: "pwned\n" }],
    {
      applied: async (scene) => {
        assertEquals(await readInTarget(scene, `${scene.sentinelRelative}/victim`), "pwned\n");
      },
    },
  );
});

Deno.test("writing through a symlink to / stays inside the target", async () => {
  await attack(
    (scene) => [
      { name: "root", type: "symlink", linkname: "/" },
      { name: `root/${scene.sentinelRelative}/victim`, content: "pwned\n" },
    ],
    {
      applied: async (scene) => {
        assertEquals(await readInTarget(scene, `${scene.sentinelRelative}/victim`), "pwned\n");
      },
    },
  );
});

Deno.test("writing through a symlink to ../../.. stays inside the target", async () => {
  await attack(
    (scene) => [
      { name: "a", type: "symlink", linkname: "../../.." },
      { name: `a/${scene.sentinelRelative}/victim`, content: "pwned\n" },
    ],
    {
      applied: async (scene) => {
        assertEquals(await readInTarget(scene, `${scene.sentinelRelative}/victim`), "pwned\n");
      },
    },
  );
});

Deno.test("writing through a relative symlink to the sibling dir stays inside", async () => {
  await attack(
    () => [
      { name: "up", type: "symlink", linkname: "../sentinel" },
      { name: "up/victim", content: "pwned\n" },
    ],
    {
      applied: async (scene) => {
        // "../sentinel" from the target root clamps to "/sentinel" inside the target.
        assertEquals(await readInTarget(scene, "sentinel/victim"), "pwned\n");
      },
    },
    ociOptions,
    async (scene) => await Deno.mkdir(`${scene.target}/sentinel`),
  );
});

Deno.test("writing through a symlink to a directory missing in the target is refused", async () => {
  await attack(
    () => [
      { name: "up", type: "symlink", linkname: "../sentinel" },
      { name: "up/victim", content: "pwned\n" },
    ],
    { refusedEntry: "up/victim" },
  );
});

Deno.test("a chain of symlinks through directories stays inside", async () => {
  await attack(
    (scene) => [
      { name: "d/", type: "directory" },
      { name: "d/l1", type: "symlink", linkname: "../l2" },
      { name: "l2", type: "symlink", linkname: scene.sentinel },
      { name: "d/l1/victim", content: "pwned\n" },
    ],
    {
      applied: async (scene) => {
        assertEquals(await readInTarget(scene, `${scene.sentinelRelative}/victim`), "pwned\n");
      },
    },
    ociOptions,
    makeSentinelPathInTarget,
  );
});

Deno.test("a file entry replaces a symlink of the same name instead of writing through", async () => {
  await attack(
    (scene) => [
      { name: "v", type: "symlink", linkname: `${scene.sentinel}/victim` },
      { name: "v", content: "pwned\n", mode: 0o777 },
    ],
    {
      applied: async (scene) => {
        const info = await Deno.lstat(`${scene.target}/v`);
        assert(info.isFile, "v is now a regular file");
        assertEquals(await readInTarget(scene, "v"), "pwned\n");
      },
    },
  );
});

Deno.test("a directory entry replaces a symlink to a host directory", async () => {
  await attack(
    (scene) => [
      { name: "d", type: "symlink", linkname: scene.sentinel },
      { name: "d/", type: "directory", mode: 0o777 },
      { name: "d/victim", content: "pwned\n" },
    ],
    {
      applied: async (scene) => {
        assert((await Deno.lstat(`${scene.target}/d`)).isDirectory, "d is now a directory");
        assertEquals(await readInTarget(scene, "d/victim"), "pwned\n");
      },
    },
  );
});

Deno.test("a symlink left in the target by a lower layer is not followed out", async () => {
  await attack(
    () => [{ name: "lower/victim", content: "pwned\n" }],
    {
      applied: async (scene) => {
        // The absolute symlink resolves to <target>/<sentinel path>, created on demand.
        assertEquals(await readInTarget(scene, `${scene.sentinelRelative}/victim`), "pwned\n");
      },
    },
    ociOptions,
    async (scene) => {
      await makeSentinelPathInTarget(scene);
      await Deno.symlink(scene.sentinel, `${scene.target}/lower`);
    },
  );
});

Deno.test("a hardlink to ../ is refused", async () => {
  await attack(
    () => [{ name: "hl", type: "link", linkname: "../sentinel/victim" }],
    { refusedEntry: "hl" },
  );
});

Deno.test("a hardlink to an absolute host path is refused (it is looked up in the target)", async () => {
  await attack(
    (scene) => [{ name: "hl", type: "link", linkname: `${scene.sentinel}/victim` }],
    { refusedEntry: "hl" },
  );
});

Deno.test("a hardlink to /etc/passwd never links the host's file", async () => {
  const before = (await Deno.lstat("/etc/passwd")).nlink;
  await attack(() => [{ name: "pw", type: "link", linkname: "/etc/passwd" }], {
    refusedEntry: "pw",
  });
  assertEquals((await Deno.lstat("/etc/passwd")).nlink, before);
});

Deno.test("a hardlink through a symlinked directory is refused", async () => {
  await attack(
    (scene) => [
      { name: "s", type: "symlink", linkname: scene.sentinel },
      { name: "h", type: "link", linkname: "s/victim" },
    ],
    { refusedEntry: "h" },
  );
});

Deno.test("a hardlink to a symlink links the symlink, and a later write replaces it", async () => {
  await attack(
    (scene) => [
      { name: "s", type: "symlink", linkname: `${scene.sentinel}/victim` },
      { name: "h", type: "link", linkname: "s" },
      { name: "h", content: "pwned\n" },
    ],
    {
      applied: async (scene) => {
        assert((await Deno.lstat(`${scene.target}/s`)).isSymlink, "s is still a symlink");
        assertEquals(await readInTarget(scene, "h"), "pwned\n");
      },
    },
  );
});

Deno.test({
  name: "character devices are refused unless allowed",
  ignore: ignoreUnlessRoot,
  fn: async () => {
    await attack(
      () => [{ name: "null", type: "character-device", devmajor: 1, devminor: 3 }],
      { refusedEntry: "null" },
    );
  },
});

Deno.test({
  name: "block devices are refused unless allowed",
  ignore: ignoreUnlessRoot,
  fn: async () => {
    await attack(
      () => [{ name: "disk", type: "block-device", devmajor: 8, devminor: 0 }],
      { refusedEntry: "disk" },
    );
  },
});

Deno.test("a whiteout of .. is refused", async () => {
  await attack(() => [{ name: "dir/.wh...", content: "" }], { refusedEntry: "dir/.wh..." });
});

Deno.test("a whiteout of . is refused", async () => {
  await attack(() => [{ name: ".wh..", content: "" }], { refusedEntry: ".wh.." });
});

Deno.test("a whiteout through a symlink deletes nothing outside", async () => {
  await attack(
    (scene) => [
      { name: "s", type: "symlink", linkname: scene.sentinel },
      { name: "s/.wh.victim", content: "" },
      { name: "s/.wh.dir", content: "" },
    ],
    { applied: () => {} },
  );
});

Deno.test("an opaque marker through a symlink empties nothing outside", async () => {
  await attack(
    (scene) => [
      { name: "s", type: "symlink", linkname: scene.sentinel },
      { name: "s/.wh..wh..opq", content: "" },
    ],
    { applied: () => {} },
  );
});

Deno.test({
  name: "overlay-form whiteouts through a symlink stay inside",
  ignore: ignoreUnlessRoot,
  fn: async () => {
    await attack(
      (scene) => [
        { name: "s", type: "symlink", linkname: scene.sentinel },
        { name: "s/.wh.victim", content: "" },
        { name: "s/.wh..wh..opq", content: "" },
      ],
      {
        applied: async (scene) => {
          const whiteout = await Deno.lstat(`${scene.target}/${scene.sentinelRelative}/victim`);
          assert(whiteout.isCharDevice, "the whiteout device was made inside the target");
        },
      },
      { whiteoutFormat: "overlay", allowDevices: false },
      makeSentinelPathInTarget,
    );
  },
});

Deno.test({
  name: "metadata of a symlink entry never reaches its target",
  ignore: ignoreUnlessRoot,
  fn: async () => {
    await attack(
      (scene) => [{
        name: "s",
        type: "symlink",
        linkname: `${scene.sentinel}/victim`,
        uid: 4242,
        gid: 4242,
        mode: 0o6777,
        mtime: new Date(5_000_000_000),
        pax: { "SCHILY.xattr.user.evil": "yes" },
      }],
      {
        applied: async (scene) => {
          const link = await Deno.lstat(`${scene.target}/s`);
          assertEquals([link.uid, link.gid], [4242, 4242]);
        },
      },
    );
  },
});

Deno.test("an entry naming the target root as a file is refused", async () => {
  await attack(() => [{ name: ".", type: "file", content: "x" }], { refusedEntry: "." });
});
