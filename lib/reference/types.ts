// What this teaches: what an image reference is made of. `docker.io/library/busybox:1.36@sha256:…`
// is a registry domain, a repository path, an optional tag and an optional digest; the
// short forms people type (`busybox`) are only a familiar spelling of the full one.
// Mirrors the `Named`, `Tagged` and `Digested` interfaces of distribution/reference.

/** A parsed image reference. */
export interface Reference {
  /** The registry, e.g. `docker.io`, `localhost:5000`; empty when the input had none. */
  domain: string;
  /** The repository path inside the registry, e.g. `library/busybox`. */
  path: string;
  /** The tag after `:`, e.g. `latest`. */
  tag?: string;
  /** The digest after `@`, e.g. `sha256:…`. */
  digest?: string;
}
