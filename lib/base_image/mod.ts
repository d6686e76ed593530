// The offline base image: busybox:latest built from the host's static busybox,
// deterministically, as an OCI image-layout archive.
export * from "./types.ts";
export * from "./busybox.ts";
export * from "./rootfs.ts";
export * from "./layer.ts";
export * from "./build.ts";
