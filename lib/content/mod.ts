// The content store: blobs named by their digest, written through resumable ingests,
// scoped by namespace in the metadata database (containerd's `core/content`,
// `plugins/content/local` and `core/metadata/content.go`).
export * from "./types.ts";
export * from "./digest.ts";
export * from "./local_store.ts";
export * from "./metadata_store.ts";
export * from "./namespaced_content.ts";
export * from "./gc_source.ts";
export * from "./open.ts";
export * from "./file_stream.ts";
