// Images: the OCI data structures, their validated parsing, walking an image from its
// target (platform choice, size, platforms, gc labels), chainIDs, and the image
// records store with its garbage-collection roots (containerd's `core/images` and
// `core/metadata/images.go`).
export * from "./types.ts";
export * from "./media_types.ts";
export * from "./manifest.ts";
export * from "./walk.ts";
export * from "./image.ts";
export * from "./identity.ts";
export * from "./store.ts";
export * from "./gc.ts";
