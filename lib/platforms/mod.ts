// Platforms: parsing `linux/arm64/v8`, normalization, the host default, and the
// matchers that pick a manifest out of an index (containerd/platforms).
export * from "./types.ts";
export * from "./host.ts";
export * from "./parse.ts";
export * from "./compare.ts";
