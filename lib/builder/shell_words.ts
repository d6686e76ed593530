// What this teaches: Dockerfile variables are not shell variables. `ENV`, `COPY`,
// `WORKDIR`, `LABEL`, `EXPOSE`, `FROM` and friends expand `$NAME`, `${NAME}`,
// `${NAME:-default}` and `${NAME:+alternative}` themselves, with quotes and the escape
// character working roughly as in sh, before the instruction runs. `RUN`, `CMD` and
// `ENTRYPOINT` are left alone: there the shell inside the container expands.
// Mirrors moby's (buildkit's) frontend/dockerfile/shell/lex.go (ProcessWord,
// ProcessWords) and parser/line_parsers.go (parseNameVal's word splitting).

/** The variables in scope: `NAME=value` entries, later ones winning. */
export type VariableScope = Map<string, string>;

/** Builds a scope from `NAME=value` entries (the image's Env plus build args). */
export function scopeOf(...lists: string[][]): VariableScope {
  const scope: VariableScope = new Map();
  for (const list of lists) {
    for (const entry of list) {
      const equals = entry.indexOf("=");
      if (equals > 0) scope.set(entry.slice(0, equals), entry.slice(equals + 1));
      else scope.set(entry, "");
    }
  }
  return scope;
}

class Lexer {
  position = 0;
  constructor(
    readonly text: string,
    readonly scope: VariableScope,
    readonly escape: string,
  ) {}

  get done(): boolean {
    return this.position >= this.text.length;
  }
  peek(offset = 0): string {
    return this.text[this.position + offset] ?? "";
  }
  next(): string {
    return this.text[this.position++] ?? "";
  }

  /** Reads up to (not including) a character in `stops` outside quotes; expands as it goes. */
  word(stops: string, splitOnSpace: boolean): { text: string; words: string[] } {
    let current = "";
    const words: string[] = [];
    let inWord = false;
    while (!this.done && !stops.includes(this.peek())) {
      const character = this.peek();
      if (splitOnSpace && /\s/.test(character)) {
        this.next();
        if (inWord) words.push(current);
        current = "";
        inWord = false;
        continue;
      }
      inWord = true;
      if (character === this.escape) {
        this.next();
        if (!this.done) current += this.next();
      } else if (character === "'") {
        this.next();
        while (!this.done && this.peek() !== "'") current += this.next();
        if (this.done) throw new Error("unexpected end of statement while looking for matching '");
        this.next();
      } else if (character === '"') {
        this.next();
        current += this.doubleQuoted();
      } else if (character === "$") {
        const expansion = this.dollar();
        if (splitOnSpace && expansion.unquoted) {
          // An unquoted expansion splits into words, as in sh.
          const [first, ...rest] = expansion.value.split(/\s+/);
          current += first;
          for (const part of rest) {
            words.push(current);
            current = part;
          }
        } else {
          current += expansion.value;
        }
      } else {
        current += this.next();
      }
    }
    if (inWord) words.push(current);
    return { text: current, words };
  }

  doubleQuoted(): string {
    let value = "";
    while (!this.done && this.peek() !== '"') {
      const character = this.peek();
      if (character === this.escape) {
        const following = this.peek(1);
        if (following === '"' || following === "$" || following === this.escape) {
          this.next();
          value += this.next();
        } else {
          value += this.next();
        }
      } else if (character === "$") {
        value += this.dollar().value;
      } else {
        value += this.next();
      }
    }
    if (this.done) {
      throw new Error("unexpected end of statement while looking for matching double-quote");
    }
    this.next();
    return value;
  }

  dollar(): { value: string; unquoted: boolean } {
    this.next(); // the $
    if (this.peek() === "{") {
      this.next();
      let name = "";
      while (!this.done && /[A-Za-z0-9_]/.test(this.peek())) name += this.next();
      if (name === "") throw new Error(`missing variable name in \${...}`);
      if (this.peek() === "}") {
        this.next();
        return { value: this.scope.get(name) ?? "", unquoted: true };
      }
      let modifier = this.next();
      if (modifier === ":") modifier += this.next();
      if (![":-", ":+", "-", "+", ":?", "?"].includes(modifier)) {
        throw new Error(`unsupported modifier (${modifier}) in substitution`);
      }
      const word = this.word("}", false).text;
      if (this.next() !== "}") throw new Error("syntax error: missing '}'");
      const set = this.scope.has(name);
      const value = this.scope.get(name) ?? "";
      const nonEmpty = set && value !== "";
      switch (modifier) {
        case ":-":
          return { value: nonEmpty ? value : word, unquoted: true };
        case "-":
          return { value: set ? value : word, unquoted: true };
        case ":+":
          return { value: nonEmpty ? word : "", unquoted: true };
        case "+":
          return { value: set ? word : "", unquoted: true };
        default:
          if (modifier === ":?" ? !nonEmpty : !set) {
            throw new Error(`${name}: ${word === "" ? "is not allowed to be unset" : word}`);
          }
          return { value, unquoted: true };
      }
    }
    let name = "";
    while (!this.done && /[A-Za-z0-9_]/.test(this.peek())) name += this.next();
    if (name === "") return { value: "$", unquoted: false };
    return { value: this.scope.get(name) ?? "", unquoted: true };
  }
}

/** Expands variables in one word and removes its quotes (`"${A:-x} y"` → `x y`). */
export function expandVariables(text: string, scope: VariableScope, escape = "\\"): string {
  const lexer = new Lexer(text, scope, escape);
  return lexer.word("", false).text;
}

/** Expands and splits into words, as `EXPOSE $PORTS` or `VOLUME /a "/b c"` need. */
export function expandWords(text: string, scope: VariableScope, escape = "\\"): string[] {
  const lexer = new Lexer(text, scope, escape);
  return lexer.word("", true).words;
}

/**
 * Splits on unquoted whitespace, keeping quotes and escapes (parseNameVal's first pass):
 * `a="b c" d=e` → [`a="b c"`, `d=e`].
 */
export function splitRawWords(text: string, escape = "\\"): string[] {
  const words: string[] = [];
  let current = "";
  let quote = "";
  let inWord = false;
  for (let index = 0; index < text.length; index++) {
    const character = text[index];
    if (quote === "" && /\s/.test(character)) {
      if (inWord) words.push(current);
      current = "";
      inWord = false;
      continue;
    }
    inWord = true;
    if (character === escape && quote !== "'") {
      current += character + (text[index + 1] ?? "");
      index++;
      continue;
    }
    if (quote === "" && (character === '"' || character === "'")) quote = character;
    else if (quote === character) quote = "";
    current += character;
  }
  if (inWord) words.push(current);
  return words;
}

/**
 * `ENV`/`LABEL`/`ARG` pairs: `K=V K2="v 2"` (expanded, quotes removed), or the old
 * one-pair form `ENV K some value` when the first word has no `=`.
 */
export function parseKeyValuePairs(
  text: string,
  scope: VariableScope,
  escape = "\\",
  keyword = "ENV",
): [string, string][] {
  const words = splitRawWords(text, escape);
  if (words.length === 0) throw new Error(`${keyword} requires at least one argument`);
  if (!words[0].includes("=")) {
    if (keyword === "ARG") return [[words[0], ""]];
    // Legacy form: the rest of the line (whitespace kept) is the value.
    const rest = text.trimStart().slice(words[0].length).trim();
    if (rest === "") throw new Error(`${keyword} names can not be blank`);
    return [[expandVariables(words[0], scope, escape), expandVariables(rest, scope, escape)]];
  }
  return words.map((word) => {
    const equals = word.indexOf("=");
    if (equals <= 0) {
      throw new Error(`Syntax error - can't find = in "${word}". Must be of the form: name=value`);
    }
    return [
      expandVariables(word.slice(0, equals), scope, escape),
      expandVariables(word.slice(equals + 1), scope, escape),
    ];
  });
}
