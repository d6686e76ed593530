// What this teaches: the Engine API reports every failure the same way, an HTTP
// status plus `{"message": "..."}`, and the docker CLI prints "Error response from
// daemon: <message>". The status carries the *kind* of failure (404 no such thing,
// 409 conflict, 400 bad parameter...), which the CLI uses to decide what to do next
// (a 404 on create makes `docker run` pull; a 404 on inspect makes it try the next
// object type). Mirrors moby's errdefs package and api/server/httpstatus.

import { ApiError, type ErrorCode } from "../../api/errors.ts";

/** The error kinds of moby's errdefs, with the status each one answers. */
export const EngineErrorStatus = {
  invalidParameter: 400,
  unauthorized: 401,
  forbidden: 403,
  notFound: 404,
  conflict: 409,
  notImplemented: 501,
  system: 500,
  unavailable: 503,
} as const;

/** An error that becomes an Engine API error response with the given status. */
export class EngineError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
    this.name = "EngineError";
  }
}

/** 400: the request itself is wrong (bad JSON, bad parameter). */
export const badParameter = (message: string) =>
  new EngineError(EngineErrorStatus.invalidParameter, message);
/** 404: the named object does not exist. */
export const notFoundError = (message: string) =>
  new EngineError(EngineErrorStatus.notFound, message);
/** 409: the request conflicts with the current state (name in use, image in use). */
export const conflictError = (message: string) =>
  new EngineError(EngineErrorStatus.conflict, message);
/** 501: an endpoint mini-dockerd knows about but does not implement. */
export const notImplementedError = (message: string) =>
  new EngineError(EngineErrorStatus.notImplemented, message);
/** 500: something failed inside the daemon. */
export const systemError = (message: string) => new EngineError(EngineErrorStatus.system, message);

/** dockerd's wording for an image it cannot find, as `docker rmi`/`inspect` show it. */
export function noSuchImage(name: string): EngineError {
  return notFoundError(`No such image: ${name}`);
}

// How containerd's error kinds (mini's ApiError) translate into Engine API statuses:
// moby's errdefs.FromGRPC does the same for errors coming back from containerd.
const statusByApiCode: Record<ErrorCode, number> = {
  invalid_argument: 400,
  not_found: 404,
  already_exists: 409,
  failed_precondition: 409,
  resource_exhausted: 400,
  aborted: 409,
  unimplemented: 501,
  unavailable: 503,
  internal: 500,
};

/** The status and message an error is answered with. */
export function describeError(error: unknown): { status: number; message: string } {
  if (error instanceof EngineError) return { status: error.status, message: error.message };
  if (error instanceof ApiError) {
    return { status: statusByApiCode[error.code] ?? 500, message: error.message };
  }
  if (error instanceof Error) return { status: 500, message: error.message };
  return { status: 500, message: String(error) };
}
