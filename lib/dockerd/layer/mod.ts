// The overlay2 graph driver and Docker's layer store (moby's daemon/graphdriver/overlay2
// and layer/).
export * from "./short_id.ts";
export * from "./overlay2.ts";
export * from "./tar_split.ts";
export * from "./init_layer.ts";
export * from "./layer_store.ts";
