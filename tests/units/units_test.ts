// Unit tests for lib/units (docker/go-units): sizes in decimal and binary units, Go's
// %g, memory amounts as `docker run -m` reads them, and durations as `docker ps`
// words them. Expected values are go-units' documented results. The last test checks
// that mini-docker, mini-dockerd and mini-ctr really use this one implementation.

import { assertEquals, assertThrows } from "../helpers/assert.ts";
import {
  bytesSize,
  formatGoG,
  humanDuration,
  humanSize,
  humanSizeWithPrecision,
  ramInBytes,
} from "../../lib/units/mod.ts";
import * as dockerCliUnits from "../../lib/docker_cli/format/units.ts";
import * as dockerdProgress from "../../lib/dockerd/server/progress.ts";

const KB = 1000;
const MB = 1000 * KB;
const GB = 1000 * MB;
const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;

Deno.test("humanSize: decimal units, four significant digits", () => {
  assertEquals(humanSize(0), "0B");
  assertEquals(humanSize(115), "115B");
  assertEquals(humanSize(1000), "1kB");
  assertEquals(humanSize(1024), "1.024kB");
  assertEquals(humanSize(MB), "1MB");
  assertEquals(humanSize(1048576), "1.049MB");
  assertEquals(humanSize(2 * MB), "2MB");
  assertEquals(humanSize(3.42 * GB), "3.42GB");
  assertEquals(humanSize(5.372 * 1000 * GB), "5.372TB");
  assertEquals(humanSize(999_950), "1000kB");
  assertEquals(humanSize(1e21), "1ZB");
});

Deno.test("humanSizeWithPrecision: three digits for image sizes, %g's exponent form", () => {
  assertEquals(humanSizeWithPrecision(1982340, 3), "1.98MB");
  assertEquals(humanSizeWithPrecision(4260000, 3), "4.26MB");
  assertEquals(humanSizeWithPrecision(999_999, 3), "1e+03kB");
});

Deno.test("bytesSize: binary units", () => {
  assertEquals(bytesSize(0), "0B");
  assertEquals(bytesSize(1024), "1KiB");
  assertEquals(bytesSize(MiB), "1MiB");
  assertEquals(bytesSize(GiB), "1GiB");
  assertEquals(bytesSize(3.42 * GiB), "3.42GiB");
  assertEquals(bytesSize(25276502016), "23.54GiB");
});

Deno.test("formatGoG: Go's %g switches to exponent form outside [1e-4, 1e precision)", () => {
  assertEquals(formatGoG(1.5, 3), "1.5");
  assertEquals(formatGoG(0.0001234, 3), "0.000123");
  assertEquals(formatGoG(0.00001234, 3), "1.23e-05");
  assertEquals(formatGoG(123456, 3), "1.23e+05");
  assertEquals(formatGoG(100, 3), "100");
  assertEquals(formatGoG(0, 4), "0");
});

Deno.test("ramInBytes: binary multipliers, optional b/ib, go-units' errors", () => {
  assertEquals(ramInBytes("32"), 32);
  assertEquals(ramInBytes("32b"), 32);
  assertEquals(ramInBytes("32B"), 32);
  assertEquals(ramInBytes("32k"), 32 * KiB);
  assertEquals(ramInBytes("32K"), 32 * KiB);
  assertEquals(ramInBytes("32kb"), 32 * KiB);
  assertEquals(ramInBytes("32Kib"), 32 * KiB);
  assertEquals(ramInBytes("64m"), 64 * MiB);
  assertEquals(ramInBytes("32Gb"), 32 * GiB);
  assertEquals(ramInBytes("0.3m"), Math.trunc(0.3 * MiB));
  assertEquals(ramInBytes("32.3"), 32);
  for (const bad of ["", "hello", "-32", "32.3Jb", "32mbb", "32m b"]) {
    assertThrows(() => ramInBytes(bad), Error);
  }
  assertThrows(() => ramInBytes("32.3Jb"), Error, "invalid suffix: 'jb'");
});

Deno.test("humanDuration: coarse words; hours round, everything else truncates", () => {
  const second = 1000;
  const minute = 60 * second;
  const hour = 60 * minute;
  const day = 24 * hour;
  assertEquals(humanDuration(0), "Less than a second");
  assertEquals(humanDuration(999), "Less than a second");
  assertEquals(humanDuration(-5 * second), "Less than a second");
  assertEquals(humanDuration(second), "1 second");
  assertEquals(humanDuration(2 * second), "2 seconds");
  assertEquals(humanDuration(59 * second), "59 seconds");
  assertEquals(humanDuration(60 * second), "About a minute");
  assertEquals(humanDuration(119 * second), "About a minute");
  assertEquals(humanDuration(2 * minute), "2 minutes");
  assertEquals(humanDuration(59 * minute), "59 minutes");
  assertEquals(humanDuration(60 * minute), "About an hour");
  assertEquals(humanDuration(89 * minute), "About an hour");
  assertEquals(humanDuration(90 * minute), "2 hours");
  assertEquals(humanDuration(47 * hour), "47 hours");
  assertEquals(humanDuration(48 * hour), "2 days");
  assertEquals(humanDuration(13 * day), "13 days");
  assertEquals(humanDuration(14 * day), "2 weeks");
  assertEquals(humanDuration(59 * day), "8 weeks");
  assertEquals(humanDuration(60 * day), "2 months");
  assertEquals(humanDuration(729 * day), "24 months");
  assertEquals(humanDuration(730 * day), "2 years");
});

Deno.test("mini-docker, mini-dockerd and mini-ctr share this one implementation", async () => {
  assertEquals(dockerCliUnits.humanDuration, humanDuration);
  assertEquals(dockerCliUnits.humanSize, humanSize);
  assertEquals(dockerCliUnits.bytesSize, bytesSize);
  assertEquals(dockerCliUnits.ramInBytes, ramInBytes);
  assertEquals(dockerdProgress.humanSize, humanSize);
  // mini-ctr keeps no copy of its own: its content command imports lib/units.
  const ctrContent = await Deno.readTextFile(
    new URL("../../lib/ctr/commands/content.ts", import.meta.url),
  );
  assertEquals(ctrContent.includes('from "../../units/mod.ts"'), true);
  assertEquals(/function human(Size|Duration)\b/.test(ctrContent), false);
  // Nor does mini-dockerd's container state (`Up 3 seconds`, `Exited (0) 2 hours ago`).
  const dockerdState = await Deno.readTextFile(
    new URL("../../lib/dockerd/containers/state.ts", import.meta.url),
  );
  assertEquals(dockerdState.includes('import { humanDuration } from "../../units/mod.ts"'), true);
});
