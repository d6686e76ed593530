// Unit tests of the registry client's pure parts: challenges, scopes, credentials,
// hosts, GC labels, platform selection, document checks, and ctr's progress format.

import { join } from "node:path";
import {
  assert,
  assertEquals,
  assertMatch,
  assertStringIncludes,
  assertThrows,
} from "../helpers/assert.ts";
import { parseChallenges } from "../../lib/registry/challenge.ts";
import { mergeScopes, repositoryScope } from "../../lib/registry/scope.ts";
import {
  credentialsFromDockerConfig,
  defaultCredentialsLookup,
  dockerConfigPath,
  parseUserFlag,
} from "../../lib/registry/credentials.ts";
import { isLocalhost, registryEndpoint } from "../../lib/registry/hosts.ts";
import {
  appendDistributionSource,
  childGcLabels,
  parseDocument,
  refKey,
  requireDocumentType,
  selectManifests,
} from "../../lib/registry/handlers.ts";
import { RegistryError } from "../../lib/registry/errors.ts";
import { basicAuthorization } from "../../lib/registry/authorizer.ts";
import { onlyPlatform } from "../../lib/platforms/compare.ts";
import { MediaTypes } from "../../lib/images/media_types.ts";
import type { Descriptor } from "../../lib/images/types.ts";
import {
  alignColumns,
  formatGoDuration,
  formatProgressBytes,
  progressBar,
  ProgressDisplay,
  renderProgressFrame,
} from "../../lib/ctr/progress.ts";
import { TransferTracker } from "../../lib/registry/progress.ts";
import { readBounded, verifyBytes } from "../../lib/registry/verify.ts";
import { Resolver } from "../../lib/registry/resolver.ts";

const digestA = `sha256:${"a".repeat(64)}`;
const digestB = `sha256:${"b".repeat(64)}`;
const digestC = `sha256:${"c".repeat(64)}`;

Deno.test("challenge: Docker Hub's Bearer challenge and a Basic one in one header", () => {
  const challenges = parseChallenges(
    'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",' +
      'scope="repository:library/busybox:pull", Basic realm="Registry \\"Realm\\""',
  );
  assertEquals(challenges, [
    {
      scheme: "bearer",
      parameters: {
        realm: "https://auth.docker.io/token",
        service: "registry.docker.io",
        scope: "repository:library/busybox:pull",
      },
    },
    { scheme: "basic", parameters: { realm: 'Registry "Realm"' } },
  ]);
  assertEquals(parseChallenges("Basic realm=simple"), [
    { scheme: "basic", parameters: { realm: "simple" } },
  ]);
});

Deno.test("scope: actions of one repository merge, results sort", () => {
  assertEquals(repositoryScope("library/busybox", ["pull"]), "repository:library/busybox:pull");
  assertEquals(
    mergeScopes(["repository:b:push", "repository:a:pull", "repository:b:pull"]),
    ["repository:a:pull", "repository:b:pull,push"],
  );
  assertEquals(mergeScopes(["repository:a:pull repository:a:push", ""]), [
    "repository:a:pull,push",
  ]);
});

Deno.test("credentials: --user, Docker config auths and the lookup order", async () => {
  assertEquals(parseUserFlag("alice:pa:ss"), { username: "alice", password: "pa:ss" });
  assertThrows(() => parseUserFlag("alice"), Error, "USER:PASSWORD");
  const config = {
    auths: {
      "https://index.docker.io/v1/": { auth: btoa("hubuser:hubpass") },
      "http://127.0.0.1:5000": { auth: btoa("local:secret") },
      "registry.example.com": { username: "u", password: "p" },
    },
  };
  assertEquals(credentialsFromDockerConfig(config, "docker.io"), {
    username: "hubuser",
    password: "hubpass",
  });
  assertEquals(credentialsFromDockerConfig(config, "127.0.0.1:5000"), {
    username: "local",
    password: "secret",
  });
  assertEquals(credentialsFromDockerConfig(config, "registry.example.com"), {
    username: "u",
    password: "p",
  });
  assertEquals(credentialsFromDockerConfig(config, "127.0.0.1:5001"), undefined);
  assertThrows(
    () => credentialsFromDockerConfig({ auths: { "x.io": { auth: btoa("nocolon") } } }, "x.io"),
    Error,
    "user:password",
  );

  assertEquals(dockerConfigPath((name) => ({ DOCKER_CONFIG: "/cfg" })[name]), "/cfg/config.json");
  assertEquals(
    dockerConfigPath((name) => ({ HOME: "/home/a" })[name]),
    "/home/a/.docker/config.json",
  );
  const directory = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(join(directory, "config.json"), JSON.stringify(config));
    const env = (name: string) => ({ DOCKER_CONFIG: directory })[name];
    const fromFile = defaultCredentialsLookup({ env });
    assertEquals(await fromFile("127.0.0.1:5000"), { username: "local", password: "secret" });
    const fromFlag = defaultCredentialsLookup({ user: "flag:pw", env });
    assertEquals(await fromFlag("127.0.0.1:5000"), { username: "flag", password: "pw" });
    const missing = defaultCredentialsLookup({ env: () => undefined });
    assertEquals(await missing("127.0.0.1:5000"), undefined);
  } finally {
    await Deno.remove(directory, { recursive: true });
  }
  assertEquals(basicAuthorization({ username: "a", password: "b" }), `Basic ${btoa("a:b")}`);
});

Deno.test("hosts: docker.io goes to registry-1.docker.io over HTTPS, loopback over HTTP", () => {
  assertEquals(registryEndpoint("docker.io"), {
    domain: "docker.io",
    host: "registry-1.docker.io",
    scheme: "https",
  });
  assertEquals(registryEndpoint("127.0.0.1:5000").scheme, "http");
  assertEquals(registryEndpoint("localhost:5000").scheme, "http");
  assertEquals(registryEndpoint("[::1]:5000").scheme, "http");
  assertEquals(registryEndpoint("registry.example.com").scheme, "https");
  assertEquals(registryEndpoint("registry.example.com", { plainHttp: true }).scheme, "http");
  assert(isLocalhost("127.0.0.2"));
  assert(!isLocalhost("128.0.0.1:5000"));
  assert(!isLocalhost("localhost.example.com"));
});

Deno.test("handlers: GC labels per kind, source labels, ref keys", () => {
  const config: Descriptor = { mediaType: MediaTypes.ociConfig, digest: digestA, size: 1 };
  const layer1: Descriptor = { mediaType: MediaTypes.ociLayerGzip, digest: digestB, size: 2 };
  const layer2: Descriptor = { mediaType: MediaTypes.dockerLayerGzip, digest: digestC, size: 3 };
  assertEquals(childGcLabels([config, layer1, layer2]), {
    "containerd.io/gc.ref.content.config": digestA,
    "containerd.io/gc.ref.content.l.0": digestB,
    "containerd.io/gc.ref.content.l.1": digestC,
  });
  const manifests: Descriptor[] = [
    { mediaType: MediaTypes.ociManifest, digest: digestA, size: 1 },
    { mediaType: MediaTypes.dockerManifest, digest: digestB, size: 1 },
  ];
  assertEquals(childGcLabels(manifests), {
    "containerd.io/gc.ref.content.m.0": digestA,
    "containerd.io/gc.ref.content.m.1": digestB,
  });
  assertEquals(appendDistributionSource(undefined, "library/busybox"), "library/busybox");
  assertEquals(appendDistributionSource("b/x,d/y", "a/z"), "a/z,b/x,d/y");
  assertEquals(appendDistributionSource("a/z", "a/z"), "a/z");
  assertEquals(refKey(layer1), `layer-${digestB}`);
  assertEquals(refKey(config), `config-${digestA}`);
  assertEquals(refKey(manifests[1]), `manifest-${digestB}`);
  assertEquals(
    refKey({ mediaType: MediaTypes.ociIndex, digest: digestC, size: 1 }),
    `index-${digestC}`,
  );
});

Deno.test("handlers: the best manifest per platform; platform-less entries rank last", () => {
  const entry = (digest: string, architecture?: string, variant?: string): Descriptor => ({
    mediaType: MediaTypes.ociManifest,
    digest,
    size: 1,
    ...(architecture ? { platform: { os: "linux", architecture, variant } } : {}),
  });
  const index = [entry(digestA, "arm64"), entry(digestB, "386"), entry(digestC, "amd64")];
  const amd64 = onlyPlatform({ os: "linux", architecture: "amd64" });
  assertEquals(selectManifests(index, amd64, 1).map((d) => d.digest), [digestC]);
  assertEquals(selectManifests(index, amd64, 0).map((d) => d.digest), [digestC, digestB]);
  assertEquals(selectManifests(index, "all", 1).length, 3);
  const arm = onlyPlatform({ os: "linux", architecture: "arm", variant: "v7" });
  assertEquals(selectManifests(index, arm, 1), []);
  const withUnknown = [entry(digestA), entry(digestC, "amd64")];
  assertEquals(selectManifests(withUnknown, amd64, 1).map((d) => d.digest), [digestC]);
  assertEquals(selectManifests([entry(digestA)], amd64, 1).map((d) => d.digest), [digestA]);
});

Deno.test("handlers: schema 1, unknown types and malformed documents are refused", () => {
  const schema1 = assertThrows(
    () => requireDocumentType("application/vnd.docker.distribution.manifest.v1+prettyjws", "x"),
    RegistryError,
    "schema 1",
  );
  assertEquals(schema1.kind, "unsupported_media_type");
  assertThrows(() => requireDocumentType("text/html", "x"), RegistryError, "text/html");
  const descriptor: Descriptor = { mediaType: MediaTypes.ociManifest, digest: digestA, size: 1 };
  const bytes = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
  assertThrows(() => parseDocument(descriptor, bytes({ schemaVersion: 1 })), RegistryError);
  assertThrows(
    () =>
      parseDocument(
        descriptor,
        bytes({ schemaVersion: 2, mediaType: MediaTypes.ociIndex, manifests: [] }),
      ),
    RegistryError,
    "served as",
  );
  assertThrows(
    () =>
      parseDocument(
        descriptor,
        bytes({
          schemaVersion: 2,
          config: { mediaType: MediaTypes.ociConfig, digest: "sha256:../../etc", size: 1 },
          layers: [],
        }),
      ),
    RegistryError,
    "invalid descriptor",
  );
  const manifest = parseDocument(
    descriptor,
    bytes({
      schemaVersion: 2,
      config: { mediaType: MediaTypes.ociConfig, digest: digestA, size: 1 },
      layers: [{ mediaType: MediaTypes.ociLayerGzip, digest: digestB, size: 2 }],
    }),
  );
  assert("layers" in manifest && manifest.layers.length === 1);
});

Deno.test("verify: sizes and digests of documents; bounded reads", async () => {
  const bytes = new TextEncoder().encode("hello");
  const digest = "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";
  verifyBytes(bytes, { digest, size: 5 }, "doc");
  const wrong = assertThrows(
    () => verifyBytes(bytes, { digest: digestA, size: 5 }, "doc"),
    RegistryError,
  );
  assertEquals(wrong.kind, "digest_mismatch");
  assertThrows(() => verifyBytes(bytes, { digest, size: 6 }, "doc"), RegistryError, "6");
  const stream = () =>
    new ReadableStream<Uint8Array>({
      start(controller) {
        for (let index = 0; index < 4; index++) controller.enqueue(new Uint8Array(1000));
        controller.close();
      },
    });
  assertEquals((await readBounded(stream(), 4000, "x")).byteLength, 4000);
  const tooLarge = await readBounded(stream(), 3999, "x").catch((error) => error);
  assert(tooLarge instanceof RegistryError && tooLarge.kind === "too_large");
});

Deno.test("progress: ctr's byte format, bar, tabwriter alignment and footer", () => {
  assertEquals(formatProgressBytes(0), "0.0 B");
  assertEquals(formatProgressBytes(3584), "3.5 KiB");
  assertEquals(formatProgressBytes(25.4 * 1024 * 1024), "25.4 MiB");
  assertEquals(progressBar(0.5, false), `|${"+".repeat(19)}${"-".repeat(19)}|`);
  assertEquals(progressBar(2, false), `|${"+".repeat(38)}|`);
  assertEquals(progressBar(0.5, true).length, 40 + "\x1b[32m\x1b[0m".length);
  // Columns are as wide as their widest cell plus one, over runs of lines that have them.
  assertEquals(alignColumns([["ab", "c"], ["abcd", "e", "f"], ["x"]]), [
    "ab   c ",
    "abcd e f ",
    "x    ",
  ]);
  const frame = renderProgressFrame(
    [
      { key: "docker.io/library/busybox:latest", status: "resolved", offset: 0, total: 0 },
      { key: `layer-${digestA}`, status: "downloading", offset: 1536, total: 4096 },
      { key: `config-${digestB}`, status: "exists", offset: 0, total: 0 },
    ],
    6500,
    25.4 * 1024 * 1024,
    false,
  );
  const lines = frame.split("\n");
  assertEquals(lines.length, 5);
  // Every status starts in the same column, after the longest key.
  const statusColumn = `config-${digestB}:`.length + 1;
  assertEquals(lines[0].indexOf("resolved"), statusColumn);
  assertEquals(lines[1].indexOf("downloading"), statusColumn);
  assertMatch(lines[1], /\|\+{14}-{24}\| +1\.5 KiB\/4\.0 KiB $/);
  assertMatch(lines[3], /^elapsed: 6\.5 s +total: {2}25\.4 M \(3\.9 MiB\/s\) +$/);
  assertEquals(formatGoDuration(66.318624), "66.318624ms");
  assertEquals(formatGoDuration(1500), "1.5s");
});

Deno.test("progress: the tracker counts transferred bytes, not existing ones", () => {
  const tracker = new TransferTracker();
  const changes: string[] = [];
  tracker.listen((job, statusChanged) => {
    if (statusChanged) changes.push(`${job.key}=${job.status}`);
  });
  tracker.update("a", "waiting", { total: 10 });
  tracker.update("a", "downloading", { offset: 0 });
  tracker.advance("a", 4);
  tracker.update("a", "done", { offset: 10 });
  tracker.update("b", "exists", { total: 99 });
  assertEquals(changes, ["a=waiting", "a=downloading", "a=done", "b=exists"]);
  assertEquals(tracker.transferredBytes(), 10);
  assertStringIncludes(JSON.stringify(tracker.jobs()), '"key":"b"');
});

Deno.test("progress: a terminal gets frames redrawn in place, a pipe gets one line per change", () => {
  const written: string[] = [];
  const tracker = new TransferTracker();
  const terminal = new ProgressDisplay(tracker, {
    write: (text) => written.push(text),
    isTerminal: true,
  });
  tracker.update("layer-x", "downloading", { offset: 512, total: 1024 });
  terminal.draw();
  tracker.update("layer-x", "done", { offset: 1024 });
  terminal.draw();
  assertEquals(written.length, 2);
  assert(!written[0].includes("\x1b[1A"), "nothing to clear before the first frame");
  // The second frame first moves up over and clears both lines of the first one.
  assert(written[1].startsWith("\x1b[1A\x1b[2K\r".repeat(2)), JSON.stringify(written[1]));
  assertStringIncludes(written[1], `|\x1b[32m${"+".repeat(38)}\x1b[0m|`);
  assertMatch(written[1], /layer-x: +done +\|/);

  const lines: string[] = [];
  const piped = new TransferTracker();
  const plain = new ProgressDisplay(piped, {
    write: (text) => lines.push(text),
    isTerminal: false,
  });
  plain.start();
  piped.update("layer-y", "waiting", { total: 2048 });
  piped.update("layer-y", "downloading", { offset: 0 });
  piped.advance("layer-y", 1000); // offsets alone print nothing
  piped.update("layer-y", "done", { offset: 2048 });
  plain.stop();
  assertEquals(lines.length, 4);
  assertMatch(lines[0], /^layer-y: waiting +\|-{38}\|\n$/);
  assertMatch(lines[2], /^layer-y: done +\|\+{38}\| 2\.0 KiB\n$/);
  assertMatch(lines[3], /^elapsed: \d+\.\d ?s total: +2\.0 Ki \([\d.]+ [KMG]?i?B\/s\)\n$/);
});

Deno.test("resolver: Docker-style names locate Docker Hub over HTTPS", () => {
  const resolver = new Resolver();
  const hub = resolver.locate("hello-world");
  assertEquals(hub.name, "docker.io/library/hello-world:latest");
  assertEquals(hub.repository.endpoint, {
    domain: "docker.io",
    host: "registry-1.docker.io",
    scheme: "https",
  });
  assertEquals(hub.repository.path, "library/hello-world");
  const local = resolver.locate("localhost:5000/team/app@sha256:" + "a".repeat(64));
  assertEquals(local.repository.endpoint.scheme, "http");
  assertEquals(local.reference.digest, "sha256:" + "a".repeat(64));
  assertEquals(
    new Resolver({ plainHttp: true }).locate("example.com/a").repository.endpoint.scheme,
    "http",
  );
});
