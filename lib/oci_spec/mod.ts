// Building OCI runtime specs for containers (containerd's pkg/oci): the default spec,
// the options that change it, and an early shape check.
export * from "./types.ts";
export * from "./defaults.ts";
export * from "./options.ts";
export * from "./validate.ts";
