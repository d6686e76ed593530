// What this teaches: the platform a daemon runs images for is its own: Deno reports the
// CPU in the kernel's words (`x86_64`, `aarch64`), images name it in Go's (`amd64`,
// `arm64`). Mirrors containerd/platforms' `defaults_unix.go` (`DefaultSpec`) and
// `cpuinfo.go`.

/** The host's OS in image terms (`linux`). */
export function hostOs(): string {
  return Deno.build.os;
}

/** The host's architecture and variant in image terms. */
export function hostArchitecture(): { architecture: string; variant: string } {
  switch (Deno.build.arch) {
    case "x86_64":
      return { architecture: "amd64", variant: "" };
    case "aarch64":
      // containerd reads the variant from /proc/cpuinfo; every aarch64 CPU is at least v8.
      return { architecture: "arm64", variant: "v8" };
    default:
      return { architecture: Deno.build.arch, variant: "" };
  }
}
