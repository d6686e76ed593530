// What this teaches: the exact words docker and containerd print for sizes. `docker
// images` says "4.26MB" (decimal units, three significant digits), prune totals and
// `ctr content ls` say "1.982MB" (four digits), `docker info` says "23.54GiB" (binary
// units), and `docker run -m 64m` means 64 MiB. All of them come from one small Go
// package that every Docker-side program imports; matching it byte for byte matters
// for scripts that parse the output. Mirrors docker/go-units' size.go.

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

/** Divides by `base` until the value is below it, returning the value and its unit. */
function scale(size: number, base: number, units: string[]): [number, string] {
  let index = 0;
  while (size >= base && index < units.length - 1) {
    size /= base;
    index++;
  }
  return [size, units[index]];
}

/** go-units HumanSizeWithPrecision: `humanSizeWithPrecision(1982340, 3)` → "1.98MB". */
export function humanSizeWithPrecision(size: number, precision: number): string {
  const [scaled, unit] = scale(size, 1000, DECIMAL_UNITS);
  return formatGoG(scaled, precision) + unit;
}

/** go-units HumanSize: decimal units, four significant digits ("1.982MB", "115B"). */
export function humanSize(size: number): string {
  return humanSizeWithPrecision(size, 4);
}

/** go-units BytesSize: binary units, four significant digits ("23.54GiB"). */
export function bytesSize(size: number): string {
  const [scaled, unit] = scale(size, 1024, BINARY_UNITS);
  return formatGoG(scaled, 4) + unit;
}

const BINARY_MULTIPLIERS: Record<string, number> = {
  k: 1024,
  m: 1024 ** 2,
  g: 1024 ** 3,
  t: 1024 ** 4,
  p: 1024 ** 5,
};

/**
 * go-units RAMInBytes: a memory amount as `docker run -m` reads it ("512m", "1g",
 * "1.5GiB", "1048576"): binary multipliers, an optional "b"/"ib" after the unit letter.
 * Throws with go-units' message on a bad number or suffix.
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
