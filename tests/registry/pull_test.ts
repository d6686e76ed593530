// Pull tests against Debian's docker-registry without auth: skopeo publishes an image,
// mini pulls it into a real mini-containerd, and the content, labels, image record
// and snapshots are checked; then the platform choices of a multi-platform index.

import { assert, assertEquals, assertMatch, assertRejects } from "../helpers/assert.ts";
import { join } from "node:path";
import { REPO_ROOT, TestContainerd } from "../helpers/containerd.ts";
import { missingOverlay, missingRoot, missingTool, requirements } from "../helpers/requirements.ts";
import { pullImage } from "../../lib/registry/pull.ts";
import { Resolver } from "../../lib/registry/resolver.ts";
import { RegistryError } from "../../lib/registry/errors.ts";
import { FaultProxy } from "./support/fault_proxy.ts";
import {
  hasContent,
  multiPlatformImage,
  needsRegistry,
  publishImage,
  smallImage,
  storedDigest,
  Teardown,
} from "./support/fixtures.ts";
import { skopeo, TestRegistry } from "./support/registry.ts";

const pullWithUnpack =
  "pull: skopeo publishes, mini-ctr pulls and unpacks; a second pull moves nothing";
Deno.test({
  name: pullWithUnpack,
  ignore: needsRegistry(pullWithUnpack) ||
    requirements(pullWithUnpack, missingRoot(), missingOverlay()),
  async fn() {
    const teardown = new Teardown();
    try {
      const registry = teardown.add(await TestRegistry.start(), (it) => it.stop());
      // A pass-through proxy, only to count what goes over the wire.
      const proxy = teardown.add(
        await FaultProxy.start(
          registry.host,
          (request, _url, forward) => forward(request),
        ),
        (it) => it.stop(),
      );
      const daemon = teardown.add(await TestContainerd.start(), (it) => it.cleanup());
      const client = teardown.add(daemon.client(), (it) => it.close());
      const image = teardown.add(
        await publishImage(smallImage(), `${registry.host}/lib/app:v1`),
        (it) => it.cleanup(),
      );
      const name = `${proxy.host}/lib/app:v1`;
      const first = await daemon.ctr(["images", "pull", name]);
      assertEquals(first.code, 0, first.stderr);
      const manifest = image.manifests[0];
      assertMatch(first.stdout, new RegExp(`^${name}: resolved `, "m"));
      assertMatch(first.stdout, new RegExp(`^manifest-${manifest.descriptor.digest}: done `, "m"));
      assertMatch(first.stdout, new RegExp(`^config-${manifest.config.digest}: done `, "m"));
      for (const layer of manifest.layers) {
        assertMatch(first.stdout, new RegExp(`^layer-${layer.digest}: downloading `, "m"));
        assertMatch(first.stdout, new RegExp(`^layer-${layer.digest}: done `, "m"));
      }
      assertMatch(first.stdout, /^elapsed: \d+\.\d ?s total: /m);
      assertMatch(
        first.stdout,
        new RegExp(`^unpacking linux/amd64 ${image.root.digest}\\.\\.\\.$`, "m"),
      );
      assertMatch(first.stdout, /^done: [\d.]+(ms|s)/m);

      // The bytes in the store are the registry's, with the GC and source labels.
      for (const layer of manifest.layers) {
        assertEquals(await storedDigest(client, layer.digest), layer.digest);
      }
      const manifestInfo = await client.content.info(manifest.descriptor.digest);
      assertEquals(
        manifestInfo.labels["containerd.io/gc.ref.content.config"],
        manifest.config.digest,
      );
      assertEquals(
        manifestInfo.labels["containerd.io/gc.ref.content.l.0"],
        manifest.layers[0].digest,
      );
      assertEquals(
        manifestInfo.labels["containerd.io/gc.ref.content.l.1"],
        manifest.layers[1].digest,
      );
      const layerInfo = await client.content.info(manifest.layers[0].digest);
      assertEquals(layerInfo.labels[`containerd.io/distribution.source.${proxy.host}`], "lib/app");
      const record = await client.images.get(name);
      assertEquals(record.target, image.root);
      // Unpacking left the snapshot label on the config.
      const configInfo = await client.content.info(manifest.config.digest);
      assert(configInfo.labels["containerd.io/gc.ref.snapshot.overlayfs"]?.startsWith("sha256:"));
      assertEquals((await client.content.listStatuses()).length, 0, "no ingest is left behind");

      const blobRequestsBefore = proxy.seen.filter((seen) => seen.path.includes("/blobs/")).length;
      const second = await daemon.ctr(["images", "pull", name]);
      assertEquals(second.code, 0, second.stderr);
      for (const layer of manifest.layers) {
        assertMatch(second.stdout, new RegExp(`^layer-${layer.digest}: exists `, "m"));
      }
      assertMatch(
        second.stdout,
        new RegExp(`^manifest-${manifest.descriptor.digest}: exists `, "m"),
      );
      assert(!second.stdout.includes("downloading"), second.stdout);
      assertMatch(second.stdout, /total: +0\.0 B/);
      const blobRequestsAfter = proxy.seen.filter((seen) => seen.path.includes("/blobs/")).length;
      assertEquals(blobRequestsAfter, blobRequestsBefore, "the second pull fetched no blob");
      const manifestGets = proxy.seen.filter((seen) =>
        seen.method === "GET" && seen.path.includes("/manifests/")
      );
      assertEquals(manifestGets.length, 1, "only the first pull fetched the manifest");
    } finally {
      await teardown.run();
    }
  },
});

const platforms = "pull: an index gives the host's platform, --platform, --all-platforms";
Deno.test({
  name: platforms,
  ignore: needsRegistry(platforms),
  async fn() {
    const teardown = new Teardown();
    try {
      const registry = teardown.add(await TestRegistry.start(), (it) => it.stop());
      const daemon = teardown.add(await TestContainerd.start(), (it) => it.cleanup());
      const image = teardown.add(
        await publishImage(multiPlatformImage(), `${registry.host}/multi/app:v1`),
        (it) => it.cleanup(),
      );
      const [amd64, arm64, armV7] = image.manifests;
      const name = `${registry.host}/multi/app:v1`;
      const [hostClient, armClient, everyClient] = ["host", "arm", "every"].map((namespace) =>
        teardown.add(daemon.client(namespace), (it) => it.close())
      );
      assertEquals(Deno.build.arch, "x86_64", "this test assumes an amd64 host");
      const byHost = await pullImage(hostClient, name);
      assertEquals(byHost.manifests.map((m) => m.descriptor.digest), [amd64.descriptor.digest]);
      assert(await hasContent(hostClient, amd64.layers[0].digest));
      assert(!await hasContent(hostClient, arm64.layers[0].digest));
      // The index labels all its manifests, fetched or not (containerd does the same).
      const indexInfo = await hostClient.content.info(image.root.digest);
      assertEquals(indexInfo.labels["containerd.io/gc.ref.content.m.1"], arm64.descriptor.digest);

      const byFlag = await pullImage(armClient, name, {
        platforms: [{ os: "linux", architecture: "arm64" }],
      });
      assertEquals(byFlag.manifests.map((m) => m.platform?.architecture), ["arm64"]);
      assert(await hasContent(armClient, arm64.layers[0].digest));
      assert(!await hasContent(armClient, armV7.layers[0].digest));

      const all = await daemon.ctr([
        "-n",
        "every",
        "images",
        "pull",
        "--all-platforms",
        "--no-unpack",
        name,
      ]);
      assertEquals(all.code, 0, all.stderr);
      for (const manifest of image.manifests) {
        assert(await hasContent(everyClient, manifest.layers[0].digest));
        assertMatch(all.stdout, new RegExp(`^layer-${manifest.layers[0].digest}: done `, "m"));
      }
      assertMatch(all.stdout, new RegExp(`^index-${image.root.digest}: done `, "m"));

      const none = await assertRejects(
        () => pullImage(hostClient, name, { platforms: [{ os: "linux", architecture: "s390x" }] }),
        RegistryError,
      );
      assertEquals(none.kind, "not_found");
      assertMatch(
        none.message,
        /no manifest for linux\/s390x \(it has: linux\/amd64, linux\/arm64, linux\/arm\/v7\)/,
      );
    } finally {
      await teardown.run();
    }
  },
});

const byDigest = "pull: by digest, and a missing tag or repository is a clear 404";
Deno.test({
  name: byDigest,
  ignore: needsRegistry(byDigest),
  async fn() {
    const teardown = new Teardown();
    try {
      const registry = teardown.add(await TestRegistry.start(), (it) => it.stop());
      const daemon = teardown.add(await TestContainerd.start(), (it) => it.cleanup());
      const client = teardown.add(daemon.client(), (it) => it.close());
      const image = teardown.add(
        await publishImage(smallImage(2), `${registry.host}/lib/digested:v1`),
        (it) => it.cleanup(),
      );
      const reference = `${registry.host}/lib/digested@${image.root.digest}`;
      const result = await pullImage(client, reference);
      assertEquals(result.image.name, reference);
      assertEquals(result.image.target.digest, image.root.digest);

      const resolver = new Resolver();
      const missingTag = await assertRejects(
        () => resolver.resolve(`${registry.host}/lib/digested:nope`),
        RegistryError,
      );
      assertEquals(missingTag.kind, "not_found");
      assertMatch(
        missingTag.message,
        /"127\.0\.0\.1:\d+\/lib\/digested:nope".*not found \(HTTP 404/,
      );
      const wrongDigest = `${registry.host}/lib/digested@sha256:${"0".repeat(64)}`;
      const missingDigest = await assertRejects(
        () => pullImage(client, wrongDigest),
        RegistryError,
      );
      assertEquals(missingDigest.kind, "not_found");
      const result2 = await daemon.ctr([
        "images",
        "pull",
        "--no-unpack",
        `${registry.host}/nothing/here:v1`,
      ]);
      assertEquals(result2.code, 1);
      assertMatch(
        result2.stderr,
        /^ctr: resolving .*not found \(HTTP 404\): check the repository name/m,
      );
    } finally {
      await teardown.run();
    }
  },
});

const busybox =
  "pull: the busybox base image, via skopeo from an oci-archive, runs from its snapshot";
Deno.test({
  name: busybox,
  ignore: needsRegistry(busybox) ||
    requirements(busybox, missingRoot(), missingOverlay(), missingTool("busybox")),
  async fn() {
    const teardown = new Teardown();
    try {
      const registry = teardown.add(await TestRegistry.start(), (it) => it.stop());
      const daemon = teardown.add(await TestContainerd.start(), (it) => it.cleanup());
      const client = teardown.add(daemon.client(), (it) => it.close());
      const directory = teardown.add(
        await Deno.makeTempDir(),
        (it) => Deno.remove(it, { recursive: true }),
      );
      // The project's own base-image builder writes the OCI archive.
      const archive = join(directory, "busybox.oci.tar");
      const build = await new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "--allow-all",
          "--quiet",
          join(REPO_ROOT, "scripts/build_base_image.ts"),
          archive,
        ],
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert(build.success, new TextDecoder().decode(build.stderr));
      const name = `${registry.host}/library/busybox:latest`;
      await skopeo([
        "copy",
        "--quiet",
        "--dest-tls-verify=false",
        `oci-archive:${archive}`,
        `docker://${name}`,
      ]);

      const pulled = await daemon.ctr(["images", "pull", name]);
      assertEquals(pulled.code, 0, pulled.stderr);
      assertMatch(pulled.stdout, /^unpacking linux\/amd64 sha256:[0-9a-f]{64}\.\.\.$/m);
      // The top snapshot (named in the config's GC label) holds a working busybox.
      const record = await client.images.get(name);
      const manifest = JSON.parse(
        new TextDecoder().decode(await client.content.readAll(record.target.digest)),
      );
      const config = await client.content.info(manifest.config.digest);
      const chainId = config.labels["containerd.io/gc.ref.snapshot.overlayfs"];
      const snapshots = client.snapshots();
      const mounts = await snapshots.view("registry-test-view", chainId);
      try {
        const root = mounts[0].type === "bind" ? mounts[0].source : undefined;
        assert(root !== undefined, `a one-layer view is a bind mount: ${JSON.stringify(mounts)}`);
        const run = await new Deno.Command(join(root, "bin/busybox"), {
          args: ["echo", "hello from the pulled busybox"],
          stdout: "piped",
        }).output();
        assertEquals(new TextDecoder().decode(run.stdout).trim(), "hello from the pulled busybox");
      } finally {
        await snapshots.remove("registry-test-view");
      }
    } finally {
      await teardown.run();
    }
  },
});
