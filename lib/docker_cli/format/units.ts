// What this teaches: the exact words and numbers docker prints for durations and sizes.
// `docker ps` says "2 minutes ago", `docker images` says "4.26MB" (decimal units, three
// significant digits), `docker info` says "23.54GiB" (binary units). These come from
// one small Go package everyone copies, so matching it matters for scripts that parse
// docker's output. Mirrors docker/go-units' duration.go and size.go.

const DECIMAL_UNITS = ["B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"];
const BINARY_UNITS = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB"];

/**
 * Formats a number like Go's `%.{precision}g`: the shortest of fixed or exponent
 * notation with `precision` significant digits, trailing zeros removed.
 */
export function formatGoG(value: number, precision: number): string {
  if (!Number.isFinite(value)) return value > 0 ? "+Inf" : value < 0 ? "-Inf" : "NaN";
  if (value === 0) return "0";
  const digits = Math.max(precision, 1);
  const [mantissa, exponentText] = value.toExponential(digits - 1).split("e");
  const exponent = Number(exponentText);
  if (exponent < -4 || exponent >= digits) {
    const sign = exponent < 0 ? "-" : "+";
    const magnitude = String(Math.abs(exponent)).padStart(2, "0");
    return `${stripTrailingZeros(mantissa)}e${sign}${magnitude}`;
  }
  return stripTrailingZeros(value.toFixed(Math.max(0, digits - 1 - exponent)));
}

function stripTrailingZeros(text: string): string {
  if (!text.includes(".")) return text;
  return text.replace(/0+$/, "").replace(/\.$/, "");
}

function scale(size: number, base: number, units: string[]): [number, string] {
  let index = 0;
  while (size >= base && index < units.length - 1) {
    size /= base;
    index++;
  }
  return [size, units[index]];
}

/** Decimal size with a chosen precision: `HumanSizeWithPrecision(1982340, 3)` → "1.98MB". */
export function humanSizeWithPrecision(size: number, precision: number): string {
  const [scaled, unit] = scale(size, 1000, DECIMAL_UNITS);
  return formatGoG(scaled, precision) + unit;
}

/** Decimal size with four significant digits: "1.982MB" (prune totals, `system df`). */
export function humanSize(size: number): string {
  return humanSizeWithPrecision(size, 4);
}

/** Binary size with four significant digits: "23.54GiB" (`docker info` memory). */
export function bytesSize(size: number): string {
  const [scaled, unit] = scale(size, 1024, BINARY_UNITS);
  return formatGoG(scaled, 4) + unit;
}

/**
 * A human-readable approximation of a duration in milliseconds, without "ago":
 * "Less than a second", "About a minute", "3 hours", "2 weeks".
 */
export function humanDuration(milliseconds: number): string {
  const seconds = Math.trunc(milliseconds / 1000);
  if (seconds < 1) return "Less than a second";
  if (seconds === 1) return "1 second";
  if (seconds < 60) return `${seconds} seconds`;
  const minutes = Math.trunc(milliseconds / 60_000);
  if (minutes === 1) return "About a minute";
  if (minutes < 60) return `${minutes} minutes`;
  const hours = Math.trunc(milliseconds / 3_600_000 + 0.5);
  if (hours === 1) return "About an hour";
  if (hours < 48) return `${hours} hours`;
  if (hours < 24 * 7 * 2) return `${Math.trunc(hours / 24)} days`;
  if (hours < 24 * 30 * 2) return `${Math.trunc(hours / 24 / 7)} weeks`;
  if (hours < 24 * 365 * 2) return `${Math.trunc(hours / 24 / 30)} months`;
  return `${Math.trunc(milliseconds / 3_600_000 / 24 / 365)} years`;
}

/** "N units ago" for a unix timestamp in seconds, as `docker ps` and `docker images` show it. */
export function humanSince(unixSeconds: number, now: number = Date.now()): string {
  return `${humanDuration(now - unixSeconds * 1000)} ago`;
}

const BINARY_MULTIPLIERS: Record<string, number> = {
  k: 1024,
  m: 1024 ** 2,
  g: 1024 ** 3,
  t: 1024 ** 4,
  p: 1024 ** 5,
};

/**
 * Parses a memory amount as `docker run -m` reads it ("512m", "1g", "1.5GiB",
 * "1048576"): binary multipliers, an optional "b"/"ib" after the unit letter.
 */
export function ramInBytes(text: string): number {
  let number = text;
  let suffix = "";
  const space = text.indexOf(" ");
  if (space !== -1) {
    number = text.slice(0, space);
    suffix = text.slice(space + 1);
  } else {
    let end = text.length;
    while (end > 0 && !/[0-9.]/.test(text[end - 1])) end--;
    if (end === 0) throw new Error(`invalid size: '${text}'`);
    number = text.slice(0, end);
    suffix = text.slice(end);
  }
  if (!/^[0-9]*\.?[0-9]+$|^[0-9]+\.$/.test(number)) {
    throw new Error(`strconv.ParseFloat: parsing "${number}": invalid syntax`);
  }
  const size = Number(number);
  if (suffix === "") return Math.trunc(size);
  const lower = suffix.toLowerCase();
  const bad = () => new Error(`invalid suffix: '${lower}'`);
  if (lower.length > 3) throw bad();
  if (lower[0] === "b") {
    if (lower.length > 1) throw bad();
    return Math.trunc(size);
  }
  const multiplier = BINARY_MULTIPLIERS[lower[0]];
  if (multiplier === undefined) throw bad();
  if (lower.length === 2 && lower[1] !== "b") throw bad();
  if (lower.length === 3 && lower.slice(1) !== "ib") throw bad();
  return Math.trunc(size * multiplier);
}
