// Unit tests of the pure pieces: mount option parsing, signal names, path resolution
// inside a rootfs, cgroup v2 conversions, device rules, spec validation and the CLI's
// usage errors (no container needed).

import { assertEquals, assertStringIncludes, assertThrows } from "../helpers/assert.ts";
import { MountFlags } from "../../lib/linux/mount.ts";
import { parseMountOptions } from "../../lib/linux/mount_options.ts";
import { parseSignal, signalName } from "../../lib/linux/signals.ts";
import { makeDevice } from "../../lib/linux/files.ts";
import { resolveInRoot } from "../../lib/runtime/init/secure_join.ts";
import { deviceRuleText, sharesToWeight, swapToV2 } from "../../lib/runtime/cgroups/mod.ts";
import { innerPath } from "../../lib/runtime/cgroups/paths.ts";
import { defaultSpec, SpecError, validateSpec } from "../../lib/runtime/spec.ts";
import { main } from "../../lib/runtime/cli.ts";

Deno.test("mount options split into flags, propagation and data", () => {
  const parsed = parseMountOptions(["rbind", "ro", "nosuid", "rslave", "mode=755", "size=1m"]);
  assertEquals(
    parsed.flags,
    MountFlags.BIND | MountFlags.REC | MountFlags.RDONLY | MountFlags.NOSUID,
  );
  assertEquals(parsed.propagation, [MountFlags.SLAVE | MountFlags.REC]);
  assertEquals(parsed.data, ["mode=755", "size=1m"]);
  assertEquals(parseMountOptions(["ro", "rw"]).flags, 0);
});

Deno.test("signals parse as runc accepts them", () => {
  assertEquals(parseSignal("9"), 9);
  assertEquals(parseSignal("KILL"), 9);
  assertEquals(parseSignal("SIGTERM"), 15);
  assertEquals(parseSignal("sigusr1"), 10);
  assertEquals(parseSignal("RTMIN+2"), 36);
  assertEquals(signalName(15), "SIGTERM");
  assertThrows(() => parseSignal("SIGNOPE"), Error, 'unknown signal "SIGNOPE"');
  assertThrows(() => parseSignal("65"), Error);
});

Deno.test("device numbers encode like glibc's makedev", () => {
  // The kernel's own encoding, as stat(2) reports it for /dev/null (1:3) and /dev/zero (1:5).
  assertEquals(makeDevice(1, 3), BigInt(Deno.statSync("/dev/null").rdev!));
  assertEquals(makeDevice(1, 5), BigInt(Deno.statSync("/dev/zero").rdev!));
  // minor 300 needs the high minor bits: 0x2c low, 0x100 shifted by 12.
  assertEquals(makeDevice(136, 300), 0x10882cn);
});

Deno.test("paths resolve inside the rootfs, never above it", async () => {
  const root = await Deno.makeTempDir();
  try {
    await Deno.mkdir(`${root}/real/dir`, { recursive: true });
    await Deno.symlink("/real", `${root}/absolute`);
    await Deno.symlink("../../..", `${root}/real/up`);
    await Deno.symlink("/", `${root}/etc`);
    assertEquals(resolveInRoot(root, "/absolute/dir"), `${root}/real/dir`);
    assertEquals(resolveInRoot(root, "/real/up/escape"), `${root}/escape`);
    assertEquals(resolveInRoot(root, "/etc/passwd"), `${root}/passwd`);
    assertEquals(resolveInRoot(root, "/../../x"), `${root}/x`);
    assertEquals(resolveInRoot(root, "/"), root);
    await Deno.symlink("loop", `${root}/loop`);
    assertThrows(() => resolveInRoot(root, "/loop/x"), Error, "too many levels");
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("cgroup v2 conversions and device rules", () => {
  assertEquals(sharesToWeight(1024), 39);
  assertEquals(sharesToWeight(2), 1);
  assertEquals(sharesToWeight(262144), 10000);
  assertEquals(swapToV2(-1, 100), "max");
  assertEquals(swapToV2(300, 100), "200");
  assertEquals(swapToV2(undefined, 100), null);
  assertThrows(() => swapToV2(50, 100), Error, "must not be smaller");
  assertEquals(
    deviceRuleText({ allow: true, type: "c", major: 1, minor: 3, access: "rwm" }),
    "c 1:3 rwm",
  );
  assertEquals(
    deviceRuleText({ allow: true, type: "c", major: 136, access: "rwm" }),
    "c 136:* rwm",
  );
  assertEquals(deviceRuleText({ allow: false, access: "rwm" }), "a");
  assertEquals(innerPath(undefined, "abc"), "abc");
  assertEquals(innerPath("/a/../b//c", "abc"), "/b/c");
});

Deno.test("the default spec validates; broken ones explain themselves", () => {
  assertEquals(validateSpec(defaultSpec()), []);
  const unknownCap = defaultSpec();
  unknownCap.process!.capabilities!.bounding!.push("CAP_TELEPORT");
  assertEquals(validateSpec(unknownCap), ["ignoring unknown capability CAP_TELEPORT"]);
  const relativeCwd = defaultSpec();
  relativeCwd.process!.cwd = "tmp";
  assertThrows(() => validateSpec(relativeCwd), SpecError, "process.cwd must be an absolute path");
  const noArgs = defaultSpec();
  noArgs.process!.args = [];
  assertThrows(() => validateSpec(noArgs), SpecError, "process.args");
  const noMountNamespace = defaultSpec();
  noMountNamespace.linux!.namespaces = [{ type: "pid" }];
  assertThrows(() => validateSpec(noMountNamespace), SpecError, '"mount" namespace');
  const period = defaultSpec();
  period.linux!.resources = { cpu: { period: 10 } };
  assertThrows(() => validateSpec(period), SpecError, "cpu.period must be 1000..1000000");
});

Deno.test("the CLI refuses unknown flags, commands and --systemd-cgroup clearly", async () => {
  const errors: string[] = [];
  const original = console.error;
  console.error = (...args: unknown[]) => errors.push(args.join(" "));
  try {
    assertEquals(await main(["--root", "/nonexistent", "frobnicate"]), 1);
    assertEquals(await main(["--root", "/nonexistent", "create", "--bogus", "x"]), 1);
    assertEquals(await main(["--systemd-cgroup", "state", "x"]), 1);
    assertEquals(await main(["--root", "/nonexistent", "kill", "x", "SIGNOPE"]), 1);
  } finally {
    console.error = original;
  }
  assertStringIncludes(errors.join("\n"), 'unknown command "frobnicate"');
  assertStringIncludes(errors.join("\n"), "flag provided but not defined: -bogus");
  assertStringIncludes(errors.join("\n"), "--systemd-cgroup is not supported");
  assertStringIncludes(errors.join("\n"), 'unknown signal "SIGNOPE"');
});
