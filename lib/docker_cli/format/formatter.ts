// What this teaches: how every docker listing command prints. A `--format` is either
// `table` (the default columns), `table <template>` (your columns, with a header row
// and tab alignment), `json` (one JSON object per line), or a bare template (one line
// per item, no header). Each item is wrapped in a "context" object whose methods are
// the template's fields (`.ID`, `.Names`...), and the header row comes from running
// the same template against a map of column titles. Literal `\t` and `\n` typed on
// the command line become real tabs and newlines.
// Mirrors docker/cli's cli/command/formatter/formatter.go, custom.go and reflect.go.

import { HEADER_FUNCTIONS, parseDockerTemplate } from "./functions.ts";
import { goJson } from "./go_json.ts";
import { TabWriter } from "./tabwriter.ts";
import { GO_TYPE, type Template, TemplateError } from "./template.ts";

/** The format names docker treats specially. */
export const TABLE_FORMAT_KEY = "table";
export const RAW_FORMAT_KEY = "raw";
export const JSON_FORMAT_KEY = "json";
export const JSON_FORMAT = "{{json .}}";
export const DEFAULT_QUIET_FORMAT = "{{.ID}}";

/** An error shown as-is with an exit status (docker's cli.StatusError). */
export class FormatError extends Error {
  constructor(message: string, readonly exitCode = 1) {
    super(message);
  }
}

/** True for `table` and `table ...` formats. */
export function isTableFormat(format: string): boolean {
  return format.startsWith(TABLE_FORMAT_KEY);
}

/** Turns a user's format into the template text docker runs (preFormat). */
export function finalTemplateText(format: string): string {
  let text = format;
  if (isTableFormat(text)) text = text.slice(TABLE_FORMAT_KEY.length);
  else if (text === JSON_FORMAT_KEY) text = JSON_FORMAT;
  return text.trim().replaceAll("\\t", "\t").replaceAll("\\n", "\n");
}

/** Parses a template, wrapping errors like docker ("template parsing error: ..."). */
export function parseFormat(text: string): Template {
  try {
    return parseDockerTemplate(text);
  } catch (error) {
    if (error instanceof TemplateError) {
      throw new FormatError(`template parsing error: ${error.message}`);
    }
    throw error;
  }
}

/**
 * A header row's data: column titles by field name. `.Label "x"` in a header shows the
 * label's last dotted component (with - and _ as spaces), as docker does.
 */
export function headerContext(titles: Record<string, string>): Record<string, unknown> {
  return {
    ...titles,
    Label(name: string): string {
      const parts = String(name).split(".");
      return parts[parts.length - 1].replace(/[-_]/g, " ");
    },
  };
}

/**
 * Renders items with a format (the `Context.Write` of docker's formatter): returns the
 * whole output, ending in a newline per item (and a header row for tables).
 */
export function renderFormat(
  format: string,
  items: unknown[],
  header: Record<string, unknown>,
): string {
  const template = parseFormat(finalTemplateText(format));
  const rows: string[] = [];
  for (const item of items) {
    try {
      rows.push(template.execute(item) + "\n");
    } catch (error) {
      if (error instanceof TemplateError) {
        throw new FormatError(`template parsing error: ${error.message}`);
      }
      throw error;
    }
  }
  if (!isTableFormat(format)) return rows.join("");
  let headerRow = "";
  try {
    headerRow = template.execute(header, HEADER_FUNCTIONS);
  } catch { /* docker ignores header errors */ }
  const writer = new TabWriter(10, 3);
  writer.write(headerRow + "\n");
  writer.write(rows.join(""));
  return writer.flush();
}

/**
 * Base for the objects templates see. Subclasses list their zero-argument fields in
 * `jsonFields`; `{{json .}}` marshals those, sorted by name, as Go marshals the method
 * set of docker's context structs.
 */
export abstract class FormatSubject {
  abstract readonly jsonFields: readonly string[];

  constructor(goType: string) {
    Object.defineProperty(this, GO_TYPE, { value: goType, enumerable: false });
  }

  toJSON(): Record<string, unknown> {
    const result: Record<string, unknown> = {};
    for (const name of [...this.jsonFields].sort()) {
      const member = (this as unknown as Record<string, unknown>)[name];
      result[name] = typeof member === "function" ? member.call(this) : member;
    }
    return result;
  }
}

/** `{{json .}}` of a subject, exactly as docker would print it. */
export function subjectJson(subject: FormatSubject): string {
  return goJson(subject, { escapeHtml: false });
}
