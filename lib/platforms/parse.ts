// What this teaches: platform specifiers (`linux/amd64`, `linux/arm64/v8`, `arm64`) and
// their canonical form. Kernels and toolchains name the same CPU differently (`x86_64`,
// `aarch64`, `armhf`); images use Go's names (`amd64`, `arm64`, `arm/v7`), so everything
// is normalized before it is compared. Mirrors containerd/platforms' `platforms.go` and
// `database.go`.

import { invalidArgument } from "../api/errors.ts";
import type { Platform } from "../images/types.ts";
import { hostArchitecture, hostOs } from "./host.ts";

// Go's known operating systems and architectures (go/build/syslist.go), which decide
// whether a lone word such as `linux` or `arm64` is an OS or an architecture.
const knownOperatingSystems = new Set([
  "aix",
  "android",
  "darwin",
  "dragonfly",
  "freebsd",
  "hurd",
  "illumos",
  "ios",
  "js",
  "linux",
  "nacl",
  "netbsd",
  "openbsd",
  "plan9",
  "solaris",
  "windows",
  "zos",
]);
const knownArchitectures = new Set([
  "386",
  "amd64",
  "amd64p32",
  "arm",
  "armbe",
  "arm64",
  "arm64be",
  "ppc64",
  "ppc64le",
  "loong64",
  "mips",
  "mipsle",
  "mips64",
  "mips64le",
  "mips64p32",
  "mips64p32le",
  "ppc",
  "riscv",
  "riscv64",
  "s390",
  "s390x",
  "sparc",
  "sparc64",
  "wasm",
]);

const componentPattern = /^[A-Za-z0-9_.-]+$/;

/** Canonical OS name: lowercase, `macos` → `darwin`, empty → the host's. */
export function normalizeOs(os: string): string {
  if (os === "") return hostOs();
  const lower = os.toLowerCase();
  return lower === "macos" ? "darwin" : lower;
}

/**
 * Canonical architecture and variant: `x86_64` → `amd64`, `aarch64` → `arm64` (its
 * baseline `v8` variant dropped), `armhf` → `arm/v7`, bare `arm` → `arm/v7`.
 */
export function normalizeArchitecture(
  architecture: string,
  variant = "",
): { architecture: string; variant: string } {
  let arch = architecture.toLowerCase();
  let vari = variant.toLowerCase();
  switch (arch) {
    case "i386":
      arch = "386";
      vari = "";
      break;
    case "x86_64":
    case "x86-64":
    case "amd64":
      arch = "amd64";
      if (vari === "v1") vari = "";
      break;
    case "aarch64":
    case "arm64":
      arch = "arm64";
      if (vari === "8" || vari === "v8" || vari === "v8.0") vari = "";
      else if (vari === "9" || vari === "9.0" || vari === "v9.0") vari = "v9";
      break;
    case "armhf":
      arch = "arm";
      vari = "v7";
      break;
    case "armel":
      arch = "arm";
      vari = "v6";
      break;
    case "arm":
      if (vari === "" || vari === "7") vari = "v7";
      else if (vari === "5" || vari === "6" || vari === "8") vari = `v${vari}`;
      break;
  }
  return { architecture: arch, variant: vari };
}

/** The canonical form of a platform, used for every comparison. */
export function normalizePlatform(platform: Platform): Platform {
  const { architecture, variant } = normalizeArchitecture(
    platform.architecture ?? "",
    platform.variant ?? "",
  );
  const normalized: Platform = { os: normalizeOs(platform.os ?? ""), architecture };
  if (variant !== "") normalized.variant = variant;
  if (platform["os.version"]) normalized["os.version"] = platform["os.version"];
  if (platform["os.features"]?.length) {
    normalized["os.features"] = [...new Set(platform["os.features"])].sort();
  }
  return normalized;
}

/**
 * Parses `<os>`, `<arch>`, `<os>/<arch>` or `<os>/<arch>/<variant>`. A lone word is an
 * OS when Go knows it as one (the host's architecture is filled in), else an
 * architecture (the host's OS is filled in). OS version options such as
 * `windows(10.0.17763)` are not supported by mini.
 */
export function parsePlatform(specifier: string): Platform {
  const fail = (problem: string): never => {
    throw invalidArgument(`invalid platform "${specifier}": ${problem}`);
  };
  if (specifier.includes("*")) fail("wildcards are not supported");
  const parts = specifier.split("/");
  if (parts.length > 3) fail("expected <os>/<arch>[/<variant>]");
  for (const part of parts) {
    if (!componentPattern.test(part)) {
      fail(`"${part}" is not a valid component (letters, digits, '_', '.', '-')`);
    }
  }
  const os = normalizeOs(parts[0]);
  if (parts.length === 1) {
    if (knownOperatingSystems.has(os)) {
      const host = hostArchitecture();
      return withVariant({ os, architecture: host.architecture }, host.variant);
    }
    const { architecture, variant } = normalizeArchitecture(parts[0]);
    if (!knownArchitectures.has(architecture)) {
      fail("unknown operating system or architecture");
    }
    return withVariant(
      { os: hostOs(), architecture },
      variant === "v7" && architecture === "arm" ? "" : variant,
    );
  }
  if (parts.length === 2) {
    const { architecture, variant } = normalizeArchitecture(parts[1]);
    // `linux/arm` means the arm/v7 default, written without its variant.
    return withVariant(
      { os, architecture },
      architecture === "arm" && variant === "v7" ? "" : variant,
    );
  }
  const { architecture, variant } = normalizeArchitecture(parts[1], parts[2]);
  // A fully specified arm64 keeps its (baseline) variant as written: linux/arm64/v8.
  return withVariant(
    { os, architecture },
    architecture === "arm64" && variant === "" ? "v8" : variant,
  );
}

function withVariant(platform: Platform, variant: string): Platform {
  return variant === "" ? platform : { ...platform, variant };
}

/** `linux/amd64`, `linux/arm64/v8`; `unknown` when the OS is empty (`platforms.Format`). */
export function formatPlatform(platform: Platform): string {
  if (!platform.os) return "unknown";
  return [platform.os, platform.architecture, platform.variant].filter((part) => part).join("/");
}
