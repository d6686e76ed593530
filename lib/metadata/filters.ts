// What this teaches: containerd lists everything (images, content, leases,
// snapshots, containers) through one small filter language, so
// `ctr content ls 'labels."containerd.io/gc.root"'` and
// `ctr images ls 'name~=busybox,labels.env==prod'` read the same way. A filter is a
// comma-separated list of selectors that must all hold; a list of filters matches
// when any one of them does. Each store only supplies a lookup from a field path
// (`digest`, `labels.<key>`) to a value. Mirrors containerd's `pkg/filters`
// (parser.go, filter.go, adaptor.go).
//
// Grammar:
//   filter    := selector ("," selector)*
//   selector  := fieldpath [operator value]        (no operator: the field exists)
//   fieldpath := field ("." field)*
//   field     := quoted | [A-Za-z0-9_/-]+
//   operator  := "==" | "!=" | "~="                 ("~=" matches a regular expression)
//   value     := quoted | any characters up to the next ","
//
// Field paths under `labels` join their remaining fields with ".", so
// `labels.containerd.io/gc.root` and `labels."containerd.io/gc.root"` are the same key.

import { invalidArgument } from "../api/errors.ts";

/** Looks up a field path (`["labels", "env"]`) on one record; undefined when absent. */
export type FieldLookup = (fieldPath: string[]) => string | undefined;

/** A parsed filter (or list of filters). */
export interface Filter {
  /** True when the record seen through `lookup` passes. */
  matches(lookup: FieldLookup): boolean;
}

type Operator = "present" | "==" | "!=" | "~=";

interface Selector {
  fieldPath: string[];
  operator: Operator;
  value: string;
  pattern?: RegExp;
}

/** Matches everything; what an empty filter list means. */
export const MATCH_ALL: Filter = { matches: () => true };

/**
 * Parses a list of filters, any of which may match (OR); each is a comma-separated
 * list of selectors that must all match (AND). Throws invalid_argument on a syntax error.
 */
export function parseFilters(filters: readonly string[] | undefined): Filter {
  const parsed = (filters ?? []).filter((text) => text.trim() !== "").map(parseSelectors);
  if (parsed.length === 0) return MATCH_ALL;
  return {
    matches: (lookup) =>
      parsed.some((selectors) => selectors.every((selector) => matchSelector(selector, lookup))),
  };
}

/**
 * A lookup for the usual record shape: top-level string fields by name, and
 * `labels.<key>` in a label map (the rest of the path joined with ".").
 */
export function recordLookup(
  fields: Record<string, string | number | undefined>,
  labels: Record<string, string> = {},
): FieldLookup {
  return (fieldPath) => {
    if (fieldPath[0] === "labels" && fieldPath.length > 1) {
      const key = fieldPath.slice(1).join(".");
      return Object.hasOwn(labels, key) ? labels[key] : undefined;
    }
    if (fieldPath.length !== 1) return undefined;
    const value = fields[fieldPath[0]];
    return value === undefined ? undefined : String(value);
  };
}

function matchSelector(selector: Selector, lookup: FieldLookup): boolean {
  const value = lookup(selector.fieldPath);
  switch (selector.operator) {
    case "present":
      return value !== undefined;
    case "==":
      return value === selector.value;
    case "!=":
      return value !== selector.value;
    case "~=":
      return value !== undefined && selector.pattern!.test(value);
  }
}

/** A hand-written scanner over one filter string; positions are reported in errors. */
class FilterScanner {
  position = 0;

  constructor(readonly text: string) {}

  get done(): boolean {
    this.#skipSpaces();
    return this.position >= this.text.length;
  }

  peek(): string {
    this.#skipSpaces();
    return this.text[this.position] ?? "";
  }

  fail(what: string): never {
    throw invalidArgument(
      `filter "${this.text}" is invalid at position ${this.position}: ${what} ` +
        `(write selectors like labels.key==value, digest==sha256:..., labels."a.b/c")`,
    );
  }

  /** A field: a quoted string or a run of name characters. */
  field(): string {
    if (this.peek() === '"') return this.quoted();
    const start = this.position;
    while (this.position < this.text.length && /[A-Za-z0-9_/-]/.test(this.text[this.position])) {
      this.position++;
    }
    if (this.position === start) this.fail("expected a field name");
    return this.text.slice(start, this.position);
  }

  /** An operator, or undefined when the selector ends here. */
  operator(): Operator | undefined {
    const next = this.peek();
    if (next === "" || next === ",") return undefined;
    const two = this.text.slice(this.position, this.position + 2);
    if (two === "==" || two === "!=" || two === "~=") {
      this.position += 2;
      return two;
    }
    this.fail(`expected "==", "!=", "~=", "," or the end, found "${next}"`);
  }

  /** A value: a quoted string, or everything up to the next comma. */
  value(): string {
    if (this.peek() === '"') return this.quoted();
    const start = this.position;
    while (this.position < this.text.length && this.text[this.position] !== ",") this.position++;
    const value = this.text.slice(start, this.position).trim();
    if (value === "") this.fail("expected a value after the operator");
    return value;
  }

  /** A double-quoted string with backslash escapes. */
  quoted(): string {
    this.position++; // the opening quote
    let result = "";
    while (this.position < this.text.length) {
      const character = this.text[this.position++];
      if (character === '"') return result;
      if (character === "\\") {
        const escaped = this.text[this.position++];
        if (escaped === undefined) break;
        result += escaped === "n" ? "\n" : escaped === "t" ? "\t" : escaped;
      } else {
        result += character;
      }
    }
    this.fail("unterminated quoted string");
  }

  expect(character: string): void {
    if (this.peek() !== character) this.fail(`expected "${character}"`);
    this.position++;
  }

  #skipSpaces(): void {
    while (this.position < this.text.length && /\s/.test(this.text[this.position])) {
      this.position++;
    }
  }
}

function parseSelectors(text: string): Selector[] {
  const scanner = new FilterScanner(text);
  const selectors: Selector[] = [];
  while (true) {
    const fieldPath = [scanner.field()];
    while (scanner.peek() === ".") {
      scanner.position++;
      fieldPath.push(scanner.field());
    }
    const operator = scanner.operator();
    if (operator === undefined) {
      selectors.push({ fieldPath, operator: "present", value: "" });
    } else {
      const value = scanner.value();
      const selector: Selector = { fieldPath, operator, value };
      if (operator === "~=") {
        try {
          selector.pattern = new RegExp(value);
        } catch (error) {
          scanner.fail(`"${value}" is not a valid regular expression (${error})`);
        }
      }
      selectors.push(selector);
    }
    if (scanner.done) return selectors;
    scanner.expect(",");
    if (scanner.done) scanner.fail("expected a selector after ','");
  }
}
