// What this teaches: the layer archive component, the bridge between image layers (tar
// streams) and directories: applyLayer() unpacks a layer safely, diffLayer() turns an
// overlay upperdir back into a layer. Mirrors containerd's pkg/archive.
// Programs using it need --allow-ffi (the *at system calls) and usually root.
export * from "./types.ts";
export { applyLayer } from "./apply.ts";
export { detectCompression } from "./compression.ts";
export { type ArchiveCompression, compressionOf } from "./magic.ts";
export { diffLayer, writeDiff, writeDiffToFile } from "./diff.ts";
