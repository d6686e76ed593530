// What this teaches: a registry says what went wrong twice, in the HTTP status and in
// a JSON body `{"errors": [{"code": "MANIFEST_UNKNOWN", "message": ..., "detail": ...}]}`
// (the distribution spec's error codes). A client turns both into one sentence that
// names the registry, the repository and what the user can do about it.
// Mirrors containerd's `core/remotes/docker/errcode.go` and the status handling in
// `core/remotes/docker/resolver.go` and `fetcher.go`.

/** The kinds of registry failure a caller may want to tell apart. */
export type RegistryErrorKind =
  | "unauthorized"
  | "denied"
  | "not_found"
  | "digest_mismatch"
  | "too_large"
  | "unsupported_media_type"
  | "unavailable"
  | "invalid_response"
  | "invalid_request";

/** One entry of a registry error body. */
export interface RegistryErrorDetail {
  code: string;
  message: string;
  detail?: unknown;
}

/** An error talking to a registry, with its kind and (when there was one) the HTTP status. */
export class RegistryError extends Error {
  constructor(
    readonly kind: RegistryErrorKind,
    message: string,
    readonly status?: number,
    readonly details: RegistryErrorDetail[] = [],
  ) {
    super(message);
    this.name = "RegistryError";
  }
}

/** True when `error` is a RegistryError of the given kind. */
export function isRegistryError(error: unknown, kind?: RegistryErrorKind): error is RegistryError {
  return error instanceof RegistryError && (kind === undefined || error.kind === kind);
}

/** Reads the distribution error list out of a response body; empty when it is not one. */
export function parseErrorBody(text: string): RegistryErrorDetail[] {
  try {
    const body = JSON.parse(text) as { errors?: unknown };
    if (!Array.isArray(body.errors)) return [];
    return body.errors
      .filter((entry): entry is Record<string, unknown> => typeof entry === "object" && !!entry)
      .map((entry) => ({
        code: String(entry.code ?? "UNKNOWN"),
        message: String(entry.message ?? ""),
        detail: entry.detail,
      }));
  } catch {
    return [];
  }
}

/** `HTTP 404 MANIFEST_UNKNOWN: manifest unknown`, the registry's own words, shortened. */
function describeResponse(status: number, details: RegistryErrorDetail[], text: string): string {
  if (details.length > 0) {
    return `HTTP ${status} ` +
      details.map((detail) => `${detail.code}: ${detail.message}`).join("; ");
  }
  const snippet = text.trim().slice(0, 200);
  return snippet ? `HTTP ${status}: ${snippet}` : `HTTP ${status}`;
}

/** What the client was doing, for the message: "pull of 127.0.0.1:5000/app:v1". */
export interface FailedOperation {
  /** A verb phrase: "resolving", "fetching blob sha256:...", "pushing manifest ...". */
  action: string;
  /** The repository as the user wrote it, with its registry: `127.0.0.1:5000/app`. */
  repository: string;
  /** The registry host, for credential advice. */
  host: string;
  /** "pull" or "push": which right was missing. */
  access: "pull" | "push";
}

/** Builds the RegistryError for a failed response, reading (and consuming) its body. */
export async function errorFromResponse(
  response: Response,
  operation: FailedOperation,
): Promise<RegistryError> {
  const text = await response.text().catch(() => "");
  const details = parseErrorBody(text);
  const said = describeResponse(response.status, details, text);
  const where = `${operation.action} in ${operation.repository}`;
  switch (response.status) {
    case 401:
      return new RegistryError(
        "unauthorized",
        `${where}: not authorized (${said}): give credentials with --user USER:PASSWORD or ` +
          `an "auths" entry for ${operation.host} in the Docker config.json`,
        401,
        details,
      );
    case 403:
      return new RegistryError(
        "denied",
        `${where}: access denied (${said}): the credentials in use have no ${operation.access} ` +
          `right on ${operation.repository}`,
        403,
        details,
      );
    case 404:
      return new RegistryError(
        "not_found",
        `${where}: not found (${said}): check the repository name and the tag or digest`,
        404,
        details,
      );
    default:
      return new RegistryError(
        response.status >= 500 ? "unavailable" : "invalid_response",
        `${where}: the registry answered ${said}`,
        response.status,
        details,
      );
  }
}
