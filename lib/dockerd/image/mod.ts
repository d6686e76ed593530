// Docker's image store (imagedb), reference store (repositories.json) and the image
// service on top (moby's image/, reference/ and daemon/images/).
export * from "./types.ts";
export * from "./image_store.ts";
export * from "./reference_store.ts";
export * from "./image_service.ts";
