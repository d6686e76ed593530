// docker pull and docker push through mini-dockerd against the real registry
// (Debian's docker-registry on 127.0.0.1), with the real docker CLI and mini-docker:
// the push is readable by skopeo, a second push uploads nothing, a pull of the pushed
// image gives back the same image ID (config digest), pulling again is "up to date",
// an unknown tag is a 404 with dockerd's message, and a pull of an image whose base
// layer is already present shares that layer ("Already exists") by chainID.

import { join } from "node:path";
import { assert, assertEquals, assertStringIncludes } from "../helpers/assert.ts";
import { missingOverlay, missingRoot, missingTool, requirements } from "../helpers/requirements.ts";
import { type CommandResult, run, TestDockerd } from "../helpers/dockerd.ts";
import { skopeo, TestRegistry } from "../registry/support/registry.ts";

const ignore = requirements(
  "mini-dockerd pull/push",
  missingRoot(),
  missingOverlay(),
  missingTool("docker"),
  missingTool("docker-registry"),
  missingTool("skopeo"),
  missingTool("busybox"),
);
// No containers run in these tests: a short stop timeout keeps each daemon's shutdown
// (and so the cleanup) quick whatever the containers component does at shutdown.
const quickStop = { "shutdown-timeout": 1 };

function ok(result: CommandResult, what: string): string {
  assertEquals(result.code, 0, `${what} failed: ${result.stderr}${result.stdout}`);
  return result.stdout;
}

for (const client of ["docker", "mini-docker"] as const) {
  Deno.test({
    name: `${client}: push to and pull from a real registry through mini-dockerd`,
    ignore,
    async fn() {
      const registry = await TestRegistry.start();
      const daemon = await TestDockerd.start({ config: quickStop });
      const cli = (args: string[]) =>
        client === "docker" ? daemon.docker(args) : daemon.miniDocker(args);
      try {
        const id = await daemon.loadBusybox();
        const name = `${registry.host}/bb`;
        ok(await cli(["tag", "busybox", `${name}:v1`]), "tag");
        const pushed = ok(await cli(["push", `${name}:v1`]), "push");
        assertStringIncludes(pushed, `The push refers to repository [${name}]`);
        assertStringIncludes(pushed, "Pushed");
        const digest = /v1: digest: (sha256:[a-f0-9]{64}) size: \d+/.exec(pushed)?.[1];
        assert(digest, `no digest line in:\n${pushed}`);

        const remote = JSON.parse(
          await skopeo(["inspect", "--tls-verify=false", `docker://${name}:v1`]),
        );
        assertEquals(remote.Digest, digest);
        assertEquals(remote.Layers.length, 1);
        const config = JSON.parse(
          await skopeo(["inspect", "--config", "--tls-verify=false", `docker://${name}:v1`]),
        );
        assertEquals(config.rootfs.diff_ids.length, 1);

        const again = ok(await cli(["push", `${name}:v1`]), "push again");
        assertStringIncludes(again, "Layer already exists");
        assertStringIncludes(again, `v1: digest: ${digest}`);
        const digests = JSON.parse(
          ok(await cli(["inspect", "--format", "{{json .RepoDigests}}", `${name}:v1`]), "inspect"),
        );
        assert(digests.includes(`${name}@${digest}`), `RepoDigests ${digests}`);

        ok(await cli(["rmi", `${name}:v1`, "busybox"]), "rmi");
        assertEquals(ok(await cli(["images", "-q"]), "images").trim(), "");

        const pulled = ok(await cli(["pull", `${name}:v1`]), "pull");
        assertStringIncludes(pulled, "v1: Pulling from bb");
        assertStringIncludes(pulled, "Pull complete");
        assertStringIncludes(pulled, `Digest: ${digest}`);
        assertStringIncludes(pulled, `Status: Downloaded newer image for ${name}:v1`);
        assertEquals(
          ok(await cli(["inspect", "--format", "{{.Id}}", `${name}:v1`]), "inspect").trim(),
          id,
        );
        assertStringIncludes(
          ok(await cli(["pull", `${name}:v1`]), "pull again"),
          "Image is up to date",
        );

        const unknown = await cli(["pull", `${name}:nosuch`]);
        assertEquals(unknown.code, 1);
        assertStringIncludes(unknown.stderr, `manifest for ${name}:nosuch not found`);
        const listed = ok(
          await daemon.ctr(["-n", "moby", "images", "ls", "-q"]),
          "mini-ctr images",
        );
        assertEquals(listed.trim(), "", "pulled images stay out of containerd");
      } finally {
        await daemon.cleanup();
        await registry.stop();
      }
    },
  });
}

/** Builds a docker-save archive of busybox plus one layer on top, and returns its path. */
async function twoLayerArchive(daemon: TestDockerd): Promise<string> {
  const work = join(daemon.paths.base, "two-layer");
  await Deno.mkdir(join(work, "extra/app"), { recursive: true });
  ok(await daemon.docker(["save", "-o", join(work, "busybox.tar"), "busybox"]), "save");
  await Deno.mkdir(join(work, "unpacked"));
  ok(await run("tar", ["-xf", join(work, "busybox.tar"), "-C", join(work, "unpacked")]), "untar");
  const [entry] = JSON.parse(await Deno.readTextFile(join(work, "unpacked/manifest.json")));
  const baseConfig = JSON.parse(await Deno.readTextFile(join(work, "unpacked", entry.Config)));
  await Deno.writeTextFile(join(work, "extra/app/hello.txt"), "hello from the second layer\n");
  ok(
    await run("tar", [
      "--format=pax",
      "-C",
      join(work, "extra"),
      "-cf",
      join(work, "unpacked/extra.tar"),
      "app",
    ]),
    "tar",
  );
  const extraBytes = await Deno.readFile(join(work, "unpacked/extra.tar"));
  const extraDiffId = `sha256:${
    Array.from(new Uint8Array(await crypto.subtle.digest("SHA-256", extraBytes)), (byte) =>
      byte.toString(16).padStart(2, "0")).join("")
  }`;
  const config = {
    ...baseConfig,
    created: "2025-01-01T00:00:00Z",
    rootfs: { type: "layers", diff_ids: [...baseConfig.rootfs.diff_ids, extraDiffId] },
    history: [
      ...baseConfig.history,
      { created: "2025-01-01T00:00:00Z", created_by: "/bin/sh -c #(nop) COPY dir:app in /app " },
    ],
  };
  await Deno.writeTextFile(join(work, "unpacked/app.json"), JSON.stringify(config));
  await Deno.writeTextFile(
    join(work, "unpacked/manifest.json"),
    JSON.stringify([{
      Config: "app.json",
      RepoTags: ["app:v1"],
      Layers: [...entry.Layers, "extra.tar"],
    }]),
  );
  const archive = join(work, "app.tar");
  ok(await run("tar", ["-C", join(work, "unpacked"), "-cf", archive, "."]), "tar archive");
  return archive;
}

Deno.test({
  name:
    "images share layers by chainID: rmi keeps the shared base, a pull finds it (Already exists)",
  ignore,
  async fn() {
    const registry = await TestRegistry.start();
    const daemon = await TestDockerd.start({ config: quickStop });
    try {
      await daemon.loadBusybox();
      ok(await daemon.docker(["load", "-i", await twoLayerArchive(daemon)]), "load app");
      const overlay = join(daemon.paths.dataRoot, "overlay2");
      const layerDirs = () =>
        [...Deno.readDirSync(overlay)].filter((entry) => entry.name !== "l").length;
      assertEquals(layerDirs(), 2, "busybox's layer is shared, only the new one is added");
      const df = await (await daemon.api("GET", "/v1.41/system/df")).json();
      const busybox = df.Images.find((image: { RepoTags: string[] }) =>
        image.RepoTags.includes("busybox:latest")
      );
      assert(busybox.SharedSize > 0, "busybox's layer counts as shared");

      const name = `${registry.host}/app`;
      ok(await daemon.docker(["tag", "app:v1", `${name}:v1`]), "tag");
      ok(await daemon.docker(["push", `${name}:v1`]), "push");
      const removed = ok(await daemon.docker(["rmi", "app:v1", `${name}:v1`]), "rmi").trim().split(
        "\n",
      );
      assertEquals(
        removed.filter((line) => line.startsWith("Deleted:")).length,
        2,
        "the image and its top layer",
      );
      assertEquals(layerDirs(), 1, "the shared base layer stays for busybox");

      const pulled = ok(await daemon.docker(["pull", `${name}:v1`]), "pull");
      assertStringIncludes(pulled, "Already exists");
      assertStringIncludes(pulled, "Pull complete");
      assertEquals(layerDirs(), 2);
      const history = ok(
        await daemon.docker(["history", "--format", "{{.Size}} {{.CreatedBy}}", `${name}:v1`]),
        "history",
      );
      assertStringIncludes(history, "COPY dir:app");
      const inspect =
        JSON.parse(ok(await daemon.docker(["image", "inspect", `${name}:v1`]), "inspect"))[0];
      const lower = inspect.GraphDriver.Data.LowerDir as string;
      assert(lower && lower.split(":").length === 1, "a two-layer image has one LowerDir");
      const merged = `${lower}:${inspect.GraphDriver.Data.UpperDir}`;
      assert(merged.includes(overlay), merged);
      assertEquals(
        await Deno.readTextFile(join(inspect.GraphDriver.Data.UpperDir, "app/hello.txt")),
        "hello from the second layer\n",
      );
    } finally {
      await daemon.cleanup();
      await registry.stop();
    }
  },
});

Deno.test({
  name: "docker login is checked against the registry, and push/pull carry the credentials",
  ignore: ignore || requirements("registry auth", missingTool("htpasswd")),
  async fn() {
    const registry = await TestRegistry.start({ kind: "htpasswd", users: { alice: "s3cret" } });
    const daemon = await TestDockerd.start({ config: quickStop });
    try {
      await daemon.loadBusybox();
      const name = `${registry.host}/private/bb:v1`;
      ok(await daemon.docker(["tag", "busybox", name]), "tag");
      const anonymous = await daemon.docker(["push", name]);
      assertEquals(anonymous.code, 1, "a push without credentials is refused");
      const wrong = await daemon.docker(["login", "-u", "alice", "-p", "wrong", registry.host]);
      assertEquals(wrong.code, 1);
      assertStringIncludes(wrong.stderr, "401 Unauthorized");
      const login = await daemon.docker(["login", "-u", "alice", "-p", "s3cret", registry.host]);
      assertEquals(login.code, 0, login.stderr);
      assertStringIncludes(login.stdout, "Login Succeeded");
      assertStringIncludes(ok(await daemon.docker(["push", name]), "push"), "v1: digest:");
      ok(await daemon.docker(["rmi", name]), "rmi");
      assertStringIncludes(
        ok(await daemon.docker(["pull", name]), "pull"),
        "Downloaded newer image",
      );
    } finally {
      await daemon.cleanup();
      await registry.stop();
    }
  },
});
