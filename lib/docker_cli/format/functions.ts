// What this teaches: the handful of functions docker adds to Go templates (`json`,
// `join`, `split`, `lower`, `upper`, `title`, `pad`, `truncate`), and the trick behind
// table headers: the same template runs once more against a map of column titles, with
// the functions replaced by ones that pass the title through unchanged, so
// `table {{upper .Names}}` still prints "NAMES" on top.
// Mirrors docker/cli's templates/templates.go.

import { goJson } from "./go_json.ts";
import { type FunctionMap, GO_TYPE, parseTemplate, printValue, type Template } from "./template.ts";

/** The functions every docker `--format` template can call. */
export const DOCKER_FUNCTIONS: FunctionMap = {
  // The listing contexts (`ps`, `images`...) marshal themselves with Go's json.Marshal,
  // which escapes <, > and &; everything else goes through an encoder that does not.
  json: (value: unknown) =>
    goJson(value, {
      escapeHtml: typeof value === "object" && value !== null && GO_TYPE in value,
    }),
  split: (text: string, separator: string) => String(text).split(separator),
  join: (items: unknown[], separator: string) => (items ?? []).map(printValue).join(separator),
  title: (text: string) =>
    String(text).replace(
      /(^|[^\p{L}\p{N}_'])(\p{L})/gu,
      (_m, before, letter) => before + letter.toUpperCase(),
    ),
  lower: (text: string) => String(text).toLowerCase(),
  upper: (text: string) => String(text).toUpperCase(),
  pad: (text: string, prefix: number, suffix: number) =>
    text === "" ? text : " ".repeat(prefix) + text + " ".repeat(suffix),
  truncate: (text: string, length: number) => {
    const bytes = new TextEncoder().encode(String(text));
    return bytes.length < length ? text : new TextDecoder().decode(bytes.slice(0, length));
  },
};

/** Replacements used when rendering the header row of a table. */
export const HEADER_FUNCTIONS: FunctionMap = {
  json: (value: string) => value,
  split: (value: string) => value,
  join: (value: string) => value,
  title: (value: string) => value,
  lower: (value: string) => value,
  upper: (value: string) => value,
  truncate: (value: string) => value,
};

/** Parses a `--format` template with docker's functions (and any extra ones). */
export function parseDockerTemplate(source: string, extra: FunctionMap = {}): Template {
  return parseTemplate(source, { ...DOCKER_FUNCTIONS, ...extra });
}
