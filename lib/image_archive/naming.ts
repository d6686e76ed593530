// What this teaches: an archive does not always say what its images are called. The
// OCI annotation `org.opencontainers.image.ref.name` is by convention only a tag
// ("latest"), so the importer needs a base name to make a full reference of it;
// containerd's own annotation `io.containerd.image.name` carries the full name and
// wins when present. In the other direction, `docker save`'s manifest.json wants the
// short "familiar" names (`busybox:latest`).
// Mirrors containerd's core/images/archive/reference.go (FilterRefPrefix,
// AddRefPrefix, DigestTranslator, ociReferenceName, familiarizeReference) and
// imageName() in client/import.go.

import type { Digest } from "../content/types.ts";
import { familiarString, parseNormalizedNamed, tagNameOnly } from "../reference/normalize.ts";
import { parseReference } from "../reference/reference.ts";
import { ANNOTATION_IMAGE_NAME, ANNOTATION_REF_NAME } from "./oci_layout.ts";

/** Turns an OCI ref name from an archive into an image name, or "" to skip it. */
export type RefTranslator = (refName: string) => string;

function isImagePrefix(name: string, prefix: string): boolean {
  if (!name.startsWith(prefix)) return false;
  // "foo/bar" is a prefix of "foo/bar:1" and "foo/bar/baz", not of "foo/barn".
  return name.length === prefix.length || "/:@".includes(name[prefix.length]);
}

function refTranslator(baseName: string, keepOnlyUnderBase: boolean): RefTranslator {
  return (refName) => {
    if (baseName === "") return "";
    const isFullReference = /[/:@]/.test(refName);
    if (isFullReference) {
      return keepOnlyUnderBase && !isImagePrefix(refName, baseName) ? "" : refName;
    }
    return `${baseName}:${refName}`;
  };
}

/**
 * `--base-name foo/bar`: a tag-only ref "1.0" becomes "foo/bar:1.0"; a full ref is
 * kept only when it is under foo/bar (containerd's FilterRefPrefix).
 */
export function filterRefPrefix(baseName: string): RefTranslator {
  return refTranslator(baseName, true);
}

/** Tag-only refs get `baseName:` in front; full refs are kept as they are (AddRefPrefix). */
export function addRefPrefix(baseName: string): RefTranslator {
  return refTranslator(baseName, false);
}

/** `--digests`: the name of the by-digest image of a manifest, `<prefix>@<digest>`. */
export function digestReference(prefix: string, digest: Digest): string {
  return `${prefix}@${digest}`;
}

/** The prefix ctr uses when no --base-name is given: `import-YYYY-MM-DD`. */
export function defaultImportPrefix(now: Date): string {
  return `import-${now.toISOString().slice(0, 10)}`;
}

/**
 * The image name an index entry asks for: containerd's full-name annotation, else
 * the OCI ref name passed through `translate`; "" when it has neither.
 */
export function imageNameOf(
  annotations: Record<string, string> | undefined,
  translate?: RefTranslator,
): string {
  const fullName = annotations?.[ANNOTATION_IMAGE_NAME];
  if (fullName) return fullName;
  const refName = annotations?.[ANNOTATION_REF_NAME];
  if (!refName) return "";
  return translate ? translate(refName) : refName;
}

/**
 * The OCI ref name for a full image name: its tag ("latest"), since the OCI spec
 * keeps the repository out of it; the whole name when it is pinned only by digest.
 */
export function ociReferenceName(name: string): string {
  try {
    const reference = parseReference(name);
    if (reference.tag !== undefined) {
      return reference.digest ? `${reference.tag}@${reference.digest}` : reference.tag;
    }
  } catch { /* not a parseable reference: keep it whole */ }
  return name;
}

/** `docker.io/library/busybox:latest` → `busybox:latest`, for docker's manifest.json. */
export function familiarReference(name: string): string {
  return familiarString(tagNameOnly(parseNormalizedNamed(name)));
}
