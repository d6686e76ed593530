// Push tests: mini pushes what it pulled to other registries and repositories, and
// independent clients (skopeo, the real containerd's ctr) read it back with the same
// digests; blobs the registry has are skipped, blobs of another repository mounted,
// and both upload styles (one PUT, PATCH chunks) are exercised.

import { createHash } from "node:crypto";
import { join } from "node:path";
import { assert, assertEquals, assertMatch, assertRejects } from "../helpers/assert.ts";
import { TestContainerd } from "../helpers/containerd.ts";
import { missingRoot, missingTool, requirements } from "../helpers/requirements.ts";
import { pullImage } from "../../lib/registry/pull.ts";
import { pushImage } from "../../lib/registry/push.ts";
import { RegistryError } from "../../lib/registry/errors.ts";
import { FaultProxy } from "./support/fault_proxy.ts";
import {
  multiPlatformImage,
  needsRegistry,
  publishImage,
  smallImage,
  Teardown,
} from "./support/fixtures.ts";
import { RealContainerd } from "./support/real_containerd.ts";
import { skopeo, TestRegistry } from "./support/registry.ts";

const roundTrip = "push: mini pushes, skopeo reads back the same bytes; exists, mounts and chunks";
Deno.test({
  name: roundTrip,
  ignore: needsRegistry(roundTrip),
  async fn() {
    const teardown = new Teardown();
    try {
      const source = teardown.add(await TestRegistry.start(), (it) => it.stop());
      const target = teardown.add(await TestRegistry.start(), (it) => it.stop());
      // Counting proxy in front of the target, to see the upload style on the wire.
      const targetProxy = teardown.add(
        await FaultProxy.start(
          target.host,
          (request, _url, forward) => forward(request),
        ),
        (it) => it.stop(),
      );
      const daemon = teardown.add(await TestContainerd.start(), (it) => it.cleanup());
      const client = teardown.add(daemon.client(), (it) => it.close());
      const image = teardown.add(
        await publishImage(smallImage(5), `${source.host}/lib/app:v1`),
        (it) => it.cleanup(),
      );
      const copyDir = teardown.add(
        await Deno.makeTempDir(),
        (it) => Deno.remove(it, { recursive: true }),
      );
      const local = `${source.host}/lib/app:v1`;
      await pullImage(client, local);
      const manifest = image.manifests[0];

      // A monolithic push through mini-ctr.
      const remote = `${targetProxy.host}/copy/app:v1`;
      const pushed = await daemon.ctr(["images", "push", remote, local]);
      assertEquals(pushed.code, 0, pushed.stderr);
      assertMatch(
        pushed.stdout,
        new RegExp(`^layer-${manifest.layers[0].digest}: uploading `, "m"),
      );
      assertMatch(pushed.stdout, new RegExp(`^layer-${manifest.layers[0].digest}: done `, "m"));
      assertMatch(pushed.stdout, new RegExp(`^manifest-${manifest.descriptor.digest}: done `, "m"));
      const puts = targetProxy.seen.filter((seen) =>
        seen.method === "PUT" && seen.path.includes("/blobs/uploads/")
      );
      assertEquals(puts.length, 3, "config and two layers, one PUT each");
      assert(!targetProxy.seen.some((seen) => seen.method === "PATCH"));

      // skopeo agrees on the digest, and copies back the same blobs.
      const raw = await skopeo([
        "inspect",
        "--raw",
        "--tls-verify=false",
        `docker://${target.host}/copy/app:v1`,
      ]);
      assertEquals(`sha256:${createHash("sha256").update(raw).digest("hex")}`, image.root.digest);
      await skopeo([
        "copy",
        "--quiet",
        "--src-tls-verify=false",
        `docker://${target.host}/copy/app:v1`,
        `oci:${copyDir}:copied`,
      ]);
      for (const descriptor of [manifest.config, ...manifest.layers]) {
        const bytes = await Deno.readFile(
          join(copyDir, "blobs", "sha256", descriptor.digest.slice(7)),
        );
        assertEquals(
          `sha256:${createHash("sha256").update(bytes).digest("hex")}`,
          descriptor.digest,
        );
        assertEquals(bytes.byteLength, image.blobs.get(descriptor.digest)?.byteLength);
      }

      // The source label now names the target repository: pushing to another repository
      // of the same registry mounts every blob instead of uploading it.
      const layerInfo = await client.content.info(manifest.layers[0].digest);
      assertEquals(
        layerInfo.labels[`containerd.io/distribution.source.${targetProxy.host}`],
        "copy/app",
      );
      const mounted = await pushImage(client, local, `${targetProxy.host}/other/app:v1`);
      assertEquals([mounted.mounted, mounted.uploaded, mounted.existing], [3, 0, 0]);
      assert(targetProxy.seen.some((seen) => seen.method === "POST"));

      // Pushing again: every blob exists already.
      const again = await pushImage(client, local, `${targetProxy.host}/copy/app:v1`);
      assertEquals([again.mounted, again.uploaded, again.existing], [0, 0, 3]);

      // A chunked push, to a registry that has nothing yet.
      const chunkTarget = teardown.add(await TestRegistry.start(), (it) => it.stop());
      const chunkProxy = teardown.add(
        await FaultProxy.start(chunkTarget.host, (request, _url, forward) => forward(request)),
        (it) => it.stop(),
      );
      const chunked = await pushImage(client, local, `${chunkProxy.host}/chunked/app:v1`, {
        chunkSize: 64 * 1024,
      });
      assertEquals(chunked.uploaded, 3);
      const patches = chunkProxy.seen.filter((seen) => seen.method === "PATCH").length;
      // 300 kB of random layer (5 chunks) + a small layer + the config: 7 PATCHes.
      assertEquals(patches, Math.ceil(manifest.layers[0].size / 65536) + 2);
      const inspected = JSON.parse(
        await skopeo([
          "inspect",
          "--tls-verify=false",
          `docker://${chunkTarget.host}/chunked/app:v1`,
        ]),
      );
      assertEquals(inspected.Digest, image.root.digest);
      assertEquals(inspected.Layers, manifest.layers.map((layer) => layer.digest));
    } finally {
      await teardown.run();
    }
  },
});

const index =
  "push: a multi-platform index goes up whole; a partial one is refused, or one --platform";
Deno.test({
  name: index,
  ignore: needsRegistry(index),
  async fn() {
    const teardown = new Teardown();
    try {
      const source = teardown.add(await TestRegistry.start(), (it) => it.stop());
      const target = teardown.add(await TestRegistry.start(), (it) => it.stop());
      const daemon = teardown.add(await TestContainerd.start(), (it) => it.cleanup());
      const everything = teardown.add(daemon.client("everything"), (it) => it.close());
      const partial = teardown.add(daemon.client("partial"), (it) => it.close());
      const image = teardown.add(
        await publishImage(multiPlatformImage(), `${source.host}/multi/app:v1`),
        (it) => it.cleanup(),
      );
      const local = `${source.host}/multi/app:v1`;
      await pullImage(everything, local, { allPlatforms: true });
      const result = await pushImage(everything, local, `${target.host}/multi/copy:v1`);
      assertEquals(result.descriptor.digest, image.root.digest);
      const raw = await skopeo([
        "inspect",
        "--raw",
        "--tls-verify=false",
        `docker://${target.host}/multi/copy:v1`,
      ]);
      assertEquals(JSON.parse(raw).manifests.length, 3);
      assertEquals(`sha256:${createHash("sha256").update(raw).digest("hex")}`, image.root.digest);
      for (const manifest of image.manifests) {
        const arch = manifest.platform.architecture;
        const variant = manifest.platform.variant ?? "";
        const perPlatform = JSON.parse(
          await skopeo([
            "inspect",
            "--tls-verify=false",
            "--override-arch",
            arch,
            ...(variant ? ["--override-variant", variant] : []),
            `docker://${target.host}/multi/copy:v1`,
          ]),
        );
        assertEquals(perPlatform.Layers, [manifest.layers[0].digest]);
      }

      await pullImage(partial, local); // the host's platform only
      const refused = await assertRejects(
        () => pushImage(partial, local, `${target.host}/multi/partial:v1`),
        RegistryError,
      );
      assertMatch(refused.message, /not in the local content store; .*--all-platforms/);
      // With --platform, that platform's manifest alone goes up under the tag.
      const single = await daemon.ctr([
        "-n",
        "partial",
        "images",
        "push",
        "--platform",
        "linux/amd64",
        `${target.host}/multi/amd64-only:v1`,
        local,
      ]);
      assertEquals(single.code, 0, single.stderr);
      const singleRaw = await skopeo([
        "inspect",
        "--raw",
        "--tls-verify=false",
        `docker://${target.host}/multi/amd64-only:v1`,
      ]);
      assertEquals(
        `sha256:${createHash("sha256").update(singleRaw).digest("hex")}`,
        image.manifests[0].descriptor.digest,
      );
    } finally {
      await teardown.run();
    }
  },
});

const realCtr = "push: the real containerd's ctr pulls what mini pushed";
Deno.test({
  name: realCtr,
  ignore: needsRegistry(realCtr) ||
    requirements(realCtr, missingRoot(), missingTool("containerd"), missingTool("ctr")),
  async fn() {
    const teardown = new Teardown();
    try {
      const source = teardown.add(await TestRegistry.start(), (it) => it.stop());
      const target = teardown.add(await TestRegistry.start(), (it) => it.stop());
      const daemon = teardown.add(await TestContainerd.start(), (it) => it.cleanup());
      const client = teardown.add(daemon.client(), (it) => it.close());
      const image = teardown.add(
        await publishImage(smallImage(6), `${source.host}/lib/app:v1`),
        (it) => it.cleanup(),
      );
      const containerd = teardown.add(await RealContainerd.start(), (it) => it.stop());
      const local = `${source.host}/lib/app:v1`;
      await pullImage(client, local);
      const remote = `${target.host}/from/mini:v1`;
      const pushed = await daemon.ctr(["images", "push", remote, local]);
      assertEquals(pushed.code, 0, pushed.stderr);
      const pulled = await containerd.ctr(["images", "pull", "--plain-http", remote]);
      assertEquals(pulled.code, 0, pulled.stderr + containerd.log);
      assertMatch(pulled.stdout, /unpacking linux\/amd64/);
      const listed = await containerd.ctr(["images", "ls"]);
      assertMatch(
        listed.stdout,
        new RegExp(`^${remote.replaceAll(".", "\\.")} .* ${image.root.digest} `, "m"),
      );
      const check = await containerd.ctr(["images", "check"]);
      assertMatch(check.stdout, /complete \(3\/3\)/);
    } finally {
      await teardown.run();
    }
  },
});
