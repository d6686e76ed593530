// What this teaches: docker prints JSON the way Go's encoding/json writes it, and a few
// details show: `<`, `>` and `&` become \u003c, \u003e, \u0026 unless HTML escaping is
// off (the `{{json}}` template function turns it off), U+2028/U+2029 are always
// escaped, and `docker inspect` re-indents the daemon's raw bytes with four spaces
// without re-encoding them (json.Indent), so the daemon's key order and escapes survive.
// Mirrors Go's encoding/json (Marshal, Indent, Compact) as docker/cli uses it.

/** Options for goJson. */
export interface GoJsonOptions {
  /** Escape <, > and & as Go's json.Marshal does by default. */
  escapeHtml?: boolean;
  /** Indent with this string (json.MarshalIndent); compact when absent. */
  indent?: string;
}

/** Encodes a value as Go's encoder would (keys in insertion order). */
export function goJson(value: unknown, options: GoJsonOptions = {}): string {
  const text = JSON.stringify(value ?? null, (_key, item) => item === undefined ? null : item);
  const escaped = escapeLikeGo(text ?? "null", options.escapeHtml ?? true);
  return options.indent === undefined ? escaped : indentJson(escaped, "", options.indent);
}

function escapeLikeGo(text: string, escapeHtml: boolean): string {
  let result = text.replaceAll("\u2028", "\\u2028").replaceAll("\u2029", "\\u2029");
  if (escapeHtml) {
    // Outside strings these characters cannot occur in JSON, so a plain replace is safe.
    result = result.replaceAll("<", "\\u003c").replaceAll(">", "\\u003e").replaceAll(
      "&",
      "\\u0026",
    );
  }
  return result;
}

/**
 * Re-indents JSON text without decoding it (Go's json.Indent): whitespace outside
 * strings is dropped and lines are broken after `{`, `[` and `,`; empty `{}` and `[]`
 * stay on one line.
 */
export function indentJson(text: string, prefix: string, indent: string): string {
  const out: string[] = [];
  let depth = 0;
  let inString = false;
  let needIndent = false;
  const newline = () => out.push("\n", prefix, indent.repeat(depth));
  for (let index = 0; index < text.length; index++) {
    const character = text[index];
    if (inString) {
      out.push(character);
      if (character === "\\") out.push(text[++index]);
      else if (character === '"') inString = false;
      continue;
    }
    if (character === " " || character === "\t" || character === "\n" || character === "\r") {
      continue;
    }
    if (needIndent && character !== "]" && character !== "}") {
      needIndent = false;
      depth++;
      newline();
    }
    switch (character) {
      case '"':
        inString = true;
        out.push(character);
        break;
      case "{":
      case "[":
        out.push(character);
        needIndent = true;
        break;
      case ",":
        out.push(character);
        newline();
        break;
      case ":":
        out.push(": ");
        break;
      case "}":
      case "]":
        if (needIndent) {
          needIndent = false; // an empty object or array stays "{}" / "[]"
        } else {
          depth--;
          newline();
        }
        out.push(character);
        break;
      default:
        out.push(character);
    }
  }
  return out.join("");
}

/** Drops insignificant whitespace (Go's json.Compact). */
export function compactJson(text: string): string {
  const out: string[] = [];
  let inString = false;
  for (let index = 0; index < text.length; index++) {
    const character = text[index];
    if (inString) {
      out.push(character);
      if (character === "\\") out.push(text[++index]);
      else if (character === '"') inString = false;
    } else if (character === '"') {
      inString = true;
      out.push(character);
    } else if (!/\s/.test(character)) {
      out.push(character);
    }
  }
  return out.join("");
}
