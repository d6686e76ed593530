// What this teaches: the `created_by` text of a legacy build is Go's formatting of the
// step, and `docker history` shows it verbatim, so it is worth reproducing exactly:
// `CMD ["cat" "/x"]` (Go's %q of a string list: space separated), `VOLUME [/data]` (%v),
// `HEALTHCHECK &{["CMD-SHELL" "true"] "5s" "0s" "0s" '\x03'}` (%q of the struct,
// durations in Go's notation, the retry count as a quoted rune). Also the small
// parsers the metadata instructions need: Go durations, port specs, signals.
// Mirrors moby's builder/dockerfile/dispatchers.go (the commit messages) and Go's fmt,
// time.Duration.String, strconv.QuoteRune; go-connections/nat (ParsePortSpecs).

/** Go's %q of a []string: `["a" "b c"]`. */
export function goQuotedList(values: string[]): string {
  return `[${values.map((value) => JSON.stringify(value)).join(" ")}]`;
}

/** Go's %v of a []string: `[a b c]`. */
export function goPlainList(values: string[]): string {
  return `[${values.join(" ")}]`;
}

/** Go's %q of an int: the rune quoted (`'\x03'`, `'A'`). */
export function goQuotedRune(value: number): string {
  const named: Record<number, string> = {
    7: "\\a",
    8: "\\b",
    9: "\\t",
    10: "\\n",
    11: "\\v",
    12: "\\f",
    13: "\\r",
    39: "\\'",
    92: "\\\\",
  };
  if (named[value]) return `'${named[value]}'`;
  if (value < 32 || value === 127) return `'\\x${value.toString(16).padStart(2, "0")}'`;
  return `'${String.fromCodePoint(value)}'`;
}

const UNITS: [string, number][] = [
  ["h", 3600e9],
  ["m", 60e9],
  ["s", 1e9],
  ["ms", 1e6],
  ["us", 1e3],
  ["µs", 1e3],
  ["ns", 1],
];

/** Parses a Go duration ("30s", "1m30s", "500ms") into nanoseconds. */
export function parseGoDuration(text: string): number {
  if (text === "0") return 0;
  const pattern = /(\d+(?:\.\d+)?)(h|ms|us|µs|ns|m|s)/gy;
  let total = 0;
  let consumed = 0;
  for (const match of text.matchAll(pattern)) {
    total += Number(match[1]) * UNITS.find(([unit]) => unit === match[2])![1];
    consumed += match[0].length;
  }
  if (consumed !== text.length || text === "") throw new Error(`time: invalid duration "${text}"`);
  return Math.round(total);
}

/** Go's time.Duration.String(): "0s", "5s", "1m30s", "1h0m0s", "500ms". */
export function formatGoDuration(nanoseconds: number): string {
  if (nanoseconds === 0) return "0s";
  if (nanoseconds < 1e3) return `${nanoseconds}ns`;
  if (nanoseconds < 1e6) return `${trimZeros(nanoseconds / 1e3)}µs`;
  if (nanoseconds < 1e9) return `${trimZeros(nanoseconds / 1e6)}ms`;
  const hours = Math.floor(nanoseconds / 3600e9);
  const minutes = Math.floor((nanoseconds % 3600e9) / 60e9);
  const seconds = trimZeros((nanoseconds % 60e9) / 1e9);
  if (hours > 0) return `${hours}h${minutes}m${seconds}s`;
  if (minutes > 0) return `${minutes}m${seconds}s`;
  return `${seconds}s`;
}

function trimZeros(value: number): string {
  return String(Number(value.toFixed(9)));
}

/** `EXPOSE` specs ("80", "443/udp", "8000-8002/tcp") as ExposedPorts keys ("80/tcp"). */
export function parsePortSpecs(specs: string[]): string[] {
  const ports: string[] = [];
  for (const spec of specs) {
    const match = /^(\d+)(?:-(\d+))?(?:\/(tcp|udp|sctp))?$/i.exec(spec);
    if (!match) throw new Error(`Invalid containerPort: ${spec}`);
    const first = Number(match[1]);
    const last = match[2] === undefined ? first : Number(match[2]);
    if (first < 1 || last > 65535 || last < first) throw new Error(`Invalid port range: ${spec}`);
    const protocol = (match[3] ?? "tcp").toLowerCase();
    for (let port = first; port <= last; port++) ports.push(`${port}/${protocol}`);
  }
  return ports;
}
