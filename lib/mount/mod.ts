// Mount descriptions and the code that performs them (containerd's core/mount).
export * from "./types.ts";
export * from "./mount.ts";
export * from "./temp.ts";
export * from "./lowerdirs.ts";
export * from "./layers.ts";
export * from "./describe.ts";
