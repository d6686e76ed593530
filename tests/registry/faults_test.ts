// Fault tests: a proxy between mini and the real registry tampers with a blob, cuts a
// download off, answers 503, 403 or 404, redirects blobs to another origin, serves a
// manifest over 4 MiB or of an unknown type. Each must end in a clear error with
// nothing committed, or in a correct pull.

import { assert, assertEquals, assertMatch, assertRejects } from "../helpers/assert.ts";
import { TestContainerd } from "../helpers/containerd.ts";
import { RegistryError } from "../../lib/registry/errors.ts";
import { pullImage } from "../../lib/registry/pull.ts";
import { Resolver } from "../../lib/registry/resolver.ts";
import { MediaTypes } from "../../lib/images/media_types.ts";
import { isErrorCode } from "../../lib/api/errors.ts";
import {
  type FaultHandler,
  FaultProxy,
  isBlobGet,
  tamperedResponse,
  truncatedResponse,
} from "./support/fault_proxy.ts";
import {
  hasContent,
  needsRegistry,
  publishImage,
  smallImage,
  storedDigest,
  Teardown,
} from "./support/fixtures.ts";
import { TestRegistry } from "./support/registry.ts";
import type { GeneratedImage } from "./support/oci_image.ts";

/** Runs `body` with a registry holding the small image, a proxy with `handler`, and a daemon. */
async function withFaultyRegistry(
  handler: (image: GeneratedImage) => FaultHandler,
  body: (context: {
    proxy: FaultProxy;
    daemon: TestContainerd;
    client: ReturnType<TestContainerd["client"]>;
    image: GeneratedImage;
    name: string;
  }) => Promise<void>,
): Promise<void> {
  const teardown = new Teardown();
  try {
    const registry = teardown.add(await TestRegistry.start(), (it) => it.stop());
    const image = teardown.add(
      await publishImage(smallImage(7), `${registry.host}/faulty/app:v1`),
      (it) => it.cleanup(),
    );
    const proxy = teardown.add(
      await FaultProxy.start(registry.host, handler(image)),
      (it) => it.stop(),
    );
    const daemon = teardown.add(await TestContainerd.start(), (it) => it.cleanup());
    const client = teardown.add(daemon.client(), (it) => it.close());
    await body({ proxy, daemon, client, image, name: `${proxy.host}/faulty/app:v1` });
  } finally {
    await teardown.run();
  }
}

const bigLayer = (image: GeneratedImage) => image.manifests[0].layers[0];

const tamper = "faults: a flipped byte in a layer is a digest error and nothing is committed";
Deno.test({
  name: tamper,
  ignore: needsRegistry(tamper),
  async fn() {
    await withFaultyRegistry(
      (image) => async (request, url, forward) => {
        const response = await forward(request);
        return isBlobGet(request, url, bigLayer(image).digest)
          ? tamperedResponse(response, 150_000)
          : response;
      },
      async ({ client, image, name }) => {
        const error = await assertRejects(() => pullImage(client, name), RegistryError);
        assertEquals(error.kind, "digest_mismatch");
        assertMatch(error.message, /layer-sha256:[0-9a-f]{64} from 127\.0\.0\.1:\d+\/faulty\/app/);
        assertMatch(error.message, /nothing was stored/);
        assert(!await hasContent(client, bigLayer(image).digest), "the tampered layer is absent");
        const ingests = await client.content.listStatuses();
        assertEquals(ingests.filter((ingest) => ingest.ref.includes(bigLayer(image).digest)), []);
        const noImage = await client.images.get(name).catch((failure) => failure);
        assert(isErrorCode(noImage, "not_found"), "no image record was created");
      },
    );
  },
});

const resume = "faults: a connection cut mid-layer resumes with a Range request";
Deno.test({
  name: resume,
  ignore: needsRegistry(resume),
  async fn() {
    let cut = false;
    await withFaultyRegistry(
      (image) => async (request, url, forward) => {
        const response = await forward(request);
        if (!cut && isBlobGet(request, url, bigLayer(image).digest)) {
          cut = true;
          return truncatedResponse(response, 100_000);
        }
        return response;
      },
      async ({ client, image, name, proxy }) => {
        const result = await pullImage(client, name);
        assertEquals(result.image.target.digest, image.root.digest);
        const layer = bigLayer(image);
        assertEquals(await storedDigest(client, layer.digest), layer.digest);
        const gets = proxy.seen.filter((seen) => seen.path.endsWith(`/blobs/${layer.digest}`));
        assertEquals(gets.length, 2, "one cut download, one resumed download");
        assertEquals(gets[0].range, undefined);
        const resumedFrom = Number(/^bytes=(\d+)-$/.exec(gets[1].range ?? "")?.[1]);
        assert(resumedFrom > 0 && resumedFrom <= 100_000, `resumed from ${gets[1].range}`);
        // Only the missing part moved again (plus the other, small blobs).
        assert(result.bytesFetched < layer.size + 10_000, `fetched ${result.bytesFetched}`);
        assertEquals((await client.content.listStatuses()).length, 0);
      },
    );
  },
});

const unavailable = "faults: a 503 is retried; a 403 and a missing blob are clear errors";
Deno.test({
  name: unavailable,
  ignore: needsRegistry(unavailable),
  async fn() {
    let refusedOnce = false;
    let mode: "503" | "403" | "404" = "503";
    await withFaultyRegistry(
      (image) => async (request, url, forward) => {
        const layer = bigLayer(image).digest;
        if (isBlobGet(request, url, layer)) {
          if (mode === "503" && !refusedOnce) {
            refusedOnce = true;
            return new Response("busy", { status: 503 });
          }
          if (mode === "403") {
            return Response.json({
              errors: [{ code: "DENIED", message: "requested access to the resource is denied" }],
            }, { status: 403 });
          }
          if (mode === "404") {
            // Ask the real registry for a blob it does not have: its own 404 body.
            return await forward(request, url.pathname.replace(layer, `sha256:${"1".repeat(64)}`));
          }
        }
        return await forward(request);
      },
      async ({ client, daemon, image, name, proxy }) => {
        await pullImage(client, name);
        const gets = proxy.seen.filter((seen) => seen.path.endsWith(bigLayer(image).digest));
        assertEquals(gets.length, 2, "the 503 was retried once");

        // Fresh namespaces, so the layer is not already in the (namespaced) store.
        const deniedClient = daemon.client("denied");
        mode = "403";
        const denied = await assertRejects(() => pullImage(deniedClient, name), RegistryError)
          .finally(() => deniedClient.close());
        assertEquals(denied.kind, "denied");
        assertMatch(denied.message, /access denied \(HTTP 403 DENIED: requested access/);
        mode = "404";
        const missingClient = daemon.client("missing");
        const missing = await assertRejects(() => pullImage(missingClient, name), RegistryError)
          .finally(() => missingClient.close());
        assertEquals(missing.kind, "not_found");
        assertMatch(missing.message, /fetching layer-sha256:.*not found \(HTTP 404 BLOB_UNKNOWN/);
      },
    );
  },
});

const redirect = "faults: blobs redirected to another origin arrive without the credentials";
Deno.test({
  name: redirect,
  ignore: needsRegistry(redirect, "htpasswd"),
  async fn() {
    const teardown = new Teardown();
    try {
      const registry = teardown.add(
        await TestRegistry.start({ kind: "htpasswd", users: { alice: "wonderland" } }),
        (it) => it.stop(),
      );
      const image = teardown.add(
        await publishImage(smallImage(8), `${registry.host}/private/app:v1`, {
          credentials: "alice:wonderland",
        }),
        (it) => it.cleanup(),
      );
      // "Blob storage": another origin that fetches from the registry with its own credentials.
      const storage = teardown.add(
        await FaultProxy.start(registry.host, (request, url, forward) => {
          const headers = new Headers(request.headers);
          headers.set("authorization", `Basic ${btoa("alice:wonderland")}`);
          return forward(
            new Request(request.url, { headers }),
            url.pathname.replace("/storage", ""),
          );
        }),
        (it) => it.stop(),
      );
      const front = teardown.add(
        await FaultProxy.start(registry.host, async (request, url, forward) => {
          if (request.method === "GET" && url.pathname.includes("/blobs/sha256:")) {
            return new Response(null, {
              status: 307,
              headers: { location: `http://${storage.host}/storage${url.pathname}` },
            });
          }
          return await forward(request);
        }),
        (it) => it.stop(),
      );
      const daemon = teardown.add(await TestContainerd.start(), (it) => it.cleanup());
      const client = teardown.add(daemon.client(), (it) => it.close());
      const result = await pullImage(client, `${front.host}/private/app:v1`, {
        credentials: () => ({ username: "alice", password: "wonderland" }),
      });
      assertEquals(result.image.target.digest, image.root.digest);
      assert(front.seen.some((seen) => seen.authorized), "the registry got the credentials");
      assert(storage.seen.length >= 3, "config and layers came from the storage origin");
      assert(storage.seen.every((seen) => !seen.authorized), "storage never saw the credentials");
    } finally {
      await teardown.run();
    }
  },
});

const refused = "faults: a manifest over 4 MiB or of an unknown media type is refused";
Deno.test({
  name: refused,
  ignore: needsRegistry(refused),
  async fn() {
    let mode: "huge-head" | "huge-body" | "unknown-type" = "huge-head";
    const fiveMiB = 5 * 1024 * 1024;
    await withFaultyRegistry(
      () => async (request, url, forward) => {
        if (!url.pathname.includes("/manifests/")) return await forward(request);
        if (mode === "huge-head" && request.method === "HEAD") {
          const response = await forward(request);
          const headers = new Headers(response.headers);
          headers.set("content-length", String(fiveMiB));
          return new Response(null, { status: 200, headers });
        }
        if (mode === "huge-body") {
          // No digest or length in the HEAD answer forces a GET, which never ends.
          if (request.method === "HEAD") {
            return new Response(null, {
              status: 200,
              headers: { "content-type": MediaTypes.ociManifest },
            });
          }
          let sent = 0;
          const body = new ReadableStream<Uint8Array>({
            pull(controller) {
              if (sent >= fiveMiB) return controller.close();
              controller.enqueue(new Uint8Array(64 * 1024).fill(0x20));
              sent += 64 * 1024;
            },
          });
          return new Response(body, { headers: { "content-type": MediaTypes.ociManifest } });
        }
        const response = await forward(request);
        const headers = new Headers(response.headers);
        headers.set("content-type", "application/vnd.example.unknown+json");
        return new Response(response.body, { status: response.status, headers });
      },
      async ({ client, name }) => {
        const resolver = new Resolver();
        const declared = await assertRejects(() => resolver.resolve(name), RegistryError);
        assertEquals(declared.kind, "too_large");
        assertMatch(declared.message, /5242880 bytes, over the 4194304-byte limit/);
        mode = "huge-body";
        const streamed = await assertRejects(() => resolver.resolve(name), RegistryError);
        assertEquals(streamed.kind, "too_large");
        assertMatch(streamed.message, /larger than 4194304 bytes/);
        mode = "unknown-type";
        const unknown = await assertRejects(() => pullImage(client, name), RegistryError);
        assertEquals(unknown.kind, "unsupported_media_type");
        assertMatch(unknown.message, /"application\/vnd\.example\.unknown\+json"/);
        // Nothing was stored (the namespace may not even exist yet).
        const stored = await client.content.list().catch((error) => {
          if (isErrorCode(error, "not_found")) return [];
          throw error;
        });
        assertEquals(stored, []);
      },
    );
  },
});
