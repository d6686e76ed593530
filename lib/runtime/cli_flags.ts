// What this teaches: the exact flags runc accepts, in one table, and a parser with
// urfave/cli's rules (--flag value, --flag=value, -flag, booleans). Kept apart from the
// commands so the entry point can read the command line before loading anything heavy.
// Mirrors the cli.Flag lists of runc's main.go and command files.

/** How a flag takes its value. */
export type FlagKind = "bool" | "string" | "list";

/** One flag and its aliases (the first name is the key in FlagValues). */
export interface FlagSpec {
  names: string[];
  kind: FlagKind;
}

/** Parsed flag values by their first name. */
export type FlagValues = Record<string, string | boolean | string[] | undefined>;

/** A usage error: wrong flags or arguments (exit status 1 with a hint). */
export class UsageError extends Error {}

function flag(kind: FlagKind, ...names: string[]): FlagSpec {
  return { names, kind };
}

/**
 * Parses urfave/cli-style flags: --name value, --name=value, -n value, -name value,
 * booleans with or without =true/false. With `stopAtPositional`, everything from the
 * first positional argument on is positional (exec's command, ps's options).
 */
export function parseFlags(
  args: string[],
  specs: FlagSpec[],
  stopAtPositional: boolean,
): { values: FlagValues; positionals: string[] } {
  const values: FlagValues = {};
  const positionals: string[] = [];
  for (let index = 0; index < args.length; index++) {
    const argument = args[index];
    if (argument === "--") {
      positionals.push(...args.slice(index + 1));
      break;
    }
    if (!argument.startsWith("-") || argument === "-" || /^-\d+$/.test(argument)) {
      positionals.push(argument);
      if (stopAtPositional) {
        positionals.push(...args.slice(index + 1));
        break;
      }
      continue;
    }
    const body = argument.replace(/^--?/, "");
    const equals = body.indexOf("=");
    const name = equals < 0 ? body : body.slice(0, equals);
    const inline = equals < 0 ? undefined : body.slice(equals + 1);
    const spec = specs.find((candidate) => candidate.names.includes(name));
    if (!spec) throw new UsageError(`flag provided but not defined: -${name}`);
    const key = spec.names[0];
    if (spec.kind === "bool") {
      values[key] = inline === undefined ? true : inline === "true" || inline === "1";
      continue;
    }
    const value = inline ?? args[++index];
    if (value === undefined) throw new UsageError(`flag needs an argument: -${name}`);
    if (spec.kind === "list") values[key] = [...(values[key] as string[] ?? []), value];
    else values[key] = value;
  }
  return { values, positionals };
}

/** runc's global flags. */
export const globalFlags = [
  flag("string", "root"),
  flag("string", "log"),
  flag("string", "log-format"),
  flag("bool", "debug"),
  flag("bool", "trace"),
  flag("bool", "systemd-cgroup"),
  flag("string", "criu"),
  flag("string", "rootless"),
  flag("bool", "version", "v"),
  flag("bool", "help", "h"),
];

const createFlags = [
  flag("string", "bundle", "b"),
  flag("string", "console-socket"),
  flag("string", "pid-file"),
  flag("bool", "no-pivot"),
  flag("bool", "no-new-keyring"),
  flag("string", "preserve-fds"),
];

/** Each command's flags, as runc defines them. */
export const commandFlags: Record<string, FlagSpec[]> = {
  spec: [flag("string", "bundle", "b"), flag("bool", "rootless")],
  create: createFlags,
  run: [
    ...createFlags,
    flag("bool", "detach", "d"),
    flag("bool", "keep"),
    flag("bool", "no-subreaper"),
  ],
  start: [],
  state: [],
  kill: [flag("bool", "all", "a")],
  delete: [flag("bool", "force", "f")],
  exec: [
    flag("string", "process", "p"),
    flag("bool", "detach", "d"),
    flag("string", "pid-file"),
    flag("string", "console-socket"),
    flag("string", "cwd"),
    flag("list", "env", "e"),
    flag("bool", "tty", "t"),
    flag("string", "user", "u"),
    flag("list", "additional-gids", "g"),
    flag("list", "cap", "c"),
    flag("bool", "no-new-privs"),
    flag("string", "preserve-fds"),
    flag("string", "process-label"),
    flag("string", "apparmor"),
    flag("list", "cgroup"),
    flag("bool", "ignore-paused"),
  ],
  ps: [flag("string", "format", "f")],
  list: [flag("string", "format", "f"), flag("bool", "quiet", "q")],
  pause: [],
  resume: [],
  features: [],
  update: [
    flag("string", "resources", "r"),
    flag("string", "memory"),
    flag("string", "memory-swap"),
    flag("string", "memory-reservation"),
    flag("string", "cpu-shares"),
    flag("string", "cpu-quota"),
    flag("string", "cpu-period"),
    flag("string", "cpuset-cpus"),
    flag("string", "cpuset-mems"),
    flag("string", "pids-limit"),
  ],
};

/** The command, its flags and operands, after the global flags. */
export interface CommandLine {
  globals: FlagValues;
  command?: string;
  values: FlagValues;
  operands: string[];
}

/** Parses a whole mini-runc command line (throws UsageError on unknown flags). */
export function parseCommandLine(args: string[]): CommandLine {
  const { values: globals, positionals } = parseFlags(args, globalFlags, true);
  const [command, ...rest] = positionals;
  const specs = command === undefined ? undefined : commandFlags[command];
  if (!specs) return { globals, command, values: {}, operands: rest };
  const stopAtPositional = command === "exec" || command === "ps";
  const { values, positionals: operands } = parseFlags(rest, specs, stopAtPositional);
  return { globals, command, values, operands };
}
