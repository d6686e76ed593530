// The Engine API server plumbing: router, request context, replies, hijacked
// streams, NDJSON progress, docker-style errors (moby's api/server).
export * from "./errors.ts";
export * from "./json.ts";
export * from "./reply.ts";
export * from "./hijack.ts";
export * from "./progress.ts";
export * from "./context.ts";
export * from "./router.ts";
export * from "./http_server.ts";
