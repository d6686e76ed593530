// What this teaches: `docker inspect NAME` does not know what NAME is. It asks the
// daemon in turn — container? image? network? volume? plugin? — and prints the first
// object found, as the daemon's own JSON re-indented (key order and all). Only when
// every kind answered 404 does it say "No such object". With -f, a Go template runs
// against the object instead (`-f '{{.State.Pid}}'`).
// Mirrors docker/cli's cli/command/system/inspect.go and cli/command/inspect/inspector.go.

import { DaemonError } from "../../client/engine.ts";
import type { ParsedFlags } from "../../flags.ts";
import { parseFormat } from "../../format/formatter.ts";
import { compactJson, indentJson } from "../../format/go_json.ts";
import { type Template, TemplateError } from "../../format/template.ts";
import { type CommandSpec, type DockerCli, StatusError } from "../../types.ts";

const ALL_TYPES = [
  "config",
  "container",
  "image",
  "network",
  "node",
  "plugin",
  "secret",
  "service",
  "task",
  "volume",
];

/** How to fetch one kind of object: its raw JSON text. */
type Fetcher = (cli: DockerCli, name: string, size: boolean) => Promise<string>;

const FETCHERS: Record<string, Fetcher> = {
  container: (cli, name, size) =>
    cli.client().text("GET", `/containers/${name}/json`, {
      query: { size: size ? true : undefined },
    }),
  image: (cli, name) => cli.client().text("GET", `/images/${name}/json`),
  network: (cli, name) => cli.client().text("GET", `/networks/${name}`),
  volume: (cli, name) => cli.client().text("GET", `/volumes/${name}`),
  plugin: (cli, name) => cli.client().text("GET", `/plugins/${name}/json`),
};

/** Kinds tried, in docker's order, when no --type is given (swarm kinds only on managers). */
const AUTODETECT_ORDER = ["container", "image", "network", "volume", "plugin"];

function isSkippable(error: unknown): boolean {
  if (error instanceof DaemonError && error.isNotFound) return true;
  const message = error instanceof Error ? error.message : String(error);
  return message.includes("not supported") || message.includes("invalid reference format");
}

/** Finds one object, trying each kind in turn unless a type is forced. */
async function fetchObject(
  cli: DockerCli,
  name: string,
  type: string,
  size: boolean,
): Promise<string> {
  const kinds = type === "" ? AUTODETECT_ORDER : [type];
  for (const kind of kinds) {
    const fetcher = FETCHERS[kind];
    if (!fetcher) throw new Error(`Error: ${kind} inspection is not supported by mini-docker`);
    try {
      const raw = await fetcher(cli, name, size);
      if (size && kind !== "container") cli.err.write(`WARNING: --size ignored for ${kind}\n`);
      return raw;
    } catch (error) {
      if (type === "" && isSkippable(error)) continue;
      throw error;
    }
  }
  throw new Error(`Error: No such object: ${name}`);
}

/** A JSON object's keys in sorted order, all the way down (how Go marshals maps). */
function sortedKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortedKeys);
  if (typeof value !== "object" || value === null) return value;
  return Object.fromEntries(
    Object.keys(value).sort().map((
      key,
    ) => [key, sortedKeys((value as Record<string, unknown>)[key])]),
  );
}

/**
 * Runs an inspect template the way docker does. docker first runs it against the typed
 * Go struct, whose ID field is spelled `ID` (the JSON says "Id") and whose nested
 * objects keep the daemon's key order; if that fails (say the template says `.Id`), it
 * runs it again against the raw JSON decoded into maps, where a missing key is an error
 * and `json` prints keys sorted. Both passes are reproduced here.
 */
function executeLikeDocker(template: Template, object: Record<string, unknown>): string {
  const typed = Object.fromEntries(
    Object.entries(object).map(([key, value]) => [key === "Id" ? "ID" : key, value]),
  );
  // Marshalled back (`{{json .}}`), the Go struct spells it "Id" again, in the daemon's order.
  Object.defineProperty(typed, "toJSON", { value: () => object, enumerable: false });
  try {
    return template.execute(typed, {}, { missingKeyError: true });
  } catch (error) {
    if (!(error instanceof TemplateError)) throw error;
    return template.execute(sortedKeys(object), {}, { missingKeyError: true });
  }
}

/**
 * Prints objects like docker's inspector: a JSON array (indented, or compact for
 * `--format json`), or one template result per object. Errors are collected and
 * reported after the output, with exit status 1.
 */
export async function inspectObjects(
  cli: DockerCli,
  names: string[],
  format: string,
  fetch: (name: string) => Promise<string>,
): Promise<number> {
  const template = format === "" || format === "json" ? undefined : (() => {
    try {
      return parseFormat(format);
    } catch (error) {
      throw new StatusError((error as Error).message, 64);
    }
  })();
  const raws: string[] = [];
  const lines: string[] = [];
  const errors: string[] = [];
  for (const name of names) {
    let raw: string;
    try {
      raw = await fetch(name);
    } catch (error) {
      errors.push(error instanceof Error ? error.message : String(error));
      continue;
    }
    if (!template) {
      raws.push(raw.trim());
      continue;
    }
    try {
      lines.push(executeLikeDocker(template, JSON.parse(raw)) + "\n");
    } catch (error) {
      if (error instanceof TemplateError) errors.push(`template parsing error: ${error.message}`);
      else errors.push(error instanceof Error ? error.message : String(error));
    }
  }
  if (template) {
    cli.out.write(lines.length === 0 ? "\n" : lines.join(""));
  } else if (raws.length === 0) {
    cli.out.write("[]\n");
  } else {
    const joined = `[${raws.join(",")}]`;
    cli.out.write(
      (format === "json" ? compactJson(joined) : indentJson(joined, "", "    ")) + "\n",
    );
  }
  if (errors.length > 0) throw new StatusError(errors.join("\n"), 1);
  return 0;
}

async function runInspect(cli: DockerCli, flags: ParsedFlags): Promise<number> {
  const type = flags.values.type as string;
  if (flags.changed.has("type") && type === "") {
    throw new StatusError(`type is empty: must be one of "${ALL_TYPES.join('", "')}"`, 1);
  }
  if (type !== "" && !ALL_TYPES.includes(type)) {
    throw new StatusError(`unknown type: "${type}": must be one of "${ALL_TYPES.join('", "')}"`, 1);
  }
  const size = flags.values.size as boolean;
  return await inspectObjects(
    cli,
    flags.positional,
    flags.values.format as string,
    (name) => fetchObject(cli, name, type, size),
  );
}

/** `docker inspect`. */
export const inspectCommand: CommandSpec = {
  name: "inspect",
  usage: "inspect [OPTIONS] NAME|ID [NAME|ID...]",
  summary: "Return low-level information on Docker objects",
  flags: [
    {
      name: "format",
      short: "f",
      kind: "string",
      description: "Format output using a custom template",
    },
    {
      name: "size",
      short: "s",
      kind: "bool",
      description: "Display total file sizes if the type is container",
    },
    { name: "type", kind: "string", description: "Only inspect objects of the given type" },
  ],
  minArgs: 1,
  run: runInspect,
};

/** `docker container inspect` / `image inspect` / `network inspect`: one kind only. */
export function typedInspectCommand(kind: "container" | "image" | "network"): CommandSpec {
  const usage = kind === "network"
    ? "network inspect [OPTIONS] NETWORK [NETWORK...]"
    : `${kind} inspect [OPTIONS] ${kind.toUpperCase()} [${kind.toUpperCase()}...]`;
  return {
    name: "inspect",
    usage,
    summary: `Display detailed information on one or more ${kind}s`,
    flags: [
      {
        name: "format",
        short: "f",
        kind: "string",
        description: "Format output using a custom template",
      },
      ...(kind === "container"
        ? [{
          name: "size",
          short: "s",
          kind: "bool" as const,
          description: "Display total file sizes",
        }]
        : []),
    ],
    minArgs: 1,
    run: (cli, flags) =>
      inspectObjects(
        cli,
        flags.positional,
        flags.values.format as string,
        (name) => FETCHERS[kind](cli, name, (flags.values.size as boolean | undefined) ?? false),
      ),
  };
}
