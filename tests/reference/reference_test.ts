// Unit tests of reference parsing and Docker-style normalization (lib/reference).

import { assertEquals, assertThrows } from "../helpers/assert.ts";
import { ApiError } from "../../lib/api/errors.ts";
import {
  digestProblem,
  familiarName,
  familiarString,
  formatReference,
  isValidDigest,
  normalizeReference,
  parseDockerRef,
  parseNormalizedNamed,
  parseReference,
  registryHost,
  tagNameOnly,
  validateDigest,
  withTag,
} from "../../lib/reference/mod.ts";

const hex = "a3ed95caeb02ffe68cdd9fd84406680ae93d633cb16422d00e8a7c22955b46d4";
const digest = `sha256:${hex}`;

Deno.test("reference: familiar names normalize like docker pull reads them", () => {
  const cases: [string, string][] = [
    ["busybox", "docker.io/library/busybox:latest"],
    ["busybox:1.36", "docker.io/library/busybox:1.36"],
    ["user/app", "docker.io/user/app:latest"],
    ["user/app:v2", "docker.io/user/app:v2"],
    ["docker.io/busybox", "docker.io/library/busybox:latest"],
    ["docker.io/library/busybox:latest", "docker.io/library/busybox:latest"],
    ["index.docker.io/library/busybox", "docker.io/library/busybox:latest"],
    ["index.docker.io/busybox", "docker.io/library/busybox:latest"],
    ["localhost/foo", "localhost/foo:latest"],
    ["localhost:5000/a/b", "localhost:5000/a/b:latest"],
    ["127.0.0.1:5000/x:tag", "127.0.0.1:5000/x:tag"],
    ["example.com/a/b/c:v1", "example.com/a/b/c:v1"],
    ["[::1]:5000/foo:bar", "[::1]:5000/foo:bar"],
    ["quay.io/coreos/etcd", "quay.io/coreos/etcd:latest"],
    // A single component with a colon is a name and a tag, never host:port.
    ["foo:5000", "docker.io/library/foo:5000"],
    // An uppercase first component can only be a host.
    ["Example.com/foo", "Example.com/foo:latest"],
    ["MyRegistry/foo", "MyRegistry/foo:latest"],
    ["a__b/c--d/e.f_g", "docker.io/a__b/c--d/e.f_g:latest"],
  ];
  for (const [input, expected] of cases) {
    assertEquals(normalizeReference(input), expected, input);
  }
});

Deno.test("reference: domain and path split", () => {
  assertEquals(parseNormalizedNamed(`localhost:5000/a/b@${digest}`), {
    domain: "localhost:5000",
    path: "a/b",
    digest,
  });
  assertEquals(parseNormalizedNamed("127.0.0.1:5000/x:tag"), {
    domain: "127.0.0.1:5000",
    path: "x",
    tag: "tag",
  });
  assertEquals(parseNormalizedNamed("user/app"), { domain: "docker.io", path: "user/app" });
  // The strict parser fills nothing in.
  assertEquals(parseReference("busybox"), { domain: "", path: "busybox" });
  // Like distribution's Parse: without normalization, a first component is taken as the domain.
  assertEquals(parseReference("a/b:c"), { domain: "a", path: "b", tag: "c" });
  assertEquals(parseReference("example.com:443/a:c"), {
    domain: "example.com:443",
    path: "a",
    tag: "c",
  });
});

Deno.test("reference: a digest keeps the reference untagged; tag and digest may coexist", () => {
  assertEquals(normalizeReference(`busybox@${digest}`), `docker.io/library/busybox@${digest}`);
  assertEquals(
    normalizeReference(`busybox:1.36@${digest}`),
    `docker.io/library/busybox:1.36@${digest}`,
  );
  // ParseDockerRef keeps only the digest when both are present.
  assertEquals(
    formatReference(parseDockerRef(`busybox:1.36@${digest}`)),
    `docker.io/library/busybox@${digest}`,
  );
  assertEquals(formatReference(parseDockerRef("busybox")), "docker.io/library/busybox:latest");
  assertEquals(tagNameOnly(parseNormalizedNamed("a:b")).tag, "b");
});

Deno.test("reference: familiar names are the reverse of normalization", () => {
  const cases: [string, string, string][] = [
    ["docker.io/library/busybox:latest", "busybox", "busybox:latest"],
    ["busybox", "busybox", "busybox"],
    ["docker.io/user/app:v1", "user/app", "user/app:v1"],
    // Nested paths under library/ are not official images and keep the prefix.
    ["docker.io/library/a/b", "library/a/b", "library/a/b"],
    ["localhost:5000/a/b:c", "localhost:5000/a/b", "localhost:5000/a/b:c"],
    [`quay.io/x@${digest}`, "quay.io/x", `quay.io/x@${digest}`],
  ];
  for (const [input, name, text] of cases) {
    const reference = parseNormalizedNamed(input);
    assertEquals(familiarName(reference), name, input);
    assertEquals(familiarString(reference), text, input);
  }
});

Deno.test("reference: malformed references are refused with the reason", () => {
  const cases: [string, string][] = [
    ["", "at least one component"],
    ["Busybox", "must be lowercase"],
    ["docker.io/Library/busybox", "must be lowercase"],
    ["user/App:latest", "must be lowercase"],
    [hex, "64-byte hexadecimal"],
    ["a//b", "invalid reference format"],
    ["a/b/", "invalid reference format"],
    ["-a", "invalid reference format"],
    ["a..b", "invalid reference format"],
    ["a___b", "invalid reference format"],
    ["busybox:", "invalid reference format"],
    ["busybox:-bad", "invalid reference format"],
    ["busybox:.bad", "invalid reference format"],
    [`busybox:${"t".repeat(129)}`, "invalid reference format"],
    ["busybox@sha256:abc", "invalid reference format"],
    [`busybox@sha256:${hex.slice(1)}`, "expected 64"],
    [`busybox@md5:${hex.slice(0, 32)}`, "not supported"],
    [`busybox@sha256:${hex.toUpperCase()}`, "lowercase hexadecimal"],
    ["busy box", "invalid reference format"],
    [`example.com/${"a".repeat(256)}`, "not be more than 255"],
  ];
  for (const [input, message] of cases) {
    const error = assertThrows(() => parseNormalizedNamed(input), ApiError, message);
    assertEquals(error.code, "invalid_argument", input);
  }
  // Limits are inclusive.
  assertEquals(parseNormalizedNamed(`busybox:${"t".repeat(128)}`).tag?.length, 128);
  assertEquals(parseNormalizedNamed(`example.com/${"a".repeat(255)}`).path.length, 255);
});

Deno.test("reference: withTag validates the tag", () => {
  const reference = parseNormalizedNamed(`busybox@${digest}`);
  assertEquals(withTag(reference, "v1"), {
    domain: "docker.io",
    path: "library/busybox",
    tag: "v1",
  });
  assertThrows(() => withTag(reference, "no/slash"), ApiError, "invalid tag");
});

Deno.test("reference: registry hosts", () => {
  assertEquals(registryHost("docker.io"), "registry-1.docker.io");
  assertEquals(registryHost("localhost:5000"), "localhost:5000");
  assertEquals(registryHost("quay.io"), "quay.io");
});

Deno.test("digest: syntax of sha256, sha384 and sha512 digests", () => {
  assertEquals(isValidDigest(digest), true);
  assertEquals(isValidDigest(`sha384:${"a".repeat(96)}`), true);
  assertEquals(isValidDigest(`sha512:${"0".repeat(128)}`), true);
  assertEquals(isValidDigest(hex), false);
  assertEquals(isValidDigest("sha256:"), false);
  assertEquals(isValidDigest(":abc"), false);
  assertEquals(isValidDigest(42), false);
  assertEquals(
    digestProblem(`sha256:${hex}0`),
    `"sha256:${hex}0" has 65 characters after "sha256:", expected 64`,
  );
  assertEquals(validateDigest(digest), digest);
  assertThrows(
    () => validateDigest("sha256:zz", "target digest"),
    ApiError,
    "invalid target digest",
  );
});
