// Unit tests of platform parsing, normalization and manifest preference (lib/platforms).

import { assert, assertEquals, assertThrows } from "../helpers/assert.ts";
import { ApiError } from "../../lib/api/errors.ts";
import type { Platform } from "../../lib/images/types.ts";
import {
  allPlatforms,
  anyPlatform,
  compatiblePlatforms,
  defaultPlatform,
  defaultPlatformMatcher,
  formatPlatform,
  normalizePlatform,
  onlyPlatform,
  onlyPlatformStrict,
  orderedPlatforms,
  parsePlatform,
  platformMatcher,
  sortByPreference,
} from "../../lib/platforms/mod.ts";

const hostArch = Deno.build.arch === "x86_64" ? "amd64" : "arm64";

Deno.test("platforms: parse and format the usual specifiers", () => {
  const cases: [string, Platform, string][] = [
    ["linux/amd64", { os: "linux", architecture: "amd64" }, "linux/amd64"],
    ["linux/x86_64", { os: "linux", architecture: "amd64" }, "linux/amd64"],
    ["Linux/AMD64", { os: "linux", architecture: "amd64" }, "linux/amd64"],
    ["linux/arm64/v8", { os: "linux", architecture: "arm64", variant: "v8" }, "linux/arm64/v8"],
    ["linux/aarch64", { os: "linux", architecture: "arm64" }, "linux/arm64"],
    ["linux/arm64", { os: "linux", architecture: "arm64" }, "linux/arm64"],
    ["linux/arm", { os: "linux", architecture: "arm" }, "linux/arm"],
    ["linux/arm/v6", { os: "linux", architecture: "arm", variant: "v6" }, "linux/arm/v6"],
    ["linux/arm/7", { os: "linux", architecture: "arm", variant: "v7" }, "linux/arm/v7"],
    // arm/v7 is arm's default, so two-part specifiers drop it (as containerd does).
    ["linux/armhf", { os: "linux", architecture: "arm" }, "linux/arm"],
    ["linux/armel", { os: "linux", architecture: "arm", variant: "v6" }, "linux/arm/v6"],
    ["linux/i386", { os: "linux", architecture: "386" }, "linux/386"],
    ["linux/amd64/v3", { os: "linux", architecture: "amd64", variant: "v3" }, "linux/amd64/v3"],
    ["macos/arm64", { os: "darwin", architecture: "arm64" }, "darwin/arm64"],
    ["linux/s390x", { os: "linux", architecture: "s390x" }, "linux/s390x"],
  ];
  for (const [specifier, platform, formatted] of cases) {
    assertEquals(parsePlatform(specifier), platform, specifier);
    assertEquals(formatPlatform(parsePlatform(specifier)), formatted, specifier);
  }
  assertEquals(formatPlatform({ os: "", architecture: "amd64" }), "unknown");
});

Deno.test("platforms: a lone word is an OS (host arch) or an architecture (host OS)", () => {
  assertEquals(parsePlatform("linux").architecture, hostArch);
  assertEquals(parsePlatform("linux").os, "linux");
  assertEquals(parsePlatform("arm64"), { os: Deno.build.os, architecture: "arm64" });
  assertEquals(parsePlatform("x86_64"), { os: Deno.build.os, architecture: "amd64" });
  assertEquals(parsePlatform("armhf"), { os: Deno.build.os, architecture: "arm" });
  assertThrows(() => parsePlatform("plan10"), ApiError, "unknown operating system or architecture");
});

Deno.test("platforms: malformed specifiers are refused", () => {
  for (const bad of ["", "linux/", "linux/amd64/v8/x", "linux/*", "linux amd64", "/amd64"]) {
    const error = assertThrows(() => parsePlatform(bad), ApiError, "invalid platform");
    assertEquals(error.code, "invalid_argument", bad);
  }
});

Deno.test("platforms: normalize", () => {
  assertEquals(normalizePlatform({ os: "Linux", architecture: "aarch64", variant: "v8" }), {
    os: "linux",
    architecture: "arm64",
  });
  assertEquals(normalizePlatform({ os: "linux", architecture: "arm64", variant: "9" }), {
    os: "linux",
    architecture: "arm64",
    variant: "v9",
  });
  assertEquals(normalizePlatform({ os: "linux", architecture: "x86_64", variant: "v1" }), {
    os: "linux",
    architecture: "amd64",
  });
  assertEquals(normalizePlatform({ os: "linux", architecture: "arm" }).variant, "v7");
  assertEquals(
    normalizePlatform({ os: "linux", architecture: "amd64", "os.features": ["b", "a", "b"] })[
      "os.features"
    ],
    ["a", "b"],
  );
});

Deno.test("platforms: the host default comes from Deno.build", () => {
  const host = defaultPlatform();
  assertEquals(host.os, Deno.build.os);
  assertEquals(host.architecture, hostArch);
  assert(defaultPlatformMatcher().match(host));
  assert(!defaultPlatformMatcher().match({ os: "windows", architecture: hostArch }));
});

Deno.test("platforms: a matcher compares normalized forms", () => {
  const arm64 = platformMatcher({ os: "linux", architecture: "arm64" });
  assert(arm64.match({ os: "linux", architecture: "aarch64" }));
  assert(arm64.match({ os: "linux", architecture: "arm64", variant: "v8" }));
  assert(!arm64.match({ os: "linux", architecture: "arm64", variant: "v9" }));
  assert(!arm64.match({ os: "linux", architecture: "amd64" }));
  const withFeatures = platformMatcher({
    os: "linux",
    architecture: "amd64",
    "os.features": ["x", "y"],
  });
  assert(withFeatures.match({ os: "linux", architecture: "amd64", "os.features": ["y"] }));
  assert(!withFeatures.match({ os: "linux", architecture: "amd64", "os.features": ["z"] }));
});

Deno.test("platforms: compatible platforms, best first (platforms.Only)", () => {
  const formatAll = (platform: Platform) => compatiblePlatforms(platform).map(formatPlatform);
  assertEquals(formatAll({ os: "linux", architecture: "amd64" }), ["linux/amd64", "linux/386"]);
  assertEquals(formatAll({ os: "linux", architecture: "amd64", variant: "v3" }), [
    "linux/amd64/v3",
    "linux/amd64/v2",
    "linux/amd64",
    "linux/386",
  ]);
  assertEquals(formatAll({ os: "linux", architecture: "arm", variant: "v7" }), [
    "linux/arm/v7",
    "linux/arm/v6",
    "linux/arm/v5",
  ]);
  assertEquals(formatAll({ os: "linux", architecture: "arm64", variant: "v8.2" }), [
    "linux/arm64/v8.2",
    "linux/arm64/v8.1",
    "linux/arm64/v8",
    "linux/arm/v8",
    "linux/arm/v7",
    "linux/arm/v6",
    "linux/arm/v5",
  ]);
  assertEquals(formatAll({ os: "linux", architecture: "arm64", variant: "v9" }).slice(0, 3), [
    "linux/arm64/v9",
    "linux/arm64/v8.5",
    "linux/arm64/v8.4",
  ]);
  const amd64 = onlyPlatform({ os: "linux", architecture: "amd64" });
  assert(amd64.match({ os: "linux", architecture: "386" }));
  assert(!amd64.match({ os: "linux", architecture: "arm64" }));
  assert(amd64.less({ os: "linux", architecture: "amd64" }, { os: "linux", architecture: "386" }));
  assert(!amd64.less({ os: "linux", architecture: "386" }, { os: "linux", architecture: "amd64" }));
  const strict = onlyPlatformStrict({ os: "linux", architecture: "amd64" });
  assert(!strict.match({ os: "linux", architecture: "386" }));
  const arm64 = onlyPlatform({ os: "linux", architecture: "arm64" });
  assert(arm64.match({ os: "linux", architecture: "arm", variant: "v7" }));
  assert(!arm64.match({ os: "linux", architecture: "amd64" }));
});

Deno.test("platforms: picking the best manifest of an index", () => {
  const entries = [
    { name: "arm", platform: { os: "linux", architecture: "arm", variant: "v7" } },
    { name: "none", platform: undefined },
    { name: "386", platform: { os: "linux", architecture: "386" } },
    { name: "amd64", platform: { os: "linux", architecture: "amd64" } },
    { name: "arm64", platform: { os: "linux", architecture: "arm64", variant: "v8" } },
  ];
  const order = (comparer: Parameters<typeof sortByPreference>[2]) =>
    sortByPreference(
      entries.filter((entry) => !entry.platform || comparer.match(entry.platform)),
      (entry) => entry.platform,
      comparer,
    ).map((entry) => entry.name);
  assertEquals(order(onlyPlatform({ os: "linux", architecture: "amd64" })), [
    "amd64",
    "386",
    "none",
  ]);
  assertEquals(order(onlyPlatform({ os: "linux", architecture: "arm64" })), [
    "arm64",
    "arm",
    "none",
  ]);
  assertEquals(
    order(
      orderedPlatforms({ os: "linux", architecture: "386" }, {
        os: "linux",
        architecture: "amd64",
      }),
    ),
    ["386", "amd64", "none"],
  );
  // No preference: input order among matches.
  assertEquals(order(allPlatforms), ["arm", "386", "amd64", "arm64", "none"]);
  assertEquals(
    order(
      anyPlatform({ os: "linux", architecture: "arm64" }, { os: "linux", architecture: "386" }),
    ),
    ["386", "arm64", "none"],
  );
});
