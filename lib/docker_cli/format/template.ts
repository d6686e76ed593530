// What this teaches: `docker ps --format '{{.Names}}\t{{.Status}}'` and `docker inspect
// -f '{{.State.Pid}}'` are Go text/template programs run against the objects docker
// lists. This is a small Go-template interpreter: text and {{actions}}, `{{-`/`-}}`
// whitespace trimming, field chains (`.A.B`), variables (`$x := ...`, `$`), pipelines
// (`.Names | upper`), function calls with arguments, parentheses, and the `if`, `else
// if`, `range`, `with` and `end` control structures; with Go's builtins (eq, ne, lt,
// le, gt, ge, and, or, not, len, index, slice, print, printf, println) plus the
// functions a caller adds (docker adds json, join, split, lower, upper, title, pad,
// truncate: see functions.ts). Values print as Go's fmt prints them ("<no value>",
// "<nil>", "[a b]", "map[k:v]").
// Mirrors Go's text/template (lex.go, parse.go, exec.go, funcs.go).

/** A function callable from a template. */
// deno-lint-ignore no-explicit-any
export type TemplateFunction = (...args: any[]) => unknown;

/** Functions by name, as Go's template.FuncMap. */
export type FunctionMap = Record<string, TemplateFunction>;

/** Marks the Go type name of an object, used in "can't evaluate field X in type T" errors. */
export const GO_TYPE = Symbol("goType");

/** A template failed to parse or to execute; the message reads like Go's. */
export class TemplateError extends Error {
  override name = "TemplateError";
}

/** A missing map key: prints as "<no value>", like Go's zero reflect.Value. */
export const NO_VALUE = Symbol("noValue");

// ---------------------------------------------------------------- lexing

type TokenKind =
  | "text"
  | "field"
  | "variable"
  | "identifier"
  | "string"
  | "number"
  | "leftParen"
  | "rightParen"
  | "pipe"
  | "declare"
  | "assign"
  | "comma"
  | "dot"
  | "actionEnd";

interface Token {
  kind: TokenKind;
  value: string;
  /** Offset in the source, for error positions. */
  position: number;
}

const SPACE = /[ \t\r\n]/;

function lex(source: string): Token[] {
  const tokens: Token[] = [];
  let offset = 0;
  while (offset < source.length) {
    const open = source.indexOf("{{", offset);
    if (open === -1) {
      tokens.push({ kind: "text", value: source.slice(offset), position: offset });
      break;
    }
    let text = source.slice(offset, open);
    let cursor = open + 2;
    if (source[cursor] === "-" && SPACE.test(source[cursor + 1] ?? "")) {
      text = text.replace(/[ \t\r\n]+$/, "");
      cursor += 1;
    }
    if (text.length > 0) tokens.push({ kind: "text", value: text, position: offset });
    // Comments: {{/* ... */}}
    const afterSpace = skipSpace(source, cursor);
    if (source.startsWith("/*", afterSpace)) {
      const endComment = source.indexOf("*/", afterSpace + 2);
      if (endComment === -1) throw parseError(source, open, "unclosed comment");
      let close = skipSpace(source, endComment + 2);
      let trimRight = false;
      if (source[close] === "-" && source.startsWith("}}", close + 1)) {
        trimRight = true;
        close += 1;
      }
      if (!source.startsWith("}}", close)) {
        throw parseError(source, open, "comment ends before closing delimiter");
      }
      offset = close + 2;
      if (trimRight) offset = skipSpace(source, offset);
      continue;
    }
    offset = lexAction(source, cursor, tokens);
  }
  return tokens;
}

function skipSpace(source: string, offset: number): number {
  while (offset < source.length && SPACE.test(source[offset])) offset++;
  return offset;
}

/** Lexes the inside of one {{action}}; returns the offset after its closing delimiter. */
function lexAction(source: string, start: number, tokens: Token[]): number {
  let offset = start;
  const push = (kind: TokenKind, value: string, position: number) =>
    tokens.push({ kind, value, position });
  while (true) {
    if (offset >= source.length) throw parseError(source, start, "unclosed action");
    const character = source[offset];
    if (SPACE.test(character)) {
      const next = skipSpace(source, offset);
      if (source[next] === "-" && source.startsWith("}}", next + 1)) {
        push("actionEnd", "}}", next);
        return skipSpace(source, next + 3);
      }
      offset = next;
      continue;
    }
    if (source.startsWith("}}", offset)) {
      push("actionEnd", "}}", offset);
      return offset + 2;
    }
    if (character === "(") push("leftParen", "(", offset++);
    else if (character === ")") push("rightParen", ")", offset++);
    else if (character === "|") push("pipe", "|", offset++);
    else if (character === ",") push("comma", ",", offset++);
    else if (source.startsWith(":=", offset)) {
      push("declare", ":=", offset);
      offset += 2;
    } else if (character === "=") push("assign", "=", offset++);
    else if (character === '"') {
      let end = offset + 1;
      while (end < source.length && source[end] !== '"') {
        if (source[end] === "\\") end++;
        if (source[end] === "\n") throw parseError(source, offset, "unterminated quoted string");
        end++;
      }
      if (end >= source.length) throw parseError(source, offset, "unterminated quoted string");
      push("string", unquoteGoString(source.slice(offset, end + 1)), offset);
      offset = end + 1;
    } else if (character === "`") {
      const end = source.indexOf("`", offset + 1);
      if (end === -1) throw parseError(source, offset, "unterminated raw quoted string");
      push("string", source.slice(offset + 1, end), offset);
      offset = end + 1;
    } else if (character === "." && /[A-Za-z_]/.test(source[offset + 1] ?? "")) {
      const match = /^\.[A-Za-z_][A-Za-z0-9_]*/.exec(source.slice(offset))!;
      push("field", match[0].slice(1), offset);
      offset += match[0].length;
    } else if (character === ".") push("dot", ".", offset++);
    else if (character === "$") {
      const match = /^\$[A-Za-z0-9_]*/.exec(source.slice(offset))!;
      push("variable", match[0], offset);
      offset += match[0].length;
    } else if (/[0-9+-]/.test(character)) {
      const match = /^[+-]?(0[xX][0-9a-fA-F_]+|[0-9_]*\.?[0-9_]+([eE][+-]?[0-9]+)?)/.exec(
        source.slice(offset),
      );
      if (!match || match[0] === "" || match[0] === "+" || match[0] === "-") {
        throw parseError(source, offset, `bad number syntax: "${character}"`);
      }
      push("number", match[0], offset);
      offset += match[0].length;
    } else if (character === "'") {
      const match = /^'(\\.|[^'\\])'/.exec(source.slice(offset));
      if (!match) throw parseError(source, offset, "unterminated character constant");
      push("number", String(unquoteGoString(`"${match[1]}"`).codePointAt(0)), offset);
      offset += match[0].length;
    } else if (/[A-Za-z_]/.test(character)) {
      const match = /^[A-Za-z_][A-Za-z0-9_]*/.exec(source.slice(offset))!;
      push("identifier", match[0], offset);
      offset += match[0].length;
    } else {
      throw parseError(source, offset, `unexpected "${character}" in command`);
    }
  }
}

function unquoteGoString(quoted: string): string {
  try {
    return JSON.parse(quoted.replace(/\\x([0-9a-fA-F]{2})/g, "\\u00$1").replace(/\\'/g, "'"));
  } catch {
    return quoted.slice(1, -1);
  }
}

function lineOf(source: string, position: number): number {
  return source.slice(0, position).split("\n").length;
}

function parseError(source: string, position: number, message: string): TemplateError {
  return new TemplateError(`template: :${lineOf(source, position)}: ${message}`);
}

// ---------------------------------------------------------------- parsing

type Operand =
  | { kind: "field"; names: string[]; position: number }
  | { kind: "variable"; name: string; names: string[]; position: number }
  | { kind: "dot"; position: number }
  | { kind: "identifier"; name: string; position: number }
  | { kind: "literal"; value: unknown; position: number; text: string }
  | { kind: "nil"; position: number }
  | { kind: "pipeline"; pipeline: Pipeline; names: string[]; position: number };

interface Command {
  operands: Operand[];
  position: number;
  /** The command's source text, for error messages ("at <index .Config.Env 1>"). */
  text: string;
}

interface Pipeline {
  declarations: string[];
  /** True for `$x = value` (assignment to an existing variable). */
  isAssignment: boolean;
  commands: Command[];
  position: number;
}

interface ControlNode {
  kind: "if" | "with" | "range";
  pipeline: Pipeline;
  body: TemplateNode[];
  otherwise: TemplateNode[];
}

type TemplateNode =
  | { kind: "text"; text: string }
  | { kind: "action"; pipeline: Pipeline }
  | ControlNode
  | { kind: "break" | "continue"; position: number };

class Parser {
  #index = 0;

  constructor(
    readonly source: string,
    readonly tokens: Token[],
    readonly functions: FunctionMap,
  ) {}

  parse(): TemplateNode[] {
    const { nodes, terminator } = this.#parseList();
    if (terminator !== undefined) {
      throw parseError(this.source, terminator.position, `unexpected {{${terminator.value}}}`);
    }
    return nodes;
  }

  #peek(offset = 0): Token | undefined {
    return this.tokens[this.#index + offset];
  }

  #next(): Token {
    const token = this.tokens[this.#index++];
    if (!token) throw new TemplateError("template: :1: unexpected EOF");
    return token;
  }

  /** Parses nodes until {{end}}, {{else}} or the end; returns which one stopped it. */
  #parseList(): { nodes: TemplateNode[]; terminator?: Token } {
    const nodes: TemplateNode[] = [];
    while (this.#index < this.tokens.length) {
      const token = this.#next();
      if (token.kind === "text") {
        nodes.push({ kind: "text", text: token.value });
        continue;
      }
      // The first token inside an action.
      if (token.kind === "identifier") {
        switch (token.value) {
          case "end":
            this.#expectEnd();
            return { nodes, terminator: token };
          case "else":
            // `else` may be followed by `if`/`with` (else-if chains); the caller handles it.
            return { nodes, terminator: token };
          case "if":
          case "with":
          case "range":
            nodes.push(this.#parseControl(token));
            continue;
          case "break":
          case "continue":
            this.#expectEnd();
            nodes.push({ kind: token.value, position: token.position });
            continue;
          case "define":
          case "template":
          case "block":
            throw parseError(this.source, token.position, `{{${token.value}}} is not supported`);
        }
      }
      this.#index--;
      nodes.push({ kind: "action", pipeline: this.#parsePipeline(token.position, true) });
    }
    return { nodes };
  }

  #expectEnd(): void {
    const token = this.#next();
    if (token.kind !== "actionEnd") {
      throw parseError(this.source, token.position, `unexpected "${token.value}" in end`);
    }
  }

  #parseControl(keyword: Token): TemplateNode {
    const kind = keyword.value as "if" | "with" | "range";
    const pipeline = this.#parsePipeline(
      keyword.position,
      kind === "range" || kind === "with" || kind === "if",
    );
    const { nodes: body, terminator } = this.#parseList();
    if (!terminator) throw parseError(this.source, keyword.position, "unexpected EOF");
    let otherwise: TemplateNode[] = [];
    if (terminator.value === "else") {
      const following = this.#peek();
      if (
        following?.kind === "identifier" && (following.value === "if" || following.value === "with")
      ) {
        // {{else if x}} is {{else}}{{if x}}...{{end}}{{end}}, sharing the final {{end}}.
        this.#next();
        otherwise = [this.#parseControl(following)];
      } else {
        this.#expectEnd();
        const rest = this.#parseList();
        if (!rest.terminator || rest.terminator.value !== "end") {
          throw parseError(this.source, keyword.position, "expected end; found EOF");
        }
        otherwise = rest.nodes;
      }
    }
    return { kind, pipeline, body, otherwise };
  }

  /** Parses `[$x[, $y] :=] command | command ...` up to the closing delimiter or ')'. */
  #parsePipeline(position: number, allowDeclarations: boolean): Pipeline {
    const pipeline: Pipeline = { declarations: [], isAssignment: false, commands: [], position };
    if (allowDeclarations && this.#peek()?.kind === "variable") {
      const save = this.#index;
      const names: string[] = [];
      while (this.#peek()?.kind === "variable") {
        names.push(this.#next().value);
        if (this.#peek()?.kind === "comma") this.#next();
        else break;
      }
      const operator = this.#peek();
      if (operator?.kind === "declare" || operator?.kind === "assign") {
        this.#next();
        pipeline.declarations = names;
        pipeline.isAssignment = operator.kind === "assign";
      } else {
        this.#index = save;
      }
    }
    while (true) {
      const token = this.#peek();
      if (!token) throw parseError(this.source, position, "unclosed action");
      if (token.kind === "actionEnd" || token.kind === "rightParen") {
        if (token.kind === "actionEnd") this.#next();
        break;
      }
      pipeline.commands.push(this.#parseCommand());
      if (this.#peek()?.kind === "pipe") this.#next();
    }
    if (pipeline.commands.length === 0) {
      throw parseError(this.source, position, "missing value for command");
    }
    return pipeline;
  }

  #parseCommand(): Command {
    const first = this.#peek()!;
    const command: Command = { operands: [], position: first.position, text: "" };
    while (true) {
      const token = this.#peek();
      if (
        !token || token.kind === "actionEnd" || token.kind === "rightParen" || token.kind === "pipe"
      ) {
        command.text = this.source.slice(first.position, token?.position ?? this.source.length)
          .trim();
        break;
      }
      command.operands.push(this.#parseOperand());
    }
    return command;
  }

  #parseOperand(): Operand {
    const token = this.#next();
    let operand: Operand;
    switch (token.kind) {
      case "field": {
        const names = [token.value];
        while (this.#peek()?.kind === "field" && this.#adjacent()) names.push(this.#next().value);
        return { kind: "field", names, position: token.position };
      }
      case "variable": {
        const names: string[] = [];
        while (this.#peek()?.kind === "field" && this.#adjacent()) names.push(this.#next().value);
        return { kind: "variable", name: token.value, names, position: token.position };
      }
      case "dot":
        return { kind: "dot", position: token.position };
      case "string":
        operand = {
          kind: "literal",
          value: token.value,
          position: token.position,
          text: token.value,
        };
        break;
      case "number":
        operand = {
          kind: "literal",
          value: parseGoNumber(token.value),
          position: token.position,
          text: token.value,
        };
        break;
      case "identifier":
        if (token.value === "true" || token.value === "false") {
          operand = {
            kind: "literal",
            value: token.value === "true",
            position: token.position,
            text: token.value,
          };
        } else if (token.value === "nil") {
          operand = { kind: "nil", position: token.position };
        } else {
          if (!(token.value in this.functions) && !(token.value in BUILTINS)) {
            throw parseError(this.source, token.position, `function "${token.value}" not defined`);
          }
          operand = { kind: "identifier", name: token.value, position: token.position };
        }
        break;
      case "leftParen": {
        const pipeline = this.#parsePipeline(token.position, false);
        const close = this.#next();
        if (close.kind !== "rightParen") {
          throw parseError(this.source, close.position, "unclosed left paren");
        }
        const names: string[] = [];
        while (this.#peek()?.kind === "field" && this.#adjacent()) names.push(this.#next().value);
        return { kind: "pipeline", pipeline, names, position: token.position };
      }
      default:
        throw parseError(this.source, token.position, `unexpected "${token.value}" in operand`);
    }
    if (this.#peek()?.kind === "field" && this.#adjacent()) {
      throw parseError(
        this.source,
        token.position,
        `unexpected . after term "${operand.kind === "literal" ? operand.text : "nil"}"`,
      );
    }
    return operand;
  }

  /** True when the next token follows the previous one with no space (a chained field). */
  #adjacent(): boolean {
    const previous = this.tokens[this.#index - 1];
    const next = this.tokens[this.#index];
    const previousEnd = previous.kind === "field"
      ? previous.position + previous.value.length + 1
      : previous.kind === "variable"
      ? previous.position + previous.value.length
      : previous.position + 1;
    return next.position === previousEnd;
  }
}

function parseGoNumber(text: string): number {
  const cleaned = text.replaceAll("_", "");
  const value = Number(cleaned);
  if (Number.isNaN(value)) throw new TemplateError(`template: :1: bad number syntax: "${text}"`);
  return value;
}

// ---------------------------------------------------------------- values

/** Is this object a Go map/struct stand-in we can look fields up in? */
function isRecord(value: unknown): value is Record<string | symbol, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) &&
    !(value instanceof Uint8Array);
}

/** Go's truth: false, 0, nil, and empty strings, slices and maps are false. */
export function isTrue(value: unknown): boolean {
  if (value === undefined || value === null || value === NO_VALUE) return false;
  if (typeof value === "boolean") return value;
  if (typeof value === "number") return value !== 0;
  if (typeof value === "string") return value.length > 0;
  if (Array.isArray(value)) return value.length > 0;
  if (isRecord(value)) {
    if (value[GO_TYPE] !== undefined) return true; // a struct is always true
    return Object.keys(value).length > 0;
  }
  return true;
}

function goTypeName(value: unknown): string {
  if (value === null || value === undefined || value === NO_VALUE) return "interface {}";
  if (typeof value === "string") return "string";
  if (typeof value === "number") return Number.isInteger(value) ? "int" : "float64";
  if (typeof value === "boolean") return "bool";
  if (Array.isArray(value)) return "[]interface {}";
  if (isRecord(value) && typeof value[GO_TYPE] === "string") return value[GO_TYPE] as string;
  return "map[string]interface {}";
}

/** Formats a float as Go's %v does (shortest representation, e+XX exponents). */
function formatGoFloat(value: number): string {
  if (Number.isInteger(value) && Math.abs(value) < 1e21) return String(value);
  const text = String(value);
  const match = /^(-?[\d.]+)e([+-])(\d+)$/.exec(text);
  if (match) return `${match[1]}e${match[2]}${match[3].padStart(2, "0")}`;
  return text;
}

/** Prints a value as Go's fmt.Sprint does. */
export function printValue(value: unknown): string {
  if (value === NO_VALUE || value === undefined) return "<no value>";
  if (value === null) return "<nil>";
  if (typeof value === "string") return value;
  if (typeof value === "number") return formatGoFloat(value);
  if (typeof value === "boolean" || typeof value === "bigint") return String(value);
  if (Array.isArray(value)) return `[${value.map(printNested).join(" ")}]`;
  if (isRecord(value)) {
    const stringer = value["String"];
    if (typeof stringer === "function") return String(stringer.call(value));
    const keys = Object.keys(value).sort();
    return `map[${keys.map((key) => `${key}:${printNested(value[key])}`).join(" ")}]`;
  }
  return String(value);
}

function printNested(value: unknown): string {
  return value === undefined || value === NO_VALUE ? "<nil>" : printValue(value);
}

// ---------------------------------------------------------------- builtins

function compareValues(name: string, left: unknown, right: unknown): number {
  const a = left === NO_VALUE ? undefined : left;
  const b = right === NO_VALUE ? undefined : right;
  if (typeof a === "number" && typeof b === "number") return a - b;
  if (typeof a === "string" && typeof b === "string") return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === "boolean" && typeof b === "boolean" && (name === "eq" || name === "ne")) {
    return a === b ? 0 : 1;
  }
  if ((name === "eq" || name === "ne") && (a == null || b == null)) {
    return (a == null) === (b == null) ? 0 : 1;
  }
  if (name === "eq" || name === "ne") {
    if (typeof a !== typeof b) throw new Error("incompatible types for comparison");
    return a === b ? 0 : 1;
  }
  throw new Error(`incompatible types for comparison`);
}

/** Go's printf verbs that docker users reach for: %s %d %v %q %t %x %f with width/flags. */
export function goSprintf(format: string, ...args: unknown[]): string {
  let argumentIndex = 0;
  return format.replace(
    /%([-+ #0]*)(\d+)?(?:\.(\d+))?([a-zA-Z%])/g,
    (_match, flags: string, width: string | undefined, precision: string | undefined, verb) => {
      if (verb === "%") return "%";
      if (argumentIndex >= args.length) return `%!${verb}(MISSING)`;
      const argument = args[argumentIndex++];
      let text: string;
      switch (verb) {
        case "d":
          text = typeof argument === "number"
            ? String(Math.trunc(argument))
            : `%!d(${printValue(argument)})`;
          break;
        case "q":
          text = JSON.stringify(printValue(argument));
          break;
        case "x":
          text = typeof argument === "number"
            ? argument.toString(16)
            : [...new TextEncoder().encode(printValue(argument))].map((byte) =>
              byte.toString(16).padStart(2, "0")
            ).join("");
          break;
        case "f":
          text = typeof argument === "number"
            ? argument.toFixed(precision === undefined ? 6 : Number(precision))
            : `%!f(${printValue(argument)})`;
          break;
        default: // s, v, t
          text = printValue(argument);
          if (verb === "s" && precision !== undefined) text = text.slice(0, Number(precision));
      }
      if (width !== undefined) {
        const size = Number(width);
        text = flags.includes("-")
          ? text.padEnd(size)
          : text.padStart(size, flags.includes("0") && verb !== "s" ? "0" : " ");
      }
      return text;
    },
  ) + (argumentIndex < args.length
    ? `%!(EXTRA ${
      args.slice(argumentIndex).map((item) => `${goTypeName(item)}=${printValue(item)}`).join(", ")
    })`
    : "");
}

function lengthOf(value: unknown): number {
  if (typeof value === "string") return new TextEncoder().encode(value).length;
  if (Array.isArray(value)) return value.length;
  if (isRecord(value)) return Object.keys(value).length;
  throw new Error(`len of type ${goTypeName(value)}`);
}

function indexInto(value: unknown, ...keys: unknown[]): unknown {
  let current = value;
  for (const key of keys) {
    if (Array.isArray(current)) {
      if (typeof key !== "number") {
        throw new Error(`cannot index slice/array with type ${goTypeName(key)}`);
      }
      if (key < 0 || key >= current.length) throw new Error("reflect: slice index out of range");
      current = current[key];
    } else if (typeof current === "string") {
      if (typeof key !== "number") {
        throw new Error(`cannot index string with type ${goTypeName(key)}`);
      }
      current = new TextEncoder().encode(current)[key];
    } else if (isRecord(current)) {
      // A missing key yields the zero value; for the string maps docker templates
      // index (labels, details), that is the empty string.
      current = Object.hasOwn(current, String(key)) ? current[String(key)] : "";
    } else if (current === null || current === undefined || current === NO_VALUE) {
      throw new Error("index of untyped nil");
    } else {
      throw new Error(`can't index item of type ${goTypeName(current)}`);
    }
  }
  return current;
}

const BUILTINS: FunctionMap = {
  and: (...args: unknown[]) => args.find((item) => !isTrue(item)) ?? args[args.length - 1],
  or: (...args: unknown[]) => args.find((item) => isTrue(item)) ?? args[args.length - 1],
  not: (value: unknown) => !isTrue(value),
  len: lengthOf,
  index: indexInto,
  slice: (value: unknown, ...bounds: number[]) => {
    if (typeof value === "string" || Array.isArray(value)) return value.slice(bounds[0], bounds[1]);
    throw new Error(`can't slice item of type ${goTypeName(value)}`);
  },
  print: (...args: unknown[]) => {
    // Go's Sprint puts spaces between operands when neither is a string.
    let out = "";
    args.forEach((item, position) => {
      if (position > 0 && typeof item !== "string" && typeof args[position - 1] !== "string") {
        out += " ";
      }
      out += printValue(item);
    });
    return out;
  },
  println: (...args: unknown[]) => args.map(printValue).join(" ") + "\n",
  printf: (format: string, ...args: unknown[]) => goSprintf(format, ...args),
  eq: (first: unknown, ...others: unknown[]) =>
    others.some((other) => compareValues("eq", first, other) === 0),
  ne: (left: unknown, right: unknown) => compareValues("ne", left, right) !== 0,
  lt: (left: unknown, right: unknown) => compareValues("lt", left, right) < 0,
  le: (left: unknown, right: unknown) => compareValues("le", left, right) <= 0,
  gt: (left: unknown, right: unknown) => compareValues("gt", left, right) > 0,
  ge: (left: unknown, right: unknown) => compareValues("ge", left, right) >= 0,
  urlquery: (...args: unknown[]) => encodeURIComponent(args.map(printValue).join("")),
};

// ---------------------------------------------------------------- execution

class BreakSignal {}
class ContinueSignal {}

interface Variable {
  name: string;
  value: unknown;
}

/** Options for running a template. */
export interface ExecuteOptions {
  /** Go's `missingkey=error`: a missing map key is an error instead of "<no value>". */
  missingKeyError?: boolean;
}

/** A parsed template, ready to run against data. */
export class Template {
  readonly #nodes: TemplateNode[];

  constructor(readonly source: string, readonly functions: FunctionMap = {}) {
    this.#nodes = new Parser(source, lex(source), functions).parse();
  }

  /** Runs the template against `data`; `functions` overrides same-named functions (header rows). */
  execute(data: unknown, overrides: FunctionMap = {}, options: ExecuteOptions = {}): string {
    const run = new Execution(
      this.source,
      { ...BUILTINS, ...this.functions, ...overrides },
      options,
    );
    const out: string[] = [];
    run.walk(this.#nodes, data, [{ name: "$", value: data }], out);
    return out.join("");
  }
}

class Execution {
  constructor(
    readonly source: string,
    readonly functions: FunctionMap,
    readonly options: ExecuteOptions,
  ) {}

  fail(position: number, at: string, message: string): never {
    const before = this.source.slice(0, position);
    const line = before.split("\n").length;
    const column = position - (before.lastIndexOf("\n") + 1);
    throw new TemplateError(`template: :${line}:${column}: executing "" at <${at}>: ${message}`);
  }

  walk(nodes: TemplateNode[], dot: unknown, variables: Variable[], out: string[]): void {
    for (const node of nodes) {
      switch (node.kind) {
        case "text":
          out.push(node.text);
          break;
        case "action": {
          const value = this.evalPipeline(node.pipeline, dot, variables);
          if (node.pipeline.declarations.length === 0) out.push(printValue(value));
          break;
        }
        case "if": {
          const scope = [...variables];
          const value = this.evalPipeline(node.pipeline, dot, scope);
          this.walk(isTrue(value) ? node.body : node.otherwise, dot, scope, out);
          break;
        }
        case "with": {
          const scope = [...variables];
          const value = this.evalPipeline(node.pipeline, dot, scope);
          if (isTrue(value)) this.walk(node.body, value, scope, out);
          else this.walk(node.otherwise, dot, scope, out);
          break;
        }
        case "range":
          this.walkRange(node, dot, variables, out);
          break;
        case "break":
          throw new BreakSignal();
        case "continue":
          throw new ContinueSignal();
      }
    }
  }

  walkRange(
    node: ControlNode,
    dot: unknown,
    variables: Variable[],
    out: string[],
  ): void {
    const declarations = node.pipeline.declarations;
    const pipeline = { ...node.pipeline, declarations: [] };
    const value = this.evalPipeline(pipeline, dot, variables);
    let entries: [unknown, unknown][];
    if (Array.isArray(value)) entries = value.map((item, index) => [index, item]);
    else if (typeof value === "number") {
      entries = Array.from({ length: Math.max(0, value) }, (_, index) => [index, index]);
    } else if (isRecord(value)) entries = Object.keys(value).sort().map((key) => [key, value[key]]);
    else if (value === null || value === undefined || value === NO_VALUE) entries = [];
    else {this.fail(
        node.pipeline.position,
        "range",
        `range can't iterate over ${printValue(value)}`,
      );}
    if (entries.length === 0) {
      this.walk(node.otherwise, dot, [...variables], out);
      return;
    }
    for (const [key, item] of entries) {
      const scope = [...variables];
      if (declarations.length === 1) scope.push({ name: declarations[0], value: item });
      if (declarations.length === 2) {
        scope.push({ name: declarations[0], value: key }, { name: declarations[1], value: item });
      }
      try {
        this.walk(node.body, item, scope, out);
      } catch (signal) {
        if (signal instanceof BreakSignal) break;
        if (signal instanceof ContinueSignal) continue;
        throw signal;
      }
    }
  }

  evalPipeline(pipeline: Pipeline, dot: unknown, variables: Variable[]): unknown {
    let value: unknown = undefined;
    let hasFinal = false;
    for (const command of pipeline.commands) {
      value = this.evalCommand(command, dot, variables, hasFinal, value);
      hasFinal = true;
    }
    for (const name of pipeline.declarations) {
      if (pipeline.isAssignment) {
        const existing = [...variables].reverse().find((variable) => variable.name === name);
        if (!existing) this.fail(pipeline.position, name, `undefined variable: ${name}`);
        existing.value = value;
      } else {
        variables.push({ name, value });
      }
    }
    return value;
  }

  evalCommand(
    command: Command,
    dot: unknown,
    variables: Variable[],
    hasFinal: boolean,
    final: unknown,
  ): unknown {
    const [first, ...rest] = command.operands;
    const args = () => {
      const values = rest.map((operand) => this.evalArgument(operand, dot, variables));
      if (hasFinal) values.push(final);
      return values;
    };
    switch (first.kind) {
      case "field":
        return this.evalFieldChain(
          dot,
          first.names,
          first.position,
          args,
          rest.length > 0 || hasFinal,
        );
      case "variable": {
        const value = this.lookupVariable(first.name, variables, first.position);
        if (first.names.length === 0) {
          if (rest.length > 0 || hasFinal) {
            this.fail(
              first.position,
              first.name,
              "can't give argument to non-function " + first.name,
            );
          }
          return value;
        }
        return this.evalFieldChain(
          value,
          first.names,
          first.position,
          args,
          rest.length > 0 || hasFinal,
        );
      }
      case "pipeline": {
        const value = this.evalPipeline(first.pipeline, dot, variables);
        if (first.names.length === 0) return value;
        return this.evalFieldChain(
          value,
          first.names,
          first.position,
          args,
          rest.length > 0 || hasFinal,
        );
      }
      case "identifier": {
        const fn = this.functions[first.name];
        try {
          return fn(...args());
        } catch (error) {
          if (error instanceof TemplateError) throw error;
          this.fail(
            first.position,
            command.text,
            `error calling ${first.name}: ${error instanceof Error ? error.message : error}`,
          );
        }
        break;
      }
      case "dot":
        if (rest.length > 0 || hasFinal) {
          this.fail(first.position, ".", "can't give argument to non-function .");
        }
        return dot;
      case "nil":
        this.fail(first.position, "nil", "nil is not a command");
        break;
      case "literal":
        if (rest.length > 0 || hasFinal) {
          this.fail(
            first.position,
            first.text,
            `can't give argument to non-function ${first.text}`,
          );
        }
        return first.value;
    }
  }

  evalArgument(operand: Operand, dot: unknown, variables: Variable[]): unknown {
    switch (operand.kind) {
      case "field":
        return this.evalFieldChain(dot, operand.names, operand.position, () => [], false);
      case "variable": {
        const value = this.lookupVariable(operand.name, variables, operand.position);
        return operand.names.length === 0
          ? value
          : this.evalFieldChain(value, operand.names, operand.position, () => [], false);
      }
      case "pipeline": {
        const value = this.evalPipeline(operand.pipeline, dot, variables);
        return operand.names.length === 0
          ? value
          : this.evalFieldChain(value, operand.names, operand.position, () => [], false);
      }
      case "dot":
        return dot;
      case "nil":
        return null;
      case "literal":
        return operand.value;
      case "identifier":
        return this.functions[operand.name]();
    }
  }

  lookupVariable(name: string, variables: Variable[], position: number): unknown {
    for (let index = variables.length - 1; index >= 0; index--) {
      if (variables[index].name === name) return variables[index].value;
    }
    this.fail(position, name, `undefined variable: ${name}`);
  }

  evalFieldChain(
    receiver: unknown,
    names: string[],
    position: number,
    args: () => unknown[],
    hasArgs: boolean,
  ): unknown {
    let current = receiver;
    for (let index = 0; index < names.length; index++) {
      const last = index === names.length - 1;
      current = this.evalField(
        current,
        names[index],
        "." + names.slice(0, index + 1).join("."),
        position,
        last ? args : () => [],
        last && hasArgs,
      );
    }
    return current;
  }

  evalField(
    receiver: unknown,
    name: string,
    at: string,
    position: number,
    args: () => unknown[],
    hasArgs: boolean,
  ): unknown {
    if (isRecord(receiver)) {
      const member = receiver[name];
      if (typeof member === "function") {
        try {
          return member.apply(receiver, args());
        } catch (error) {
          if (error instanceof TemplateError) throw error;
          this.fail(
            position,
            at,
            `error calling ${name}: ${error instanceof Error ? error.message : error}`,
          );
        }
      }
      if (hasArgs) {
        this.fail(position, at, `${name} has arguments but cannot be invoked as function`);
      }
      if (name in receiver) return member === undefined ? NO_VALUE : member;
      if (receiver[GO_TYPE] !== undefined) {
        this.fail(
          position,
          at,
          `can't evaluate field ${name} in type ${receiver[GO_TYPE] as string}`,
        );
      }
      if (this.options.missingKeyError) {
        this.fail(position, at, `map has no entry for key "${name}"`);
      }
      return NO_VALUE;
    }
    if (receiver === null || receiver === undefined || receiver === NO_VALUE) {
      if (receiver === NO_VALUE || receiver === undefined) return NO_VALUE;
      this.fail(position, at, `nil pointer evaluating interface {}.${name}`);
    }
    this.fail(position, at, `can't evaluate field ${name} in type ${goTypeName(receiver)}`);
  }
}

/** Parses a template; throws TemplateError with Go's wording when it does not parse. */
export function parseTemplate(source: string, functions: FunctionMap = {}): Template {
  return new Template(source, functions);
}
