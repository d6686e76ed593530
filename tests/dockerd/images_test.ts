// Image commands against a real mini-dockerd (on temp roots, with its own supervised
// mini-containerd), each through the real docker CLI and through mini-docker:
// version, info, load, images, history, inspect, tag, rmi, save, image prune,
// network ls; plus the lab checks: the image ID is the config digest, the on-disk
// overlay2 layout, and `mini-ctr -n moby images ls` showing none of dockerd's images.

import { join } from "node:path";
import { createHash } from "node:crypto";
import { assert, assertEquals, assertMatch, assertStringIncludes } from "../helpers/assert.ts";
import { missingOverlay, missingRoot, missingTool, requirements } from "../helpers/requirements.ts";
import { busyboxArchive, type CommandResult, TestDockerd } from "../helpers/dockerd.ts";

const ignore = requirements(
  "mini-dockerd image commands",
  missingRoot(),
  missingOverlay(),
  missingTool("docker"),
  missingTool("busybox"),
);
// No containers run in these tests: a short stop timeout keeps each daemon's shutdown
// (and so the cleanup) quick whatever the containers component does at shutdown.
const quickStop = { "shutdown-timeout": 1 };

type Client = "docker" | "mini-docker";
const clients: Client[] = ["docker", "mini-docker"];

function cli(daemon: TestDockerd, client: Client) {
  return (args: string[]): Promise<CommandResult> =>
    client === "docker" ? daemon.docker(args) : daemon.miniDocker(args);
}

function ok(result: CommandResult, what: string): string {
  assertEquals(result.code, 0, `${what} failed: ${result.stderr}${result.stdout}`);
  return result.stdout;
}

for (const client of clients) {
  Deno.test({
    name: `${client}: version, info, network ls against mini-dockerd`,
    ignore,
    async fn() {
      const daemon = await TestDockerd.start({ config: quickStop });
      const run = cli(daemon, client);
      try {
        const version = ok(await run(["version"]), "version");
        assertStringIncludes(version, "Server:");
        assertMatch(version, /API version:\s+1\.41/);
        const info = JSON.parse(ok(await run(["info", "--format", "{{json .}}"]), "info"));
        assertEquals(info.Driver, "overlay2");
        assertEquals(info.DockerRootDir, daemon.paths.dataRoot);
        assertEquals(info.CgroupDriver, "cgroupfs");
        const v2 = await Deno.stat("/sys/fs/cgroup/cgroup.controllers").then(
          () => true,
          () => false,
        );
        assertEquals(info.CgroupVersion, v2 ? "2" : "1");
        assertEquals(info.Swarm.LocalNodeState, "inactive");
        assertEquals(info.LiveRestoreEnabled, false);
        assertEquals(info.Images, 0);
        assert(info.DriverStatus.some((row: string[]) => row[0] === "Backing Filesystem"));
        const networks = ok(
          await run(["network", "ls", "--format", "{{.Name}} {{.Driver}} {{.Scope}}"]),
          "network ls",
        );
        assertEquals(networks.trim().split("\n").sort(), [
          "bridge bridge local",
          "host host local",
          "none null local",
        ]);
      } finally {
        await daemon.cleanup();
      }
    },
  });

  Deno.test({
    name: `${client}: load, images, history, inspect, tag, rmi, save and load again, image prune`,
    ignore,
    async fn() {
      const daemon = await TestDockerd.start({ config: quickStop });
      const run = cli(daemon, client);
      try {
        const archive = await busyboxArchive();
        assertStringIncludes(
          ok(await run(["load", "-i", archive]), "load"),
          "Loaded image: busybox:latest",
        );

        // The image ID is the digest of the config stored in imagedb.
        const id = ok(await run(["inspect", "--format", "{{.Id}}", "busybox"]), "inspect").trim();
        const configPath = join(
          daemon.paths.dataRoot,
          "image/overlay2/imagedb/content/sha256",
          id.slice(7),
        );
        const config = await Deno.readFile(configPath);
        assertEquals(`sha256:${createHash("sha256").update(config).digest("hex")}`, id);

        const images = ok(
          await run(["images", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}"]),
          "images",
        );
        assertEquals(images.trim(), `busybox:latest ${id.slice(7, 19)}`);

        const history = ok(
          await run(["history", "--no-trunc", "--format", "{{.ID}}|{{.CreatedBy}}", "busybox"]),
          "history",
        )
          .trim().split("\n");
        assertEquals(history.length, 2);
        assertEquals(history[0].split("|")[0], id);
        assertStringIncludes(history[0], 'CMD ["sh"]');
        assertEquals(history[1].split("|")[0], "<missing>");

        // GraphDriver of an image: its top layer's overlay2 directories, which exist.
        const inspected =
          JSON.parse(ok(await run(["image", "inspect", "busybox"]), "image inspect"))[0];
        assertEquals(inspected.GraphDriver.Name, "overlay2");
        const upper = inspected.GraphDriver.Data.UpperDir as string;
        assert(upper.startsWith(join(daemon.paths.dataRoot, "overlay2") + "/"));
        assert(
          (await Deno.stat(join(upper, "bin/busybox"))).isFile,
          "the layer's files are in UpperDir",
        );
        assertEquals(inspected.RootFS.Type, "layers");
        const layerdb = join(
          daemon.paths.dataRoot,
          "image/overlay2/layerdb/sha256",
          inspected.RootFS.Layers[0].slice(7),
        );
        assert((await Deno.stat(layerdb)).isDirectory, "a one-layer image's chainID is its diffID");
        assertEquals(inspected.Metadata.LastTagTime === "0001-01-01T00:00:00Z", false);

        ok(await run(["tag", "busybox", "mini/test:v1"]), "tag");
        const tags = JSON.parse(
          ok(await run(["image", "inspect", "--format", "{{json .RepoTags}}", id]), "inspect"),
        );
        assertEquals(tags.sort(), ["busybox:latest", "mini/test:v1"]);
        const filtered = ok(
          await run([
            "images",
            "--filter",
            "reference=mini/*",
            "--format",
            "{{.Repository}}:{{.Tag}}",
          ]),
          "images --filter reference",
        );
        assertEquals(filtered.trim(), "mini/test:v1");
        assertEquals(
          ok(await run(["rmi", "mini/test:v1"]), "rmi tag").trim(),
          "Untagged: mini/test:v1",
        );

        const missing = await run(["rmi", "nosuch:img"]);
        assertEquals(missing.code, 1);
        assertStringIncludes(
          missing.stderr,
          "Error response from daemon: No such image: nosuch:img",
        );

        const saved = join(daemon.paths.base, "saved.tar");
        ok(await run(["save", "-o", saved, "busybox"]), "save");
        const listing = new TextDecoder().decode(
          (await new Deno.Command("tar", { args: ["tf", saved], stdout: "piped" }).output()).stdout,
        );
        assertStringIncludes(listing, "manifest.json");
        assertStringIncludes(listing, `${id.slice(7)}.json`);
        assertStringIncludes(listing, "/layer.tar");

        const removed = ok(await run(["rmi", "busybox"]), "rmi").trim().split("\n");
        assertEquals(removed[0], "Untagged: busybox:latest");
        assertEquals(removed[1], `Deleted: ${id}`);
        assertEquals(removed.length, 3, "the image and its one layer are deleted");
        const overlay = [...Deno.readDirSync(join(daemon.paths.dataRoot, "overlay2"))].map((
          entry,
        ) => entry.name);
        assertEquals(overlay, ["l"], "no layer directory is left");

        assertStringIncludes(
          ok(await run(["load", "-i", saved]), "load saved"),
          "Loaded image: busybox:latest",
        );
        assertEquals(
          ok(await run(["inspect", "--format", "{{.Id}}", "busybox"]), "inspect").trim(),
          id,
        );

        // An untagged image is dangling; prune removes it.
        const untagged = join(daemon.paths.base, "untagged.tar");
        ok(await run(["save", "-o", untagged, id.slice(7, 19)]), "save by id");
        ok(await run(["rmi", "busybox"]), "rmi");
        assertEquals(
          ok(await run(["load", "-i", untagged]), "load untagged").trim(),
          `Loaded image ID: ${id}`,
        );
        const dangling = ok(
          await run(["images", "--filter", "dangling=true", "--format", "{{.ID}} {{.Tag}}"]),
          "images",
        );
        assertEquals(dangling.trim(), `${id.slice(7, 19)} <none>`);
        const pruned = ok(await run(["image", "prune", "-f"]), "prune");
        assertStringIncludes(pruned, `deleted: ${id}`);
        assertEquals(ok(await run(["images", "-q"]), "images -q").trim(), "");
      } finally {
        await daemon.cleanup();
      }
    },
  });
}

Deno.test({
  name: "dockerd's images are its own: mini-ctr -n moby images ls shows none of them",
  ignore,
  async fn() {
    const daemon = await TestDockerd.start({ config: quickStop });
    try {
      await daemon.loadBusybox();
      assertStringIncludes((await daemon.docker(["images"])).stdout, "busybox");
      const ctr = await daemon.ctr(["-n", "moby", "images", "ls"]);
      assertEquals(ctr.code, 0, ctr.stderr);
      const lines = ctr.stdout.trim().split("\n").filter((line) => line.trim() !== "");
      assert(lines.length <= 1, `expected only a header, got:\n${ctr.stdout}`);
      assert(!ctr.stdout.includes("busybox"));
      const namespaces = await daemon.ctr(["namespaces", "ls"]);
      assertStringIncludes(namespaces.stdout, "moby");
    } finally {
      await daemon.cleanup();
    }
  },
});

Deno.test({
  name: "the overlay2 layout on disk after a load: l/ links resolve, link files, layerdb",
  ignore,
  async fn() {
    const daemon = await TestDockerd.start({ config: quickStop });
    try {
      await daemon.loadBusybox();
      const home = join(daemon.paths.dataRoot, "overlay2");
      const layers = [...Deno.readDirSync(home)].filter((entry) => entry.name !== "l");
      assertEquals(layers.length, 1);
      const cacheId = layers[0].name;
      assertMatch(cacheId, /^[a-f0-9]{64}$/);
      const link = (await Deno.readTextFile(join(home, cacheId, "link"))).trim();
      assertMatch(link, /^[A-Z2-7]{26}$/);
      assertEquals(await Deno.realPath(join(home, "l", link)), join(home, cacheId, "diff"));
      const layerdb = join(daemon.paths.dataRoot, "image/overlay2/layerdb/sha256");
      const records = [...Deno.readDirSync(layerdb)];
      assertEquals(records.length, 1);
      assertEquals(
        (await Deno.readTextFile(join(layerdb, records[0].name, "cache-id"))).trim(),
        cacheId,
      );
      const repositories = JSON.parse(
        await Deno.readTextFile(join(daemon.paths.dataRoot, "image/overlay2/repositories.json")),
      );
      assert(repositories.Repositories.busybox["busybox:latest"].startsWith("sha256:"));
    } finally {
      await daemon.cleanup();
    }
  },
});
