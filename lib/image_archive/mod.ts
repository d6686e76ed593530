// Image archives: import and export of OCI image layouts and `docker save` tars
// (containerd's core/images/archive with client/import.go and client/export.go).
export * from "./types.ts";
export * from "./import.ts";
export * from "./import_index.ts";
export * from "./export.ts";
export * from "./naming.ts";
export * from "./oci_layout.ts";
export * from "./entry_names.ts";
export * from "./tar_stream.ts";
