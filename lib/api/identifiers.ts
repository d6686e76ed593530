// What this teaches: every name a client hands the daemon (a namespace, a lease,
// a container ID, a snapshot key) is validated once, at the edge, with one rule.
// Mirrors containerd's `pkg/identifiers`.

import { invalidArgument } from "./errors.ts";

const maxLength = 76;
// Alphanumerics, separated by single '.', '_' or '-' (containerd's identifier rule).
const identifierPattern = /^[A-Za-z0-9]+(?:[._-][A-Za-z0-9]+)*$/;

/** Throws an invalid_argument ApiError when `value` is not a valid identifier. */
export function validateIdentifier(kind: string, value: string): void {
  if (value.length === 0) throw invalidArgument(`${kind} must not be empty`);
  if (value.length > maxLength) {
    throw invalidArgument(`${kind} "${value}" is longer than ${maxLength} characters`);
  }
  if (!identifierPattern.test(value)) {
    throw invalidArgument(
      `${kind} "${value}" is invalid: use letters and digits separated by single '.', '_' or '-'`,
    );
  }
}
