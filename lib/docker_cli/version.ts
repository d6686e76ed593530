// What this teaches: a client reports its own version next to the daemon's, so you can
// tell which half of the split you are looking at. Mirrors docker/cli's cli/version.

/** mini-docker's own version. */
export const MINI_DOCKER_VERSION = "0.1.0";
/** The "git commit" mini-docker reports. */
export const MINI_DOCKER_COMMIT = "mini";

/** Go's GOARCH name for this machine ("amd64", "arm64"). */
export function goArch(): string {
  switch (Deno.build.arch) {
    case "x86_64":
      return "amd64";
    case "aarch64":
      return "arm64";
    default:
      return Deno.build.arch;
  }
}
