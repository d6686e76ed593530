// `mini-ctr --trace images pull`: every registry request of a pull appears in the trace
// (the ping, the manifest, the config and each layer), with its status and duration.

import { assert, assertEquals } from "../helpers/assert.ts";
import { TestContainerd } from "../helpers/containerd.ts";
import { TestDockerd } from "../helpers/dockerd.ts";
import { missingOverlay, missingRoot, requirements } from "../helpers/requirements.ts";
import { needsRegistry, publishImage, smallImage, Teardown } from "../registry/support/fixtures.ts";
import { TestRegistry } from "../registry/support/registry.ts";

const name = "mini-ctr --trace images pull shows each registry request";
Deno.test({
  name,
  ignore: needsRegistry(name) || requirements(name, missingRoot(), missingOverlay()),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const teardown = new Teardown();
    try {
      const registry = teardown.add(await TestRegistry.start(), (it) => it.stop());
      const daemon = teardown.add(await TestContainerd.start(), (it) => it.cleanup());
      const image = teardown.add(
        await publishImage(smallImage(), `${registry.host}/lib/app:v1`),
        (it) => it.cleanup(),
      );
      const result = await daemon.ctr(["--trace", "images", "pull", `${registry.host}/lib/app:v1`]);
      assertEquals(result.code, 0, result.stderr);
      const manifest = image.manifests[0];
      // The printer shortens digests to 12 hex digits, as docker does.
      const short = (digest: string) => digest.slice(0, "sha256:".length + 12);
      const requests = result.stderr.split("\n").filter((line) =>
        / +mini-ctr\[\d+\] +registry (GET|HEAD) /.test(line)
      );
      const expected = [
        new RegExp(`registry (GET|HEAD) https?://${registry.host}/v2/lib/app/manifests/v1 .*200`),
        new RegExp(
          `registry GET https?://${registry.host}/v2/lib/app/blobs/${
            short(manifest.config.digest)
          }`,
        ),
        ...manifest.layers.map((layer) =>
          new RegExp(
            `registry GET https?://${registry.host}/v2/lib/app/blobs/${short(layer.digest)}`,
          )
        ),
      ];
      for (const pattern of expected) {
        assert(
          requests.some((line) => pattern.test(line)),
          `no request ${pattern.source} in the trace:\n${result.stderr}`,
        );
      }
      assert(
        result.stderr.split("\n").some((line) =>
          / +mini-containerd\[\d+\] +(Content\/Write|Images\/Create)/.test(line)
        ),
        `the trace shows mini-containerd storing the pulled image:\n${result.stderr}`,
      );
    } finally {
      await teardown.run();
    }
  },
});

const throughDockerd = "mini-docker --trace pull shows mini-dockerd's registry requests";
Deno.test({
  name: throughDockerd,
  ignore: needsRegistry(throughDockerd) ||
    requirements(throughDockerd, missingRoot(), missingOverlay()),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const teardown = new Teardown();
    try {
      const registry = teardown.add(await TestRegistry.start(), (it) => it.stop());
      const daemon = teardown.add(
        await TestDockerd.start({ config: { bridge: "none" } }),
        (it) => it.cleanup(),
      );
      const image = teardown.add(
        await publishImage(smallImage(), `${registry.host}/lib/app:v1`),
        (it) => it.cleanup(),
      );
      const result = await daemon.miniDocker(["--trace", "pull", `${registry.host}/lib/app:v1`]);
      assertEquals(result.code, 0, result.stderr);
      const lines = result.stderr.split("\n");
      const create = lines.findIndex((line) =>
        / +mini-dockerd\[\d+\] +POST \/images\/create/.test(line)
      );
      assert(create >= 0, `no POST /images/create in the trace:\n${result.stderr}`);
      const layer = image.manifests[0].layers[0].digest.slice(0, "sha256:".length + 12);
      const fetched = lines.findIndex((line) =>
        new RegExp(` +mini-dockerd\\[\\d+\\] +registry GET \\S+/v2/lib/app/blobs/${layer}`).test(
          line,
        )
      );
      assert(
        fetched > create,
        `the layer is fetched by mini-dockerd, after the request:\n${result.stderr}`,
      );
    } finally {
      await teardown.run();
    }
  },
});
