// What this teaches: dockerd is written in Go, and Go's encoding/json escapes `<`, `>`
// and `&` inside strings (as \u003c, \u003e, \u0026) so that JSON is safe to embed in
// HTML. The pull progress bars in the wire traces show it ("[====\u003e]"). mini
// writes the same bytes so a byte-level comparison with real dockerd holds.
// Mirrors Go's encoding/json HTML escaping as used by moby's httputils.WriteJSON.

/** JSON.stringify with Go's HTML-safe escaping of <, > and &. */
export function encodeJson(value: unknown): string {
  // These three characters can only appear inside JSON strings, so replacing them
  // everywhere is safe.
  return JSON.stringify(value).replace(
    /[<>&\u2028\u2029]/g,
    (character) => "\\u" + character.charCodeAt(0).toString(16).padStart(4, "0"),
  );
}

/**
 * Where a JSON.parse error points, as "line L, column C", computed from the character
 * offset V8 reports ("... at position 17"); undefined when the message has no offset.
 */
export function jsonErrorLocation(text: string, error: unknown): string | undefined {
  const message = error instanceof Error ? error.message : String(error);
  const match = /position (\d+)/.exec(message);
  let position: number;
  if (match) {
    position = Number(match[1]);
  } else if (/Unexpected end of JSON input/i.test(message)) {
    position = text.length;
  } else {
    return undefined;
  }
  const before = text.slice(0, position);
  const line = before.split("\n").length;
  const column = position - before.lastIndexOf("\n");
  return `line ${line}, column ${column}`;
}

/** The parser's own message without V8's position suffix (which jsonErrorLocation replaces). */
export function jsonErrorReason(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/\s*\(line \d+ column \d+\)/, "").replace(/ in JSON at position \d+/, "");
}
