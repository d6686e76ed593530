// What this teaches: one home for docker/go-units, the small Go package that the
// docker CLI, dockerd and ctr all use to print sizes ("1.982MB", "23.54GiB") and ages
// ("About a minute"), and to read memory amounts ("64m"). mini-docker, mini-dockerd
// and mini-ctr import it from here so the three programs cannot drift apart.
// Mirrors github.com/docker/go-units (size.go, duration.go).

export { bytesSize, formatGoG, humanSize, humanSizeWithPrecision, ramInBytes } from "./size.ts";
export { humanDuration } from "./duration.ts";
