// What this teaches: a digest names bytes by their hash, `<algorithm>:<encoded>`, and a
// daemon checks the syntax before trusting one as a file name or a database key.
// Mirrors opencontainers/go-digest (`Digest.Validate`, `Parse`).

import { invalidArgument } from "../api/errors.ts";

/** Encoded lengths (lowercase hex) of the algorithms go-digest registers. */
const hexLengthByAlgorithm: Record<string, number> = {
  sha256: 64,
  sha384: 96,
  sha512: 128,
};

/** The general digest grammar of the OCI image spec, for telling "malformed" from "unsupported". */
const digestGrammar = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;

/** Why `value` is not a valid digest, or undefined when it is. */
export function digestProblem(value: unknown): string | undefined {
  if (typeof value !== "string") return "a digest must be a string";
  const separator = value.indexOf(":");
  if (separator <= 0 || separator === value.length - 1) {
    return `"${value}" is not of the form <algorithm>:<hex>`;
  }
  const algorithm = value.slice(0, separator);
  const encoded = value.slice(separator + 1);
  const expectedLength = hexLengthByAlgorithm[algorithm];
  if (expectedLength === undefined) {
    return digestGrammar.test(value)
      ? `digest algorithm "${algorithm}" is not supported (use sha256, sha384 or sha512)`
      : `"${value}" is not of the form <algorithm>:<hex>`;
  }
  if (encoded.length !== expectedLength) {
    return `"${value}" has ${encoded.length} characters after "${algorithm}:", ` +
      `expected ${expectedLength}`;
  }
  if (!/^[a-f0-9]+$/.test(encoded)) {
    return `"${value}" must have lowercase hexadecimal after "${algorithm}:"`;
  }
  return undefined;
}

/** True when `value` is a well-formed digest of a supported algorithm. */
export function isValidDigest(value: unknown): value is string {
  return digestProblem(value) === undefined;
}

/** Throws an invalid_argument ApiError naming `what` when `value` is not a valid digest. */
export function validateDigest(value: unknown, what = "digest"): string {
  const problem = digestProblem(value);
  if (problem !== undefined) throw invalidArgument(`invalid ${what}: ${problem}`);
  return value as string;
}
