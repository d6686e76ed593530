// What this teaches: how `busybox` becomes `docker.io/library/busybox:latest`. The first
// path component is a registry only if it looks like one (has a `.` or a `:`, or is
// `localhost`); otherwise Docker Hub is assumed, and single-component Hub names live in
// the `library/` namespace. Display goes the other way ("familiar" names).
// Mirrors distribution/reference's `normalize.go` and `helpers.go`.

import { anchoredIdentifierRegExp } from "./grammar.ts";
import {
  formatReference,
  isNameOnly,
  parseReferenceReportingAs,
  referenceError,
  withTag,
} from "./reference.ts";
import type { Reference } from "./types.ts";

/** Docker Hub's canonical domain. */
export const DEFAULT_DOMAIN = "docker.io";
/** The old Docker Hub domain, rewritten to docker.io. */
export const LEGACY_DEFAULT_DOMAIN = "index.docker.io";
/** The namespace of Docker Hub's official images. */
export const OFFICIAL_REPOSITORY_PREFIX = "library/";
/** The tag assumed when none is given. */
export const DEFAULT_TAG = "latest";

/** Splits a familiar name into its registry domain and the rest (`splitDockerDomain`). */
function splitDockerDomain(name: string): { domain: string; remainder: string } {
  const slash = name.indexOf("/");
  if (slash === -1) return { domain: DEFAULT_DOMAIN, remainder: OFFICIAL_REPOSITORY_PREFIX + name };
  const maybeDomain = name.slice(0, slash);
  const maybeRemainder = name.slice(slash + 1);
  let domain: string;
  let remainder: string;
  if (maybeDomain === "localhost") {
    [domain, remainder] = [maybeDomain, maybeRemainder];
  } else if (maybeDomain === LEGACY_DEFAULT_DOMAIN) {
    [domain, remainder] = [DEFAULT_DOMAIN, maybeRemainder];
  } else if (/[.:]/.test(maybeDomain)) {
    // A dot or a colon: a host name, an IP address or host:port.
    [domain, remainder] = [maybeDomain, maybeRemainder];
  } else if (maybeDomain.toLowerCase() !== maybeDomain) {
    // Repository paths are lowercase, so an uppercase first component can only be a host.
    [domain, remainder] = [maybeDomain, maybeRemainder];
  } else {
    [domain, remainder] = [DEFAULT_DOMAIN, name];
  }
  if (domain === DEFAULT_DOMAIN && !remainder.includes("/")) {
    remainder = OFFICIAL_REPOSITORY_PREFIX + remainder;
  }
  return { domain, remainder };
}

/**
 * Parses a name the way `docker pull` reads it (`ParseNormalizedNamed`): fills in
 * docker.io and `library/`, but not a tag (see tagNameOnly). Refuses uppercase
 * repository names and bare 64-hex image IDs.
 */
export function parseNormalizedNamed(input: string): Reference {
  if (input === "") referenceError(input, "repository name must have at least one component");
  if (anchoredIdentifierRegExp.test(input)) {
    referenceError(input, "cannot specify 64-byte hexadecimal strings as a repository name");
  }
  const { domain, remainder } = splitDockerDomain(input);
  const colon = remainder.indexOf(":");
  const remote = colon === -1 ? remainder : remainder.slice(0, colon);
  if (remote.toLowerCase() !== remote) {
    referenceError(input, `repository name (${remote}) must be lowercase`);
  }
  return parseReferenceReportingAs(`${domain}/${remainder}`, input);
}

/** Adds the `latest` tag when the reference has neither tag nor digest (`TagNameOnly`). */
export function tagNameOnly(reference: Reference): Reference {
  return isNameOnly(reference) ? withTag(reference, DEFAULT_TAG) : reference;
}

/** The full normalized string: `busybox` → `docker.io/library/busybox:latest`. */
export function normalizeReference(input: string): string {
  return formatReference(tagNameOnly(parseNormalizedNamed(input)));
}

/**
 * Like containerd's `ParseDockerRef`: normalizes, and when a reference has both a
 * tag and a digest keeps only the digest (the digest is what pins the content).
 */
export function parseDockerRef(input: string): Reference {
  const reference = parseNormalizedNamed(input);
  if (reference.tag !== undefined && reference.digest !== undefined) {
    return { domain: reference.domain, path: reference.path, digest: reference.digest };
  }
  return tagNameOnly(reference);
}

/** The short name Docker shows: `docker.io/library/busybox` → `busybox`, `docker.io/u/a` → `u/a`. */
export function familiarName(reference: Reference): string {
  if (reference.domain !== DEFAULT_DOMAIN) return `${reference.domain}/${reference.path}`;
  if (reference.path.startsWith(OFFICIAL_REPOSITORY_PREFIX)) {
    const rest = reference.path.slice(OFFICIAL_REPOSITORY_PREFIX.length);
    if (!rest.includes("/")) return rest;
  }
  return reference.path;
}

/** The short name with its tag and digest, e.g. `busybox:latest`. */
export function familiarString(reference: Reference): string {
  let text = familiarName(reference);
  if (reference.tag !== undefined) text += `:${reference.tag}`;
  if (reference.digest !== undefined) text += `@${reference.digest}`;
  return text;
}

/**
 * The host to contact for a registry domain. Docker Hub's images are named
 * `docker.io/...` but served by `registry-1.docker.io` (containerd's
 * `docker.ResolverOptions` default host mapping).
 */
export function registryHost(domain: string): string {
  return domain === DEFAULT_DOMAIN ? "registry-1.docker.io" : domain;
}
