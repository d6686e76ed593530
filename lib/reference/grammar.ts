// What this teaches: the grammar of image references, built bottom-up from small named
// pieces so each rule can be read on its own. Mirrors distribution/reference's
// `regexp.go` (the grammar documented at the top of its `reference.go`).

/** Lowercase letters and digits: the body of one path component. */
const alphanumeric = "[a-z0-9]+";

/** What may join alphanumerics inside a path component: `.`, `_`, `__` or dashes. */
const separator = "(?:[._]|__|[-]+)";

/** One repository path component, e.g. `library`, `my_app`, `foo--bar`. */
const pathComponent = `${alphanumeric}(?:${separator}${alphanumeric})*`;

/** One DNS label of a registry host name; uppercase is allowed in hosts. */
const domainNameComponent = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";

/** An IPv6 literal in brackets, e.g. `[::1]`. */
const ipv6Address = "\\[(?:[a-fA-F0-9:]+)\\]";

/** A registry: host name or IPv6 literal, with an optional port. */
const domainAndPort =
  `(?:${domainNameComponent}(?:\\.${domainNameComponent})*|${ipv6Address})(?::[0-9]+)?`;

/** A tag: up to 128 word characters, dots and dashes, not starting with `.` or `-`. */
export const tagPattern = "[\\w][\\w.-]{0,127}";

/** A digest as the reference grammar sees it; the algorithm rules are checked afterwards. */
const digestPattern = "[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}";

/** The repository path: path components joined by `/`. */
const remoteName = `${pathComponent}(?:/${pathComponent})*`;

/** A full name: optional `domain/` then the path. */
const namePattern = `(?:${domainAndPort}/)?${remoteName}`;

/** A whole reference: name, optional `:tag`, optional `@digest` (groups: name, tag, digest). */
export const referenceRegExp = new RegExp(
  `^(${namePattern})(?::(${tagPattern}))?(?:@(${digestPattern}))?$`,
);

/** A name split into its domain (group 1, optional) and path (group 2). */
export const anchoredNameRegExp = new RegExp(`^(?:(${domainAndPort})/)?(${remoteName})$`);

/** A tag on its own. */
export const anchoredTagRegExp = new RegExp(`^${tagPattern}$`);

/** A bare 64-hex identifier (an image ID), which is refused as a repository name. */
export const anchoredIdentifierRegExp = /^[a-f0-9]{64}$/;

/** Longest repository path distribution/reference accepts. */
export const REPOSITORY_NAME_MAX_LENGTH = 255;
