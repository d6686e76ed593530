// What this teaches: what a Dockerfile is once parsed. The text becomes a list of
// instructions (keyword, flags, arguments, the line it started on), with line
// continuations joined, comments dropped and the `# escape=` directive honoured; the
// instructions are then cut into stages at each FROM, with the ARGs before the first
// FROM kept apart (they may only be used in FROM lines). Mistakes are caught here,
// before anything runs, and name their line as Docker does:
// `dockerfile parse error line 3: unknown instruction: BOGUS`.
// The tokenizing is done by the dockerfile-ast package (the parser behind the VS Code
// Docker extension); the checks and the stage structure are ours.
// Mirrors moby's (buildkit's) frontend/dockerfile/parser/parser.go and
// instructions/parse.go (Parse, parseFrom, the per-instruction argument checks).

import { DockerfileParser } from "dockerfile-ast";
import {
  DockerfileParseError,
  type Instruction,
  type InstructionFlag,
  type ParsedDockerfile,
  type Stage,
} from "./types.ts";

/** Every instruction the legacy builder knows. */
const KNOWN_INSTRUCTIONS = new Set([
  "FROM",
  "RUN",
  "CMD",
  "LABEL",
  "MAINTAINER",
  "EXPOSE",
  "ENV",
  "ADD",
  "COPY",
  "ENTRYPOINT",
  "VOLUME",
  "USER",
  "WORKDIR",
  "ARG",
  "ONBUILD",
  "STOPSIGNAL",
  "HEALTHCHECK",
  "SHELL",
]);

/** The flags each instruction accepts (anything else is "Unknown flag"). */
const ALLOWED_FLAGS: Record<string, string[]> = {
  FROM: ["platform"],
  COPY: ["from", "chown", "chmod"],
  ADD: ["chown", "chmod"],
  HEALTHCHECK: ["interval", "timeout", "start-period", "retries"],
};

/** Flags that exist only in BuildKit: refused with Docker's own hint. */
const BUILDKIT_ONLY_FLAGS = new Set(["mount", "network", "security", "link", "keep-git-dir"]);

/** The JSON (exec) form: a JSON array of strings, else undefined. */
export function parseJsonForm(text: string): string[] | undefined {
  const trimmed = text.trim();
  if (!trimmed.startsWith("[") || !trimmed.endsWith("]")) return undefined;
  try {
    const value = JSON.parse(trimmed);
    if (Array.isArray(value) && value.every((item) => typeof item === "string")) return value;
  } catch { /* not JSON: the shell form */ }
  return undefined;
}

/** `RUN <<EOF` ... `EOF`: splits heredocs off the arguments. */
function splitHeredocs(content: string): { first: string; heredocs: Instruction["heredocs"] } {
  const lines = content.split("\n");
  const first = lines[0];
  const names = [...first.matchAll(/<<(-?)(["']?)([A-Za-z_][A-Za-z0-9_]*)\2/g)];
  if (names.length === 0 || lines.length === 1) return { first: content, heredocs: [] };
  const heredocs: Instruction["heredocs"] = [];
  let index = 1;
  for (const match of names) {
    const stripTabs = match[1] === "-";
    const name = match[3];
    const body: string[] = [];
    while (
      index < lines.length && (stripTabs ? lines[index].replace(/^\t+/, "") : lines[index]) !== name
    ) {
      body.push(stripTabs ? lines[index].replace(/^\t+/, "") : lines[index]);
      index++;
    }
    if (index >= lines.length) throw new Error(`unterminated heredoc ${name}`);
    index++;
    heredocs.push({ name, body: body.length > 0 ? body.join("\n") + "\n" : "" });
  }
  return { first, heredocs };
}

/** Checks the argument count rules Docker applies per instruction. */
function checkArguments(instruction: Instruction): void {
  const { keyword, arguments: text } = instruction;
  const words = text.trim() === "" ? [] : text.trim().split(/\s+/);
  const fail = (message: string) => {
    throw new DockerfileParseError(instruction.line, message);
  };
  switch (keyword) {
    case "FROM":
      if (words.length !== 1 && !(words.length === 3 && words[1].toUpperCase() === "AS")) {
        fail("FROM requires either one or three arguments");
      }
      if (words.length === 3 && !/^[a-z][a-z0-9-_.]*$/i.test(words[2])) {
        fail(
          `invalid name for build stage: "${
            words[2]
          }", name can't start with a number or contain symbols`,
        );
      }
      break;
    case "COPY":
    case "ADD":
      if (instruction.heredocs.length === 0 && (instruction.json ?? words).length < 2) {
        fail(
          `${keyword} requires at least two arguments, but only one was provided. ` +
            "Destination could not be determined.",
        );
      }
      break;
    case "WORKDIR":
    case "USER":
    case "STOPSIGNAL":
    case "MAINTAINER":
      if (words.length === 0) fail(`${keyword} requires exactly one argument`);
      break;
    case "SHELL":
      if (!instruction.json || instruction.json.length === 0) {
        fail("SHELL requires the arguments to be in JSON form");
      }
      break;
    case "HEALTHCHECK":
      if (words.length === 0) fail("HEALTHCHECK requires an argument");
      if (!["CMD", "NONE"].includes(words[0].toUpperCase())) {
        fail(`Unknown type "${words[0]}" in HEALTHCHECK (try CMD)`);
      }
      break;
    case "CMD":
    case "ENTRYPOINT":
      break;
    default:
      if (words.length === 0 && instruction.heredocs.length === 0) {
        fail(`${keyword} requires at least one argument`);
      }
  }
}

/**
 * Parses a Dockerfile. Throws DockerfileParseError (with the line) for unknown
 * instructions, wrong argument counts, unknown flags and instructions before FROM.
 */
export function parseDockerfile(text: string, name = "Dockerfile"): ParsedDockerfile {
  const document = DockerfileParser.parse(text);
  const escapeCharacter = document.getEscapeCharacter();
  const instructions: Instruction[] = [];
  for (const node of document.getInstructions()) {
    const line = node.getRange().start.line + 1;
    const keyword = node.getKeyword().toUpperCase();
    if (!KNOWN_INSTRUCTIONS.has(keyword)) {
      throw new DockerfileParseError(line, `unknown instruction: ${node.getInstruction()}`);
    }
    const withFlags = node as unknown as {
      getFlags?: () => { getName(): string; getValue(): string | null }[];
    };
    const flags: InstructionFlag[] = (withFlags.getFlags?.() ?? []).map((flag) => ({
      name: flag.getName(),
      value: flag.getValue() ?? undefined,
    }));
    for (const flag of flags) {
      if (BUILDKIT_ONLY_FLAGS.has(flag.name)) {
        throw new DockerfileParseError(
          line,
          `the --${flag.name} option requires BuildKit, which mini's builder does not implement`,
        );
      }
      if (!(ALLOWED_FLAGS[keyword] ?? []).includes(flag.name)) {
        throw new DockerfileParseError(line, `Unknown flag: ${flag.name}`);
      }
      if (flag.value === undefined || flag.value === "") {
        throw new DockerfileParseError(line, `missing a value on flag: ${flag.name}`);
      }
    }
    const content = node.getArgumentsContent() ?? "";
    let split;
    try {
      split = splitHeredocs(content);
    } catch (error) {
      throw new DockerfileParseError(line, (error as Error).message);
    }
    const written = [
      node.getInstruction(),
      ...flags.map((flag) => `--${flag.name}=${flag.value}`),
      split.first,
    ].filter((part) => part !== "").join(" ");
    const instruction: Instruction = {
      keyword,
      line,
      original: written,
      arguments: split.first,
      flags,
      heredocs: split.heredocs,
    };
    const json = parseJsonForm(split.first);
    if (json) instruction.json = json;
    checkArguments(instruction);
    instructions.push(instruction);
  }
  if (instructions.length === 0) {
    throw new Error(`the Dockerfile (${name}) cannot be empty`);
  }

  const metaArgs: Instruction[] = [];
  const stages: Stage[] = [];
  for (const instruction of instructions) {
    if (instruction.keyword === "FROM") {
      const words = instruction.arguments.trim().split(/\s+/);
      const stage: Stage = { index: stages.length, from: instruction, instructions: [] };
      if (words.length === 3) stage.name = words[2].toLowerCase();
      if (stage.name && stages.some((other) => other.name === stage.name)) {
        throw new DockerfileParseError(
          instruction.line,
          `duplicate name ${stage.name}: stage names must be unique`,
        );
      }
      stages.push(stage);
    } else if (stages.length === 0) {
      if (instruction.keyword !== "ARG") throw new Error("no build stage in current context");
      metaArgs.push(instruction);
    } else {
      stages[stages.length - 1].instructions.push(instruction);
    }
  }
  if (stages.length === 0) throw new Error("no build stage in current context");
  return { escapeCharacter, metaArgs, stages };
}
