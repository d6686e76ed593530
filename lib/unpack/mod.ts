// Unpacking images into snapshots keyed by chainID (containerd's core/unpack).
export { unpackImage } from "./unpacker.ts";
export type { UnpackOptions, UnpackResult } from "./unpacker.ts";
