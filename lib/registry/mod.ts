// The registry client: resolve, pull and push images over the OCI distribution
// protocol, with Basic and Bearer-token auth (containerd's core/remotes/docker).
export * from "./types.ts";
export * from "./errors.ts";
export * from "./hosts.ts";
export * from "./challenge.ts";
export * from "./credentials.ts";
export * from "./scope.ts";
export * from "./authorizer.ts";
export * from "./http.ts";
export * from "./verify.ts";
export * from "./handlers.ts";
export * from "./progress.ts";
export * from "./fetcher.ts";
export * from "./pusher.ts";
export * from "./resolver.ts";
export * from "./pull.ts";
export * from "./push.ts";
