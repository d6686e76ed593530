// What this teaches: where registry credentials come from. `docker login` stores them
// in `~/.docker/config.json` (or `$DOCKER_CONFIG/config.json`) under `auths`, keyed by
// registry, as base64 of `user:password`; Docker Hub's key is the historical
// `https://index.docker.io/v1/`. ctr takes them from `--user USER:PASSWORD` instead.
// Mirrors the credential lookup of ctr's `cmd/ctr/commands/resolver.go` and the Docker
// CLI's `cli/config/configfile` (`auths` entries; credential helpers are not supported).

import { join } from "node:path";
import { DEFAULT_DOMAIN } from "../reference/normalize.ts";

/** A user name and password (or token) for one registry. */
export interface Credentials {
  username: string;
  password: string;
}

/** Finds the credentials for a registry domain (`docker.io`, `127.0.0.1:5000`), if any. */
export type CredentialsLookup = (
  domain: string,
) => Credentials | undefined | Promise<Credentials | undefined>;

/** Parses `--user USER:PASSWORD`; the password may itself contain colons. */
export function parseUserFlag(value: string): Credentials {
  const colon = value.indexOf(":");
  if (colon <= 0) {
    throw new Error(`--user must look like USER:PASSWORD, got "${value.replace(/:.*/, ":…")}"`);
  }
  return { username: value.slice(0, colon), password: value.slice(colon + 1) };
}

/** One `auths` entry of a Docker config.json. */
interface DockerAuthEntry {
  auth?: string;
  username?: string;
  password?: string;
  identitytoken?: string;
}

/** The parts of a Docker config.json that mini reads. */
export interface DockerConfigFile {
  auths?: Record<string, DockerAuthEntry>;
}

/** The path of the Docker config.json: `$DOCKER_CONFIG/config.json` or `~/.docker/config.json`. */
export function dockerConfigPath(env: (name: string) => string | undefined): string | undefined {
  const directory = env("DOCKER_CONFIG");
  if (directory) return join(directory, "config.json");
  const home = env("HOME");
  return home ? join(home, ".docker", "config.json") : undefined;
}

/** `https://127.0.0.1:5000/v1/` → `127.0.0.1:5000`: auths keys are written many ways. */
function normalizeAuthKey(key: string): string {
  return key.replace(/^[a-z]+:\/\//i, "").replace(/\/.*$/, "").toLowerCase();
}

/** The keys under which a domain's credentials may be stored, best first. */
function candidateKeys(domain: string): string[] {
  const lower = domain.toLowerCase();
  if (lower === DEFAULT_DOMAIN) {
    return ["index.docker.io", "docker.io", "registry-1.docker.io"];
  }
  return [lower];
}

/** Decodes one auths entry; entries with only an identity token are not supported. */
function decodeEntry(key: string, entry: DockerAuthEntry): Credentials | undefined {
  if (entry.auth) {
    let decoded: string;
    try {
      decoded = atob(entry.auth);
    } catch {
      throw new Error(`the "auth" of "${key}" in the Docker config is not valid base64`);
    }
    const colon = decoded.indexOf(":");
    if (colon <= 0) {
      throw new Error(
        `the "auth" of "${key}" in the Docker config does not decode to user:password`,
      );
    }
    return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  }
  if (entry.username && entry.password !== undefined) {
    return { username: entry.username, password: entry.password };
  }
  return undefined;
}

/** Finds a domain's credentials in a parsed Docker config. */
export function credentialsFromDockerConfig(
  config: DockerConfigFile,
  domain: string,
): Credentials | undefined {
  const entries = Object.entries(config.auths ?? {});
  for (const wanted of candidateKeys(domain)) {
    for (const [key, entry] of entries) {
      if (normalizeAuthKey(key) !== wanted) continue;
      const credentials = decodeEntry(key, entry);
      if (credentials) return credentials;
    }
  }
  return undefined;
}

/** Reads the Docker config.json at `path`; a missing file means "no credentials". */
export async function readDockerConfig(path: string): Promise<DockerConfigFile> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return {};
    throw error;
  }
  try {
    return JSON.parse(text) as DockerConfigFile;
  } catch (error) {
    throw new Error(`the Docker config ${path} is not valid JSON: ${error}`);
  }
}

/**
 * The credential lookup ctr-style commands use: `--user` when given (for every
 * registry, as ctr does), else the Docker config's `auths`, else anonymous.
 */
export function defaultCredentialsLookup(
  options: { user?: string; env?: (name: string) => string | undefined } = {},
): CredentialsLookup {
  if (options.user !== undefined) {
    const fromFlag = parseUserFlag(options.user);
    return () => fromFlag;
  }
  const path = dockerConfigPath(options.env ?? ((name) => Deno.env.get(name)));
  let config: Promise<DockerConfigFile> | undefined;
  return async (domain) => {
    if (!path) return undefined;
    config ??= readDockerConfig(path);
    return credentialsFromDockerConfig(await config, domain);
  };
}
