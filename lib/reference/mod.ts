// Image references: parsing, Docker-style normalization and familiar names, and digest
// syntax (distribution/reference and opencontainers/go-digest).
export * from "./types.ts";
export * from "./digest.ts";
export * from "./reference.ts";
export * from "./normalize.ts";
