// What this teaches: parsing a reference exactly as written, with no defaults filled in:
// `busybox` has no domain and no tag here; normalization (normalize.ts) adds them.
// Mirrors distribution/reference's `reference.go` (`Parse`, `String`, `WithTag`).

import { invalidArgument } from "../api/errors.ts";
import { digestProblem } from "./digest.ts";
import {
  anchoredNameRegExp,
  anchoredTagRegExp,
  referenceRegExp,
  REPOSITORY_NAME_MAX_LENGTH,
} from "./grammar.ts";
import type { Reference } from "./types.ts";

/** Throws the invalid_argument error every reference problem becomes. */
export function referenceError(input: string, problem: string): never {
  throw invalidArgument(`invalid reference "${input}": ${problem}`);
}

/**
 * Parses a reference as written (distribution/reference's `Parse`): no default
 * domain, no default tag. Throws invalid_argument with the reason when it does not parse.
 */
export function parseReference(input: string): Reference {
  return parseReferenceReportingAs(input, input);
}

/** Parses `text`, naming `input` (what the user typed) in error messages. */
export function parseReferenceReportingAs(text: string, input: string): Reference {
  const match = referenceRegExp.exec(text);
  if (!match) {
    if (input === "") referenceError(input, "repository name must have at least one component");
    if (referenceRegExp.test(text.toLowerCase())) {
      referenceError(input, "repository name must be lowercase");
    }
    referenceError(
      input,
      "invalid reference format (expected [domain[:port]/]path[:tag][@algorithm:hex])",
    );
  }
  const [, name, tag, digest] = match;
  const nameMatch = anchoredNameRegExp.exec(name)!;
  const reference: Reference = { domain: nameMatch[1] ?? "", path: nameMatch[2] };
  if (reference.path.length > REPOSITORY_NAME_MAX_LENGTH) {
    referenceError(
      input,
      `repository name must not be more than ${REPOSITORY_NAME_MAX_LENGTH} characters`,
    );
  }
  if (tag !== undefined) reference.tag = tag;
  if (digest !== undefined) {
    const problem = digestProblem(digest);
    if (problem !== undefined) referenceError(input, problem);
    reference.digest = digest;
  }
  return reference;
}

/** The repository name: `domain/path`, or just `path` when there is no domain. */
export function referenceName(reference: Reference): string {
  return reference.domain ? `${reference.domain}/${reference.path}` : reference.path;
}

/** The full string: `name[:tag][@digest]`. */
export function formatReference(reference: Reference): string {
  let text = referenceName(reference);
  if (reference.tag !== undefined) text += `:${reference.tag}`;
  if (reference.digest !== undefined) text += `@${reference.digest}`;
  return text;
}

/** True when the reference has neither a tag nor a digest. */
export function isNameOnly(reference: Reference): boolean {
  return reference.tag === undefined && reference.digest === undefined;
}

/** A copy of `reference` with `tag` (validated) and without a digest, like `WithTag`. */
export function withTag(reference: Reference, tag: string): Reference {
  if (!anchoredTagRegExp.test(tag)) {
    throw invalidArgument(
      `invalid tag "${tag}": use up to 128 letters, digits, '_', '.' or '-', ` +
        `not starting with '.' or '-'`,
    );
  }
  return { domain: reference.domain, path: reference.path, tag };
}
