// Small assertions for the tests. Deno's @std/assert lives on JSR, which is not
// reachable here, so the few we need are written out on top of node:util.

import { inspect, isDeepStrictEqual } from "node:util";

/** Thrown when an assertion does not hold. */
export class AssertionError extends Error {
  override name = "AssertionError";
}

export function assert(condition: unknown, message = "expected a truthy value"): asserts condition {
  if (!condition) throw new AssertionError(message);
}

export function assertEquals<T>(actual: T, expected: T, message?: string): void {
  if (!isDeepStrictEqual(actual, expected)) {
    throw new AssertionError(
      `${message ? message + ": " : ""}values differ\n  actual:   ${
        inspect(actual, { depth: 6 })
      }\n` +
        `  expected: ${inspect(expected, { depth: 6 })}`,
    );
  }
}

export function assertNotEquals<T>(actual: T, expected: T, message?: string): void {
  if (isDeepStrictEqual(actual, expected)) {
    throw new AssertionError(
      `${message ? message + ": " : ""}expected a value other than ${inspect(expected)}`,
    );
  }
}

export function assertMatch(actual: string, pattern: RegExp, message?: string): void {
  if (!pattern.test(actual)) {
    throw new AssertionError(
      `${message ? message + ": " : ""}expected ${inspect(actual)} to match ${pattern}`,
    );
  }
}

export function assertStringIncludes(actual: string, expected: string, message?: string): void {
  if (!actual.includes(expected)) {
    throw new AssertionError(
      `${message ? message + ": " : ""}expected ${inspect(actual)} to include ${inspect(expected)}`,
    );
  }
}

type ErrorClass<E extends Error> = new (...args: never[]) => E;

/** Awaits `work`, expects it to reject with an instance of `errorClass`, and returns the error. */
export async function assertRejects<E extends Error = Error>(
  work: () => Promise<unknown>,
  errorClass?: ErrorClass<E>,
  messageIncludes?: string,
): Promise<E> {
  try {
    await work();
  } catch (error) {
    checkError(error, errorClass, messageIncludes);
    return error as E;
  }
  throw new AssertionError("expected the promise to reject, but it resolved");
}

/** Calls `work`, expects it to throw an instance of `errorClass`, and returns the error. */
export function assertThrows<E extends Error = Error>(
  work: () => unknown,
  errorClass?: ErrorClass<E>,
  messageIncludes?: string,
): E {
  try {
    work();
  } catch (error) {
    checkError(error, errorClass, messageIncludes);
    return error as E;
  }
  throw new AssertionError("expected the function to throw, but it returned");
}

function checkError<E extends Error>(
  error: unknown,
  errorClass?: ErrorClass<E>,
  messageIncludes?: string,
): void {
  if (errorClass && !(error instanceof errorClass)) {
    throw new AssertionError(`expected a ${errorClass.name}, got ${inspect(error)}`);
  }
  if (messageIncludes && !(error instanceof Error && error.message.includes(messageIncludes))) {
    throw new AssertionError(
      `expected the error message to include ${inspect(messageIncludes)}, got ${inspect(error)}`,
    );
  }
}
