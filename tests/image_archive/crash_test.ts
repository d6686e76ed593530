// kill -9 of mini-containerd in the middle of an import: after a restart no partial
// blob is visible (blobs/ only ever receives verified, fsynced files by rename) and
// the same import can simply be run again.

import { join } from "node:path";
import { assert, assertEquals, assertMatch, assertRejects } from "../helpers/assert.ts";
import { TestContainerd } from "../helpers/containerd.ts";
import { ApiError } from "../../lib/api/errors.ts";
import { REPO_ROOT } from "../helpers/containerd.ts";
import { ociArchive, syntheticImage, verifiedBlobs, writeFile } from "./fixtures.ts";

const layerSize = 256 * 1024 * 1024;

Deno.test("import crash: SIGKILL of the daemon mid-import leaves no partial blob; redo works", async () => {
  const daemon = await TestContainerd.start();
  const image = await syntheticImage({
    seed: "crash",
    layers: 1,
    layerSize,
    gzipLevel: 0,
    annotations: { "io.containerd.image.name": "docker.io/library/crash:latest" },
  });
  const layer = image.layers[0];
  const archive = join(daemon.paths.base, "big.tar");
  await writeFile(archive, ociArchive([image.manifest], image.blobs));
  image.blobs.clear(); // the archive on disk is all the test needs from here on

  let importer: Deno.ChildProcess | undefined;
  try {
    importer = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-all",
        "--quiet",
        join(REPO_ROOT, "cmd/mini_ctr.ts"),
        "--address",
        daemon.paths.address,
        "images",
        "import",
        "--no-unpack",
        archive,
      ],
      stdout: "piped",
      stderr: "piped",
    }).spawn();

    // Wait until the layer's ingest holds a good part of the layer, then crash the daemon.
    const client = daemon.client();
    let offset = 0;
    try {
      await client.namespaces.create("default").catch(() => {}); // so polling can start at once
      for (let attempt = 0; attempt < 2000 && offset < 32 * 1024 * 1024; attempt++) {
        const statuses = await client.content.listStatuses();
        offset = Math.max(0, ...statuses.map((status) => status.offset));
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    } finally {
      client.close();
    }
    assert(offset >= 32 * 1024 * 1024, `the import never got going (offset ${offset})`);
    await daemon.kill("SIGKILL");

    const interrupted = await importer.output();
    importer = undefined;
    assertEquals(interrupted.code, 1, "mini-ctr fails when the daemon dies");
    assertMatch(new TextDecoder().decode(interrupted.stderr), /ctr: /);

    // Nothing unverified became a blob, and the layer is not there.
    const afterCrash = await verifiedBlobs(daemon.paths.root);
    assert(!afterCrash.includes(layer.digest), "the half-written layer must not be a blob");

    await daemon.restart();
    const restarted = daemon.client();
    try {
      const missing = await assertRejects(() => restarted.content.info(layer.digest), ApiError);
      assertEquals(missing.code, "not_found");

      const redo = await daemon.ctr(["images", "import", "--no-unpack", archive]);
      assertEquals(redo.code, 0, redo.stderr);
      const record = await restarted.images.get("docker.io/library/crash:latest");
      assertEquals(record.target.digest, image.manifest.digest);
      assertEquals((await restarted.content.info(layer.digest)).size, layer.size);
      assert((await verifiedBlobs(daemon.paths.root)).includes(layer.digest));
    } finally {
      restarted.close();
    }
  } finally {
    if (importer) {
      try {
        importer.kill("SIGKILL");
      } catch { /* already exited */ }
      await importer.output();
    }
    await daemon.cleanup();
  }
});
