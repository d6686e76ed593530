// What this teaches: how `docker build`'s flags travel. The CLI puts every option in the
// query string of `POST /build` (repeatable `t`, JSON objects for `buildargs` and
// `labels`, "1"/"0" switches) and the context tar in the body.
// Mirrors moby's api/server/router/build/build_routes.go (newImageBuildOptions).

import { type BuildOptions, BuildStepError, DEFAULT_BUILD_OPTIONS } from "./types.ts";

function truthy(value: string | null): boolean {
  if (value === null) return false;
  return ["1", "true", "True", "TRUE", "t", "T"].includes(value);
}

function jsonObject<T>(query: URLSearchParams, name: string): Record<string, T> {
  const text = query.get(name);
  if (text === null || text === "") return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new BuildStepError(`invalid ${name} JSON: ${(error as Error).message}`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new BuildStepError(`invalid ${name}: expected a JSON object, got ${text}`);
  }
  return value as Record<string, T>;
}

/** Reads the build options from the query string of `POST /build`. */
export function buildOptionsFromQuery(query: URLSearchParams): BuildOptions {
  const buildArgs = jsonObject<string | null>(query, "buildargs");
  for (const [key, value] of Object.entries(buildArgs)) {
    if (value !== null && typeof value !== "string") {
      throw new BuildStepError(`invalid buildargs: the value of ${key} must be a string`);
    }
  }
  const labels = jsonObject<string>(query, "labels");
  for (const [key, value] of Object.entries(labels)) {
    if (typeof value !== "string") {
      throw new BuildStepError(`invalid labels: the value of ${key} must be a string`);
    }
  }
  const rm = query.get("rm");
  return {
    ...DEFAULT_BUILD_OPTIONS,
    tags: query.getAll("t").filter((tag) => tag !== ""),
    dockerfile: query.get("dockerfile") || DEFAULT_BUILD_OPTIONS.dockerfile,
    buildArgs,
    noCache: truthy(query.get("nocache")),
    pull: truthy(query.get("pull")),
    quiet: truthy(query.get("q")),
    target: query.get("target") || undefined,
    remove: rm === null || rm === "" ? true : truthy(rm),
    forceRemove: truthy(query.get("forcerm")),
    labels,
    platform: query.get("platform") || undefined,
  };
}
