// What this teaches: every name inside an image archive is untrusted input. The
// importer never writes files by entry name (blobs go into the content store by
// digest), but a name that climbs out of the archive ("../x", "/etc/passwd") can only
// come from a broken or hostile archive, so it is refused with a clear error rather
// than quietly "cleaned". Digests are checked for their exact form before they are
// used anywhere, since a digest string becomes a path inside the content store.
// Mirrors the path.Clean of entry names in containerd's core/images/archive/importer.go
// and go-digest's Digest.Validate.

import { invalidArgument } from "../api/errors.ts";
import type { Digest } from "../content/types.ts";
import { digestProblem } from "../reference/digest.ts";

/** Throws a clear error unless `value` is a well-formed digest; `where` names its place. */
export function requireDigest(value: unknown, where: string): Digest {
  const problem = digestProblem(value);
  if (problem === undefined) return value as Digest;
  throw invalidArgument(`${where} has an invalid digest ${JSON.stringify(value)}: ${problem}`);
}

/**
 * Canonical form of an archive entry name ("./blobs//sha256/x" → "blobs/sha256/x",
 * "dir/" → "dir"). Refuses absolute names, ".." components and NUL bytes.
 */
export function cleanEntryName(name: string): string {
  if (name.includes("\0")) {
    throw invalidArgument(`archive entry ${JSON.stringify(name)} has a NUL byte in its name`);
  }
  if (name.startsWith("/")) {
    throw invalidArgument(
      `archive entry ${JSON.stringify(name)} has an absolute path: ` +
        "entries of an image archive must be relative to the archive root",
    );
  }
  const parts: string[] = [];
  for (const part of name.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") {
      throw invalidArgument(
        `archive entry ${JSON.stringify(name)} escapes the archive root with "..": ` +
          "refusing a broken or hostile archive",
      );
    }
    parts.push(part);
  }
  return parts.join("/");
}

/** The digest named by an OCI layout path `blobs/sha256/<hex>`, or undefined for other paths. */
export function digestOfBlobPath(cleanName: string): Digest | undefined {
  const match = /^blobs\/([^/]+)\/([^/]+)$/.exec(cleanName);
  if (!match) return undefined;
  const digest = `${match[1]}:${match[2]}`;
  const problem = digestProblem(digest);
  if (problem !== undefined) {
    throw invalidArgument(
      `archive entry ${cleanName} is not a valid blob name (${problem}): ` +
        "expected blobs/sha256/<64 lowercase hex>",
    );
  }
  return digest;
}

/** The OCI layout path of a blob: `blobs/sha256/<hex>`. */
export function blobPath(digest: Digest): string {
  const [algorithm, hex] = digest.split(":");
  return `blobs/${algorithm}/${hex}`;
}

/**
 * Resolves a path written inside the archive (a docker manifest.json's Config or
 * Layers, or a symlink's target relative to its directory) to a clean entry name.
 * ".." may step back inside the archive (old `docker save` links layers as
 * "../<id>/layer.tar") but never above its root.
 */
export function resolveArchivePath(path: string, relativeTo = ""): string {
  if (path.includes("\0") || path.startsWith("/")) {
    throw invalidArgument(`path ${JSON.stringify(path)} inside the archive must be relative`);
  }
  const parts: string[] = [];
  for (const part of `${relativeTo}/${path}`.split("/")) {
    if (part === "" || part === ".") continue;
    if (part !== "..") {
      parts.push(part);
    } else if (parts.pop() === undefined) {
      throw invalidArgument(
        `path ${JSON.stringify(path)} inside the archive escapes the archive root`,
      );
    }
  }
  return parts.join("/");
}
