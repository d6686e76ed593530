// What this teaches: docker's command line follows POSIX/GNU conventions through the
// pflag library: `--name=x` or `--name x`, short flags that combine (`-it`, `-dP`),
// a short flag's value glued on (`-p8080:80`), `--` to end the flags, repeatable list
// flags (`-e A=1 -e B=2`), and booleans that take `=false`. `docker run` stops reading
// flags at the image name (so `docker run busybox ls -l` passes `-l` to `ls`), while
// most commands accept flags anywhere. Bad flags are usage errors: exit status 125.
// Mirrors spf13/pflag (flag.go: parseLongArg, parseShortArg) as docker/cli uses it.

/** The types of flag values. */
export type FlagKind = "bool" | "string" | "int" | "list";

/** One flag a command accepts. */
export interface FlagSpec {
  /** Long name, without dashes: "name" for --name. */
  name: string;
  /** One-letter short name, without the dash: "d" for -d. */
  short?: string;
  kind: FlagKind;
  description: string;
  /** The default value (false, "", 0 or [] when absent). */
  defaultValue?: boolean | string | number | string[];
  /** The placeholder shown in help ("string", "list", "int"). */
  valueName?: string;
  hidden?: boolean;
  /** Checks a value as it is parsed (docker's typed flag values); throw to reject it. */
  validate?: (value: string) => void;
}

/** Parsed flag values and the remaining positional arguments. */
export interface ParsedFlags {
  values: Record<string, boolean | string | number | string[]>;
  /** Names of the flags the user actually set. */
  changed: Set<string>;
  positional: string[];
  /** True when -h/--help was given. */
  help: boolean;
}

/** A command-line mistake; docker prints it with the usage line and exits 125. */
export class FlagError extends Error {
  override name = "FlagError";
}

function defaultFor(spec: FlagSpec): boolean | string | number | string[] {
  if (spec.defaultValue !== undefined) {
    return Array.isArray(spec.defaultValue) ? [...spec.defaultValue] : spec.defaultValue;
  }
  switch (spec.kind) {
    case "bool":
      return false;
    case "string":
      return "";
    case "int":
      return 0;
    case "list":
      return [];
  }
}

function flagTitle(spec: FlagSpec): string {
  return spec.short ? `-${spec.short}, --${spec.name}` : `--${spec.name}`;
}

function parseBool(text: string, spec: FlagSpec): boolean {
  if (["1", "t", "T", "true", "TRUE", "True"].includes(text)) return true;
  if (["0", "f", "F", "false", "FALSE", "False"].includes(text)) return false;
  throw new FlagError(
    `invalid argument "${text}" for "${
      flagTitle(spec)
    }" flag: strconv.ParseBool: parsing "${text}": invalid syntax`,
  );
}

function parseInt(text: string, spec: FlagSpec): number {
  if (!/^[+-]?(0x[0-9a-fA-F]+|0o?[0-7]+|0b[01]+|\d+)$/.test(text)) {
    throw new FlagError(
      `invalid argument "${text}" for "${
        flagTitle(spec)
      }" flag: strconv.ParseInt: parsing "${text}": invalid syntax`,
    );
  }
  return Number(text);
}

/**
 * Parses arguments against flag specs. With `interspersed` false, the first
 * positional argument ends flag parsing (docker run/exec/create).
 */
export function parseFlags(args: string[], specs: FlagSpec[], interspersed = true): ParsedFlags {
  const byLong = new Map(specs.map((spec) => [spec.name, spec]));
  const byShort = new Map(specs.filter((spec) => spec.short).map((spec) => [spec.short!, spec]));
  const result: ParsedFlags = { values: {}, changed: new Set(), positional: [], help: false };
  for (const spec of specs) result.values[spec.name] = defaultFor(spec);

  const set = (spec: FlagSpec, text: string) => {
    if (spec.validate) {
      try {
        spec.validate(text);
      } catch (error) {
        throw new FlagError(
          `invalid argument "${text}" for "${flagTitle(spec)}" flag: ${(error as Error).message}`,
        );
      }
    }
    result.changed.add(spec.name);
    switch (spec.kind) {
      case "bool":
        result.values[spec.name] = parseBool(text, spec);
        break;
      case "string":
        result.values[spec.name] = text;
        break;
      case "int":
        result.values[spec.name] = parseInt(text, spec);
        break;
      case "list": {
        // The first use replaces a default list; later uses append.
        const current = result.changed.has(spec.name + "\0")
          ? result.values[spec.name] as string[]
          : [];
        result.changed.add(spec.name + "\0");
        result.values[spec.name] = [...current, text];
        break;
      }
    }
  };

  for (let index = 0; index < args.length; index++) {
    const arg = args[index];
    if (arg === "--") {
      result.positional.push(...args.slice(index + 1));
      break;
    }
    if (arg.startsWith("--") && arg.length > 2) {
      const equals = arg.indexOf("=");
      const name = equals === -1 ? arg.slice(2) : arg.slice(2, equals);
      if (name === "help") {
        result.help = true;
        continue;
      }
      const spec = byLong.get(name);
      if (!spec) throw new FlagError(`unknown flag: --${name}`);
      if (equals !== -1) set(spec, arg.slice(equals + 1));
      else if (spec.kind === "bool") set(spec, "true");
      else if (index + 1 < args.length) set(spec, args[++index]);
      else throw new FlagError(`flag needs an argument: --${name}`);
      continue;
    }
    if (arg.startsWith("-") && arg.length > 1) {
      let shorthands = arg.slice(1);
      while (shorthands.length > 0) {
        const letter = shorthands[0];
        shorthands = shorthands.slice(1);
        if (letter === "h" && !byShort.has("h")) {
          result.help = true;
          continue;
        }
        const spec = byShort.get(letter);
        if (!spec) throw new FlagError(`unknown shorthand flag: '${letter}' in ${arg}`);
        if (shorthands.startsWith("=")) {
          set(spec, shorthands.slice(1));
          shorthands = "";
        } else if (spec.kind === "bool") {
          set(spec, "true");
        } else if (shorthands.length > 0) {
          set(spec, shorthands);
          shorthands = "";
        } else if (index + 1 < args.length) {
          set(spec, args[++index]);
        } else {
          throw new FlagError(`flag needs an argument: '${letter}' in -${letter}`);
        }
      }
      continue;
    }
    result.positional.push(arg);
    if (!interspersed) {
      result.positional.push(...args.slice(index + 1));
      break;
    }
  }
  for (const name of [...result.changed]) if (name.endsWith("\0")) result.changed.delete(name);
  return result;
}

/** The "Options:" block of a command's help, aligned like cobra's. */
export function formatFlagHelp(specs: FlagSpec[]): string {
  const visible = specs.filter((spec) => !spec.hidden);
  const left = visible.map((spec) => {
    const names = spec.short ? `-${spec.short}, --${spec.name}` : `    --${spec.name}`;
    const value = spec.kind === "bool" ? "" : ` ${spec.valueName ?? spec.kind}`;
    return `  ${names}${value}`;
  });
  const width = Math.max(0, ...left.map((text) => text.length));
  return visible.map((spec, index) => {
    let description = spec.description;
    const defaultValue = spec.defaultValue;
    if (
      defaultValue !== undefined && defaultValue !== false && defaultValue !== "" &&
      !(Array.isArray(defaultValue) && defaultValue.length === 0)
    ) {
      description += ` (default ${
        typeof defaultValue === "string"
          ? `"${defaultValue}"`
          : Array.isArray(defaultValue)
          ? `[${defaultValue.join(",")}]`
          : defaultValue
      })`;
    }
    return `${left[index].padEnd(width)}   ${description}`;
  }).join("\n");
}
