// What this teaches: Docker's timestamps are Go time.Time values: JSON gives them in
// RFC 3339 with nanoseconds and trailing zeros trimmed ("2026-11-28T06:38:01.6193983Z"),
// the zero time "0001-01-01T00:00:00Z" means "never" (a container that was never
// started has that StartedAt), and `docker logs --timestamps` prints a fixed-width
// variant with all nine fraction digits so columns line up. JavaScript clocks stop at
// milliseconds; performance.now() adds the microseconds.
// Mirrors Go's time.RFC3339Nano formatting and moby's jsonmessage.RFC3339NanoFixed.

/** Go's zero time as JSON: "never happened". */
export const ZERO_TIME = "0001-01-01T00:00:00Z";

/** True for the zero time (or an empty/missing value). */
export function isZeroTime(value: string | undefined): boolean {
  return value === undefined || value === "" || value.startsWith("0001-01-01");
}

/** Now, as RFC 3339 with microseconds (what Go's time.Now() marshals to, near enough). */
export function nowTimestamp(): string {
  const milliseconds = performance.timeOrigin + performance.now();
  const whole = Math.floor(milliseconds);
  const micros = Math.floor((milliseconds - whole) * 1000);
  const base = new Date(whole).toISOString(); // 2026-11-28T06:38:01.619Z
  const fraction = base.slice(20, 23) + String(micros).padStart(3, "0");
  return trimFraction(`${base.slice(0, 19)}.${fraction}`) + "Z";
}

function trimFraction(text: string): string {
  return text.replace(/\.?0+$/, "");
}

/** A timestamp as Go's RFC3339Nano: nine fraction digits at most, trailing zeros trimmed. */
export function rfc3339Nano(value: string): string {
  const match = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?Z$/.exec(value);
  if (!match) return new Date(value).toISOString();
  const fraction = (match[2] ?? "").slice(0, 9);
  return trimFraction(`${match[1]}.${fraction}`) + "Z";
}

/** A timestamp with exactly nine fraction digits (`docker logs -t`). */
export function rfc3339NanoFixed(value: string): string {
  const match = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?Z$/.exec(value);
  if (!match) return rfc3339NanoFixed(new Date(value).toISOString());
  return `${match[1]}.${(match[2] ?? "").slice(0, 9).padEnd(9, "0")}Z`;
}

/** Milliseconds since the epoch of a timestamp; NaN for the zero time. */
export function timestampMillis(value: string): number {
  if (isZeroTime(value)) return NaN;
  return Date.parse(value);
}

/**
 * Nanoseconds since the epoch as a bigint (for comparisons finer than milliseconds,
 * such as `docker logs --since` with a fractional second).
 */
export function timestampNanos(value: string): bigint {
  const match = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?Z$/.exec(value);
  if (!match) return BigInt(Date.parse(value)) * 1_000_000n;
  const seconds = BigInt(Date.parse(`${match[1]}Z`) / 1000);
  const fraction = BigInt((match[2] ?? "").slice(0, 9).padEnd(9, "0"));
  return seconds * 1_000_000_000n + fraction;
}

/**
 * Parses docker's `since`/`until` query values: Unix seconds with an optional fraction
 * ("1700000000.123456789"), as the CLI sends them. Returns nanoseconds, or undefined for
 * an empty value.
 */
export function parseUnixTimestamp(text: string | undefined): bigint | undefined {
  if (text === undefined || text === "" || text === "0") return undefined;
  const match = /^(\d+)(?:\.(\d{1,9}))?$/.exec(text);
  if (!match) return undefined;
  return BigInt(match[1]) * 1_000_000_000n + BigInt((match[2] ?? "").padEnd(9, "0"));
}
