// What this teaches: how a daemon reports failures so that every client can tell
// "not found" from "already exists" from "you sent garbage" without parsing prose.
// Mirrors containerd's `errdefs` package, whose error kinds map onto gRPC status
// codes; mini carries the same kinds over HTTP status codes instead.

/** The kinds of failure the mini-containerd API distinguishes (containerd's errdefs). */
export type ErrorCode =
  | "invalid_argument"
  | "not_found"
  | "already_exists"
  | "failed_precondition"
  | "unavailable"
  | "resource_exhausted"
  | "aborted"
  | "unimplemented"
  | "internal";

const httpStatusByCode: Record<ErrorCode, number> = {
  invalid_argument: 400,
  not_found: 404,
  already_exists: 409,
  failed_precondition: 412,
  resource_exhausted: 413,
  aborted: 409,
  unimplemented: 501,
  unavailable: 503,
  internal: 500,
};

/** An error that crosses the API boundary with its kind intact. */
export class ApiError extends Error {
  constructor(readonly code: ErrorCode, message: string) {
    super(message);
    this.name = "ApiError";
  }

  /** The HTTP status the server answers with for this kind of error. */
  get httpStatus(): number {
    return httpStatusByCode[this.code];
  }
}

/** Shorthands that read like containerd's `errdefs.ErrNotFound` and friends. */
export const notFound = (message: string) => new ApiError("not_found", message);
export const alreadyExists = (message: string) => new ApiError("already_exists", message);
export const invalidArgument = (message: string) => new ApiError("invalid_argument", message);
export const failedPrecondition = (message: string) => new ApiError("failed_precondition", message);

/** True when `error` is an ApiError of the given kind. */
export function isErrorCode(error: unknown, code: ErrorCode): boolean {
  return error instanceof ApiError && error.code === code;
}

/** The JSON body of an error response: `{"code": "not_found", "message": "..."}`. */
export interface ErrorBody {
  code: ErrorCode;
  message: string;
}

/** Rebuilds an ApiError from an error response body; unknown shapes become "internal". */
export function errorFromBody(status: number, body: unknown): ApiError {
  if (
    typeof body === "object" && body !== null && "code" in body && "message" in body &&
    typeof body.code === "string" && typeof body.message === "string" &&
    body.code in httpStatusByCode
  ) {
    return new ApiError(body.code as ErrorCode, body.message);
  }
  return new ApiError("internal", `unexpected response (HTTP ${status}): ${JSON.stringify(body)}`);
}
