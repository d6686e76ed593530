// Tests of lib/mount: mount descriptions performed through mount(2), undone on errors,
// read-only variants, and the relative-lowerdir trick that fits 128 layers in one page.

import { join } from "node:path";
import { LinuxError } from "../../lib/linux/errors.ts";
import { mount as mountSyscall } from "../../lib/linux/mount.ts";
import { isMountPoint } from "../../lib/linux/mountinfo.ts";
import { layerStack } from "../../lib/mount/layers.ts";
import {
  commonParentDirectory,
  compactLowerdirs,
  MOUNT_DATA_LIMIT,
  mountDataSize,
} from "../../lib/mount/lowerdirs.ts";
import { mountAll, unmountAll } from "../../lib/mount/mount.ts";
import { readonlyMounts, withTempMount } from "../../lib/mount/temp.ts";
import { mountCommandLine } from "../../lib/mount/describe.ts";
import type { Mount } from "../../lib/mount/types.ts";
import { assert, assertEquals, assertRejects, assertThrows } from "../helpers/assert.ts";
import { missingOverlay, missingRoot, requirements } from "../helpers/requirements.ts";
import { assertNoMountsUnder, removeTestRoot } from "./helpers.ts";

const needsRoot = (name: string) => requirements(name, missingRoot(), missingOverlay());

Deno.test("mount: common parent directory works on whole path components", () => {
  assertEquals(commonParentDirectory(["/a/b/1/fs", "/a/b/22/fs"]), "/a/b");
  assertEquals(commonParentDirectory(["/a/b1/fs", "/a/b2/fs"]), "/a");
  assertEquals(commonParentDirectory(["/x/fs", "/y/fs"]), "/");
  assertEquals(commonParentDirectory(["relative/fs", "/a/fs"]), "");
  const compacted = compactLowerdirs([
    "index=off",
    "workdir=/s/snapshots/3/work",
    "upperdir=/s/snapshots/3/fs",
    "lowerdir=/s/snapshots/2/fs:/s/snapshots/1/fs",
  ]);
  assertEquals(compacted.workingDirectory, "/s/snapshots");
  assertEquals(compacted.options, [
    "index=off",
    "workdir=/s/snapshots/3/work",
    "upperdir=/s/snapshots/3/fs",
    "lowerdir=2/fs:1/fs",
  ]);
  assertEquals(compactLowerdirs(["lowerdir=/only/fs"]).workingDirectory, "");
});

Deno.test("mount: the arithmetic of one page for 128 layers", () => {
  // containerd-style paths under /var/lib: absolute, they cannot fit...
  const root = "/var/lib/mini-containerd/io.containerd.snapshotter.v1.overlayfs/snapshots";
  const lowers = Array.from({ length: 128 }, (_, index) => `${root}/${index + 1}/fs`);
  const absolute = [
    `upperdir=${root}/200/fs`,
    `workdir=${root}/200/work`,
    `lowerdir=${lowers.join(":")}`,
  ];
  assert(mountDataSize(absolute.join(",")) > 4096);
  // ...relative to the snapshots directory, "123/fs" is at most 6 characters plus ":".
  const compacted = compactLowerdirs(absolute);
  assert(mountDataSize(compacted.options.join(",")) < MOUNT_DATA_LIMIT);
  // Docker's short links: 26 characters + "l/" + ":" per layer, ~3.7 KiB for 128 layers.
  assertEquals((26 + 2) * 128, 4096 - 512);
});

Deno.test("mount: readonly variants and layer stacks", () => {
  const overlay: Mount = {
    type: "overlay",
    source: "overlay",
    options: ["index=off", "workdir=/s/3/work", "upperdir=/s/3/fs", "lowerdir=/s/2/fs:/s/1/fs"],
  };
  assertEquals(readonlyMounts([overlay])[0].options, [
    "index=off",
    "lowerdir=/s/3/fs:/s/2/fs:/s/1/fs",
  ]);
  const bind: Mount = { type: "bind", source: "/s/1/fs", options: ["rw", "rbind"] };
  assertEquals(readonlyMounts([bind])[0].options, ["rbind", "ro"]);
  assertEquals(layerStack([overlay]), { writable: "/s/3/fs", readonly: ["/s/2/fs", "/s/1/fs"] });
  assertEquals(layerStack([bind]), { writable: "/s/1/fs", readonly: [] });
  assertEquals(layerStack(readonlyMounts([bind])), { readonly: ["/s/1/fs"] });
  assertEquals(layerStack([]), { readonly: [] });
  assertEquals(layerStack([{ type: "tmpfs", source: "tmpfs", options: [] }]), undefined);
  assertEquals(
    mountCommandLine(bind, "/mnt"),
    "mount -t bind /s/1/fs /mnt -o rw,rbind",
  );
});

Deno.test({
  name: "mount: bind, read-only bind and overlay through mount(2), and back",
  ignore: needsRoot("mount: bind, read-only bind and overlay"),
  async fn() {
    const base = await Deno.makeTempDir({ prefix: "mini-mount-test-" });
    try {
      for (const name of ["lower1", "lower2", "upper", "work", "merged", "ro"]) {
        await Deno.mkdir(join(base, name));
      }
      await Deno.writeTextFile(join(base, "lower1/a"), "1");
      await Deno.writeTextFile(join(base, "lower2/a"), "2");
      await Deno.writeTextFile(join(base, "lower2/b"), "2");
      const overlay: Mount = {
        type: "overlay",
        source: "overlay",
        options: [
          `workdir=${base}/work`,
          `upperdir=${base}/upper`,
          `lowerdir=${base}/lower1:${base}/lower2`,
        ],
      };
      mountAll([overlay], join(base, "merged"));
      try {
        assert(isMountPoint(join(base, "merged")));
        assertEquals(await Deno.readTextFile(join(base, "merged/a")), "1", "lower1 is on top");
        await Deno.writeTextFile(join(base, "merged/b"), "changed");
        assertEquals(await Deno.readTextFile(join(base, "upper/b")), "changed");
        assertEquals(await Deno.readTextFile(join(base, "lower2/b")), "2");
      } finally {
        await unmountAll(join(base, "merged"));
      }
      assert(!isMountPoint(join(base, "merged")));

      mountAll(
        [{ type: "bind", source: join(base, "lower1"), options: ["ro", "rbind"] }],
        join(base, "ro"),
      );
      try {
        await assertRejects(() => Deno.writeTextFile(join(base, "ro/new"), "x"));
        assertEquals(await Deno.readTextFile(join(base, "ro/a")), "1");
      } finally {
        await unmountAll(join(base, "ro"));
      }
      // Unmounting what is not mounted is not an error.
      await unmountAll(join(base, "ro"));
      await unmountAll(join(base, "does-not-exist"));
      assertNoMountsUnder(base);
    } finally {
      await removeTestRoot(base);
    }
  },
});

Deno.test({
  name: "mount: when a later mount fails, the earlier ones are undone",
  ignore: needsRoot("mount: when a later mount fails"),
  async fn() {
    const base = await Deno.makeTempDir({ prefix: "mini-mount-test-" });
    try {
      await Deno.mkdir(join(base, "source"));
      await Deno.mkdir(join(base, "target"));
      const error = assertThrows(() =>
        mountAll([
          { type: "bind", source: join(base, "source"), options: ["rbind"] },
          {
            type: "overlay",
            source: "overlay",
            options: [`lowerdir=${base}/missing1:${base}/missing2`],
          },
        ], join(base, "target")), LinuxError);
      assertEquals(error.syscall, "mount");
      assert(!isMountPoint(join(base, "target")), "the first mount was undone");
      // withTempMount also removes its directory when the work throws.
      let seen = "";
      await assertRejects(
        () =>
          withTempMount(
            [{ type: "bind", source: join(base, "source"), options: ["rbind"] }],
            (root) => {
              seen = root;
              throw new Error("work failed");
            },
          ),
        Error,
        "work failed",
      );
      assert(seen !== "" && !isMountPoint(seen));
      await assertRejects(() => Deno.stat(seen), Deno.errors.NotFound);
      assertNoMountsUnder(base);
    } finally {
      await removeTestRoot(base);
    }
  },
});

Deno.test({
  name: "mount: 128 absolute lowerdirs overflow the page; relative ones from the common parent fit",
  ignore: needsRoot("mount: 128 lowerdirs"),
  async fn() {
    const base = await Deno.makeTempDir({ prefix: "mini-mount-test-" });
    const layers = join(base, "a-long-directory-name-so-that-absolute-paths-are-long", "snapshots");
    try {
      const lowers: string[] = [];
      for (let index = 128; index >= 1; index--) {
        const directory = join(layers, String(index), "fs");
        await Deno.mkdir(directory, { recursive: true });
        await Deno.writeTextFile(join(directory, `file-${index}`), String(index));
        lowers.push(directory);
      }
      await Deno.mkdir(join(base, "upper"));
      await Deno.mkdir(join(base, "work"));
      await Deno.mkdir(join(base, "merged"));
      const options = [
        `workdir=${base}/work`,
        `upperdir=${base}/upper`,
        `lowerdir=${lowers.join(":")}`,
      ];
      // The raw call with absolute paths: the kernel copies one page, so the option string
      // ends in the middle of some lowerdir, and that cut-off path does not exist.
      const raw = assertThrows(
        () => mountSyscall("overlay", join(base, "merged"), "overlay", 0, options.join(",")),
        LinuxError,
      );
      assertEquals(raw.code, "ENOENT", raw.message);
      assert(!isMountPoint(join(base, "merged")));
      const cwd = Deno.cwd();
      mountAll([{ type: "overlay", source: "overlay", options }], join(base, "merged"));
      try {
        assertEquals(Deno.cwd(), cwd);
        assertEquals(await Deno.readTextFile(join(base, "merged/file-1")), "1");
        assertEquals(await Deno.readTextFile(join(base, "merged/file-128")), "128");
      } finally {
        await unmountAll(join(base, "merged"));
      }
      assertNoMountsUnder(base);
    } finally {
      await removeTestRoot(base);
    }
  },
});
