// Tests of the overlay2 graph driver and the layer store, in process, on temp
// directories: the on-disk layout Docker users know (l/ links, link and lower files,
// layerdb records, the -init layer), exact tar reassembly through tar-split (what
// `docker save`/`push` rely on), reference counting of shared layers, and the
// relative-lowerdir mount that the 26-character links exist for.

import { assert, assertEquals, assertRejects } from "../helpers/assert.ts";
import { join } from "node:path";
import { createHash } from "node:crypto";
import { Overlay2Driver } from "../../lib/dockerd/layer/overlay2.ts";
import { createChainId, LayerStore } from "../../lib/dockerd/layer/layer_store.ts";
import { MAX_IMAGE_LAYERS, SHORT_ID_LENGTH } from "../../lib/dockerd/layer/short_id.ts";
import { isMountPoint } from "../../lib/linux/mountinfo.ts";
import { missingOverlay, missingRoot, missingTool, requirements } from "../helpers/requirements.ts";
import { unmountBelow } from "../helpers/dockerd.ts";

const ignore = requirements(
  "dockerd layer store",
  missingRoot(),
  missingOverlay(),
  missingTool("tar"),
);

async function sha256File(path: string): Promise<string> {
  return `sha256:${createHash("sha256").update(await Deno.readFile(path)).digest("hex")}`;
}

async function run(command: string, args: string[], cwd?: string): Promise<void> {
  const output = await new Deno.Command(command, { args, cwd, stdout: "piped", stderr: "piped" })
    .output();
  if (!output.success) {
    throw new Error(`${command} ${args.join(" ")}: ${new TextDecoder().decode(output.stderr)}`);
  }
}

/** Writes files under a fresh dir and tars them with GNU tar in `format`. */
async function makeTar(
  base: string,
  name: string,
  files: Record<string, string | { symlink: string } | { hardlink: string } | null>,
  format: "pax" | "gnu" | "ustar" = "pax",
): Promise<string> {
  const source = join(base, `${name}-src`);
  await Deno.mkdir(source, { recursive: true });
  for (const [path, content] of Object.entries(files)) {
    const full = join(source, path);
    await Deno.mkdir(join(full, ".."), { recursive: true });
    if (content === null) await Deno.mkdir(full, { recursive: true });
    else if (typeof content === "string") await Deno.writeTextFile(full, content);
    else if ("symlink" in content) await Deno.symlink(content.symlink, full);
    else await Deno.link(join(source, content.hardlink), full);
  }
  const tarPath = join(base, `${name}.tar`);
  await run("tar", [`--format=${format}`, "-C", source, "-cf", tarPath, "."]);
  return tarPath;
}

async function openStore(base: string): Promise<LayerStore> {
  const driver = await Overlay2Driver.open(join(base, "overlay2"));
  return await LayerStore.open(join(base, "image", "overlay2", "layerdb"), driver);
}

async function register(store: LayerStore, tarPath: string, parent?: string) {
  const file = await Deno.open(tarPath);
  return await store.register(file.readable, parent);
}

async function withTempDir(body: (base: string) => Promise<void>): Promise<void> {
  const base = await Deno.makeTempDir({ dir: "/tmp", prefix: "mdk-layer-" });
  try {
    await body(base);
  } finally {
    unmountBelow(base);
    await Deno.remove(base, { recursive: true }).catch(() => {});
  }
}

async function readAll(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

Deno.test({
  name: "tar-split reassembles the exact layer tar (pax, gnu and ustar writers)",
  ignore,
  async fn() {
    await withTempDir(async (base) => {
      const store = await openStore(base);
      const longName = "d/" + "x".repeat(150) + "/file-with-a-very-long-name.txt";
      for (const format of ["pax", "gnu", "ustar"] as const) {
        const files: Record<string, string | { symlink: string } | { hardlink: string } | null> = {
          "bin/tool": "#!/bin/sh\necho hello\n".repeat(100),
          "etc/empty": "",
          "etc/link": { symlink: "../bin/tool" },
          "etc/hard": { hardlink: "bin/tool" },
          "dir/": null,
          "dir/.wh.gone": "",
          "big.bin": "B".repeat(3 * 1024 * 1024 + 7),
        };
        if (format !== "ustar") files[longName] = "long\n";
        const tarPath = await makeTar(base, format, files, format);
        const layer = await register(store, tarPath);
        assertEquals(
          layer.diffId,
          await sha256File(tarPath),
          `${format}: diffID is the tar's sha256`,
        );
        const { stream, size } = await store.tarStream(layer.chainId);
        const rebuilt = await readAll(stream);
        const original = await Deno.readFile(tarPath);
        assertEquals(size, original.byteLength, `${format}: announced size`);
        assertEquals(rebuilt.byteLength, original.byteLength, `${format}: same length`);
        assert(rebuilt.every((byte, index) => byte === original[index]), `${format}: same bytes`);
        await store.release(layer.chainId);
      }
    });
  },
});

Deno.test({
  name: "reassembly notices a changed file instead of producing a wrong layer",
  ignore,
  async fn() {
    await withTempDir(async (base) => {
      const store = await openStore(base);
      const layer = await register(store, await makeTar(base, "l", { "a.txt": "original" }));
      await Deno.writeTextFile(join(store.driver.diffDir(layer.cacheId), "a.txt"), "changed!");
      const { stream } = await store.tarStream(layer.chainId);
      await assertRejects(() => readAll(stream), Error, "diffID");
    });
  },
});

Deno.test({
  name: "overlay2 layout: 26-char links in l/, link/lower/committed files, layerdb records",
  ignore,
  async fn() {
    await withTempDir(async (base) => {
      const store = await openStore(base);
      const home = join(base, "overlay2");
      const bottom = await register(store, await makeTar(base, "bottom", { "etc/os": "mini\n" }));
      const top = await register(
        store,
        await makeTar(base, "top", { "app/run": "go\n" }),
        bottom.chainId,
      );

      assertEquals(bottom.chainId, bottom.diffId, "a base layer's chainID is its diffID");
      assertEquals(top.chainId, createChainId(bottom.chainId, top.diffId));
      assertEquals(top.parent, bottom.chainId);

      for (const layer of [bottom, top]) {
        const link = (await Deno.readTextFile(join(home, layer.cacheId, "link"))).trim();
        assertEquals(link.length, SHORT_ID_LENGTH);
        assert(/^[A-Z2-7]+$/.test(link), `link ${link} is base32`);
        assertEquals(await Deno.readLink(join(home, "l", link)), `../${layer.cacheId}/diff`);
        assert((await Deno.stat(join(home, "l", link))).isDirectory, "the l/ link resolves");
        const record = join(base, "image/overlay2/layerdb/sha256", layer.chainId.slice(7));
        assertEquals((await Deno.readTextFile(join(record, "diff"))).trim(), layer.diffId);
        assertEquals((await Deno.readTextFile(join(record, "cache-id"))).trim(), layer.cacheId);
        assertEquals(Number(await Deno.readTextFile(join(record, "size"))), layer.size);
        assert((await Deno.stat(join(record, "tar-split.json.gz"))).isFile);
      }
      const bottomLink = (await Deno.readTextFile(join(home, bottom.cacheId, "link"))).trim();
      assertEquals(
        (await Deno.readTextFile(join(home, top.cacheId, "lower"))).trim(),
        `l/${bottomLink}`,
      );
      await assertRejects(
        () => Deno.stat(join(home, bottom.cacheId, "lower")),
        Deno.errors.NotFound,
      );
      assert((await Deno.stat(join(home, top.cacheId, "work"))).isDirectory, "a child has work/");
      assert(
        (await Deno.stat(join(home, bottom.cacheId, "committed"))).isFile,
        "a parent is committed",
      );
      assertEquals(
        (await Deno.readTextFile(
          join(base, "image/overlay2/layerdb/sha256", top.chainId.slice(7), "parent"),
        ))
          .trim(),
        bottom.chainId,
      );
    });
  },
});

Deno.test({
  name:
    "container layer: -init with mount points, merged view, writes land in UpperDir, clean removal",
  ignore,
  async fn() {
    await withTempDir(async (base) => {
      const store = await openStore(base);
      const image = await register(
        store,
        await makeTar(base, "img", {
          "bin/sh": "shell",
          "etc/hosts": "image hosts\n",
          "proc/": null,
        }),
      );
      const record = await store.createContainerLayer("c1", image.chainId);
      assertEquals(record.initId, `${record.mountId}-init`);
      const mounts = join(base, "image/overlay2/layerdb/mounts/c1");
      assertEquals(await Deno.readTextFile(join(mounts, "mount-id")), record.mountId);
      assertEquals(await Deno.readTextFile(join(mounts, "init-id")), record.initId);
      assertEquals(await Deno.readTextFile(join(mounts, "parent")), image.chainId);

      const initDiff = join(base, "overlay2", record.initId, "diff");
      for (
        const file of [".dockerenv", "etc/resolv.conf", "etc/hosts", "etc/hostname", "dev/console"]
      ) {
        assert((await Deno.lstat(join(initDiff, file))).isFile, `init layer has /${file}`);
      }
      for (const dir of ["dev/pts", "dev/shm", "sys"]) {
        assert((await Deno.lstat(join(initDiff, dir))).isDirectory, `init layer has /${dir}`);
      }
      assertEquals(await Deno.readLink(join(initDiff, "etc/mtab")), "/proc/mounts");
      await assertRejects(
        () => Deno.lstat(join(initDiff, "proc")),
        Deno.errors.NotFound,
        undefined,
      );

      const mounted = await store.mountContainerLayer("c1");
      const data = mounted.graphDriver;
      assertEquals(mounted.mergedDir, data.MergedDir);
      assertEquals(
        data.LowerDir,
        `${join(base, "overlay2", record.initId, "diff")}:${
          join(base, "overlay2", image.cacheId, "diff")
        }`,
      );
      assertEquals(data.UpperDir, join(base, "overlay2", record.mountId, "diff"));
      assert(isMountPoint(data.MergedDir), "merged is mounted");
      assertEquals(await Deno.readTextFile(join(data.MergedDir, "bin/sh")), "shell");
      assertEquals(
        await Deno.readTextFile(join(data.MergedDir, "etc/hosts")),
        "",
        "the init layer's empty hosts",
      );
      assert((await Deno.stat(join(data.MergedDir, ".dockerenv"))).isFile);
      await Deno.writeTextFile(join(data.MergedDir, "written.txt"), "from the container");
      assertEquals(
        await Deno.readTextFile(join(data.UpperDir, "written.txt")),
        "from the container",
      );
      assert(await store.containerLayerSize("c1") >= "from the container".length);

      await store.unmountContainerLayer("c1");
      assert(!isMountPoint(data.MergedDir), "unmounted");
      assertEquals(
        store.referenceCount(image.chainId),
        2,
        "the image's caller and the container hold it",
      );
      await store.removeContainerLayer("c1");
      await assertRejects(
        () => Deno.stat(join(base, "overlay2", record.mountId)),
        Deno.errors.NotFound,
      );
      await assertRejects(
        () => Deno.stat(join(base, "overlay2", record.initId)),
        Deno.errors.NotFound,
      );
      await assertRejects(() => Deno.stat(mounts), Deno.errors.NotFound);
      assertEquals(store.referenceCount(image.chainId), 1);
    });
  },
});

Deno.test({
  name: "shared layers are reference counted and survive a reopen; the last release deletes",
  ignore,
  async fn() {
    await withTempDir(async (base) => {
      let store = await openStore(base);
      const tarPath = await makeTar(base, "shared", { "lib/x": "shared\n" });
      const first = await register(store, tarPath);
      const second = await register(store, tarPath);
      assertEquals(second.chainId, first.chainId);
      assertEquals(second.cacheId, first.cacheId, "the second copy was discarded");
      const directories = [...Deno.readDirSync(join(base, "overlay2"))].map((entry) => entry.name);
      assertEquals(directories.sort(), ["l", first.cacheId].sort(), "only one layer dir on disk");
      const child = await register(
        store,
        await makeTar(base, "child", { "app": "a" }),
        first.chainId,
      );
      assertEquals(store.referenceCount(first.chainId), 3, "two callers and the child");

      // A restart rebuilds child references; callers' references are gone with the process.
      store = await openStore(base);
      assertEquals(store.referenceCount(first.chainId), 1);
      store.retain(child.chainId);
      assertEquals(await store.release(child.chainId), [child.chainId, first.chainId]);
      assertEquals(store.list().length, 0);
      const left = [...Deno.readDirSync(join(base, "overlay2"))].map((entry) => entry.name);
      assertEquals(left, ["l"]);
      assertEquals([...Deno.readDirSync(join(base, "overlay2", "l"))].length, 0, "links removed");
    });
  },
});

Deno.test({
  name:
    "deep chains mount with relative l/ lowerdirs once absolute paths exceed a page; depth is capped",
  ignore,
  async fn() {
    await withTempDir(async (base) => {
      const store = await openStore(base);
      let parent: string | undefined;
      let previous: string | undefined;
      for (let index = 0; index < MAX_IMAGE_LAYERS; index++) {
        const tarPath = await makeTar(base, `layer${index}`, { [`f${index}`]: `${index}` });
        const layer = await register(store, tarPath, parent);
        if (previous) await store.release(previous); // the child keeps its parent alive
        previous = layer.chainId;
        parent = layer.chainId;
        await Deno.remove(tarPath);
        await Deno.remove(join(base, `layer${index}-src`), { recursive: true });
      }
      const lowers = await store.driver.lowerDirs(store.get(parent!)!.cacheId);
      assertEquals(lowers.length, MAX_IMAGE_LAYERS - 1);
      const absoluteLength = lowers.join(":").length;
      assert(
        absoluteLength > 4096,
        `absolute lowerdirs take ${absoluteLength} bytes, more than a page`,
      );

      await store.createContainerLayer("deep", parent);
      const mounted = await store.mountContainerLayer("deep");
      assert(isMountPoint(mounted.mergedDir));
      assertEquals(await Deno.readTextFile(join(mounted.mergedDir, "f0")), "0");
      assertEquals(
        await Deno.readTextFile(join(mounted.mergedDir, `f${MAX_IMAGE_LAYERS - 1}`)),
        `${MAX_IMAGE_LAYERS - 1}`,
      );
      await store.unmountContainerLayer("deep");
      await store.removeContainerLayer("deep");

      const one = await makeTar(base, "too-deep", { "x": "x" });
      await assertRejects(() => register(store, one, parent), Error, "max depth exceeded");
    });
  },
});
