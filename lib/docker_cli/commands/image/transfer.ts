// What this teaches: pulling and pushing are done by the daemon, not the CLI. `docker
// pull busybox` normalizes the name (docker.io/library/busybox, tag latest), sends
// `POST /images/create?fromImage=...&tag=...` and renders the progress stream the
// daemon sends back; `docker push` is `POST /images/{name}/push?tag=...`. An
// `X-Registry-Auth` header carries credentials (here always the empty `{}`, base64
// "e30="). `save` streams a tar from `GET /images/get`, `load` streams one to `POST
// /images/load`.
// Mirrors docker/cli's cli/command/image/{pull,push,save,load}.go.

import {
  familiarName,
  formatReference,
  isNameOnly,
  parseNormalizedNamed,
  tagNameOnly,
} from "../../../reference/mod.ts";
import type { JsonMessage } from "../../client/types.ts";
import type { ParsedFlags } from "../../flags.ts";
import { displayJsonMessages } from "../../streams/jsonmessage.ts";
import { MemoryOutput } from "../../streams/output.ts";
import { type CommandSpec, type DockerCli, StatusError } from "../../types.ts";

const EMPTY_AUTH = "e30=";

function parseReferenceLikeDocker(text: string) {
  try {
    return parseNormalizedNamed(text);
  } catch {
    if (text.toLowerCase() !== text) {
      throw new StatusError(
        "invalid reference format: repository name (" + text + ") must be lowercase",
        1,
      );
    }
    throw new StatusError("invalid reference format", 1);
  }
}

async function runPull(cli: DockerCli, flags: ParsedFlags): Promise<number> {
  const quiet = flags.values.quiet as boolean;
  const all = flags.values["all-tags"] as boolean;
  let reference = parseReferenceLikeDocker(flags.positional[0]);
  if (all && !isNameOnly(reference)) {
    throw new StatusError("tag can't be used with --all-tags/-a", 1);
  }
  if (!all && isNameOnly(reference)) {
    reference = tagNameOnly(reference);
    if (!quiet) cli.out.write(`Using default tag: ${reference.tag}\n`);
  }
  const response = await cli.client().request("POST", "/images/create", {
    query: {
      fromImage: `${reference.domain}/${reference.path}`,
      tag: all ? undefined : reference.digest ?? reference.tag,
      platform: (flags.values.platform as string) || undefined,
    },
    headers: { "X-Registry-Auth": EMPTY_AUTH },
  });
  await displayJsonMessages(response.body, quiet ? new MemoryOutput() : cli.out);
  cli.out.write(`${formatReference(reference)}\n`);
  return 0;
}

async function runPush(cli: DockerCli, flags: ParsedFlags): Promise<number> {
  const quiet = flags.values.quiet as boolean;
  const all = flags.values["all-tags"] as boolean;
  let reference = parseReferenceLikeDocker(flags.positional[0]);
  if (all && !isNameOnly(reference)) {
    throw new StatusError("tag can't be used with --all-tags/-a", 1);
  }
  if (!all && isNameOnly(reference)) {
    reference = tagNameOnly(reference);
    if (!quiet) cli.out.write(`Using default tag: ${reference.tag}\n`);
  }
  const response = await cli.client().request("POST", `/images/${familiarName(reference)}/push`, {
    query: { tag: all ? undefined : reference.tag },
    headers: { "X-Registry-Auth": EMPTY_AUTH },
  });
  const ignoreAux = (_message: JsonMessage) => {};
  if (quiet) {
    await displayJsonMessages(response.body, new MemoryOutput(), ignoreAux);
    cli.out.write(`${formatReference(reference)}\n`);
  } else {
    await displayJsonMessages(response.body, cli.out, ignoreAux);
  }
  return 0;
}

async function runSave(cli: DockerCli, flags: ParsedFlags): Promise<number> {
  const output = flags.values.output as string;
  if (output === "" && cli.out.isTerminal) {
    throw new StatusError(
      "cowardly refusing to save to a terminal. Use the -o flag or redirect",
      1,
    );
  }
  const response = await cli.client().request("GET", "/images/get", {
    query: { names: flags.positional },
  });
  if (output === "") {
    for await (const chunk of response.body) cli.out.write(chunk as Uint8Array);
    return 0;
  }
  // Write to a temporary file first and rename it at the end, so a failed save never
  // leaves a truncated archive under the requested name.
  const temporary = `${output}.mini-docker-save-${Deno.pid}`;
  const file = await Deno.open(temporary, {
    write: true,
    create: true,
    truncate: true,
    mode: 0o600,
  });
  try {
    for await (const chunk of response.body) {
      let bytes = chunk as Uint8Array;
      while (bytes.length > 0) bytes = bytes.subarray(await file.write(bytes));
    }
    file.close();
    await Deno.rename(temporary, output);
  } catch (error) {
    try {
      file.close();
    } catch { /* already closed */ }
    await Deno.remove(temporary).catch(() => {});
    throw new StatusError(`failed to save image: ${(error as Error).message}`, 1);
  }
  return 0;
}

async function* fileChunks(file: Deno.FsFile): AsyncIterable<Uint8Array> {
  const buffer = new Uint8Array(256 * 1024);
  try {
    while (true) {
      const count = await file.read(buffer);
      if (count === null) return;
      yield buffer.slice(0, count);
    }
  } finally {
    file.close();
  }
}

async function runLoad(cli: DockerCli, flags: ParsedFlags): Promise<number> {
  const input = flags.values.input as string;
  let body: AsyncIterable<Uint8Array>;
  if (input === "") {
    if (cli.in.isTerminal) {
      throw new StatusError("requested load from stdin, but stdin is empty", 1);
    }
    body = cli.in.chunks();
  } else {
    let file: Deno.FsFile;
    try {
      file = await Deno.open(input);
    } catch (error) {
      throw new StatusError(
        `open ${input}: ${
          error instanceof Deno.errors.NotFound
            ? "no such file or directory"
            : (error as Error).message
        }`,
        1,
      );
    }
    body = fileChunks(file);
  }
  const quiet = (flags.values.quiet as boolean) || !cli.out.isTerminal;
  const response = await cli.client().request("POST", "/images/load", {
    query: { quiet: quiet ? true : undefined },
    body,
    headers: { "Content-Type": "application/x-tar" },
  });
  if (String(response.headers["content-type"] ?? "").includes("application/json")) {
    await displayJsonMessages(response.body, cli.out);
  } else {
    for await (const chunk of response.body) cli.out.write(chunk as Uint8Array);
  }
  return 0;
}

/** `docker pull`. */
export const pullCommand: CommandSpec = {
  name: "pull",
  usage: "pull [OPTIONS] NAME[:TAG|@DIGEST]",
  summary: "Download an image from a registry",
  flags: [
    {
      name: "all-tags",
      short: "a",
      kind: "bool",
      description: "Download all tagged images in the repository",
    },
    {
      name: "platform",
      kind: "string",
      description: "Set platform if server is multi-platform capable",
    },
    { name: "quiet", short: "q", kind: "bool", description: "Suppress verbose output" },
  ],
  minArgs: 1,
  maxArgs: 1,
  run: runPull,
};

/** `docker push`. */
export const pushCommand: CommandSpec = {
  name: "push",
  usage: "push [OPTIONS] NAME[:TAG]",
  summary: "Upload an image to a registry",
  flags: [
    {
      name: "all-tags",
      short: "a",
      kind: "bool",
      description: "Push all tags of an image to the repository",
    },
    { name: "quiet", short: "q", kind: "bool", description: "Suppress verbose output" },
  ],
  minArgs: 1,
  maxArgs: 1,
  run: runPush,
};

/** `docker save`. */
export const saveCommand: CommandSpec = {
  name: "save",
  usage: "save [OPTIONS] IMAGE [IMAGE...]",
  summary: "Save one or more images to a tar archive (streamed to STDOUT by default)",
  flags: [{
    name: "output",
    short: "o",
    kind: "string",
    description: "Write to a file, instead of STDOUT",
  }],
  minArgs: 1,
  run: runSave,
};

/** `docker load`. */
export const loadCommand: CommandSpec = {
  name: "load",
  usage: "load [OPTIONS]",
  summary: "Load an image from a tar archive or STDIN",
  flags: [
    {
      name: "input",
      short: "i",
      kind: "string",
      description: "Read from tar archive file, instead of STDIN",
    },
    { name: "quiet", short: "q", kind: "bool", description: "Suppress the load output" },
  ],
  maxArgs: 0,
  run: runLoad,
};
