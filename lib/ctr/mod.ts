// mini-ctr: the ctr-like command line client of mini-containerd.
export * from "./main.ts";
export * from "./types.ts";
export * from "./table.ts";
export * from "./arguments.ts";
export * from "./help.ts";
