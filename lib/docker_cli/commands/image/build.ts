// What this teaches: `docker build` with the legacy builder is one HTTP request. The CLI
// packs the build context into a tar (see build_context.ts), streams it as the body of
// `POST /build?dockerfile=...&t=...` (chunked, `Content-Type: application/x-tar`), and
// prints the daemon's answer, a stream of JSON messages ({"stream":"Step 1/5 : FROM
// busybox"}, {"stream":" ---> Running in 4f1e..."}, the RUN's own output, {"aux":{"ID":
// "sha256:..."}}), as it arrives. Everything else, parsing the Dockerfile, running each
// RUN in a container, committing layers, the cache, happens in the daemon. A failed step
// arrives as {"errorDetail":{"code":N,...}}: the CLI prints the message and exits with
// that code. With `-q` the daemon sends only the image ID and the CLI prints just that
// (and, on failure, everything it held back, on stderr).
// Mirrors docker/cli's cli/command/image/build.go (runBuild, legacy path) and moby's
// client/image_build.go (imageBuildOptionsToQuery).

import { looksLikeArchive } from "../../../builder/archive_head.ts";
import { parseNormalizedNamed } from "../../../reference/mod.ts";
import type { JsonMessage } from "../../client/types.ts";
import type { FlagSpec, ParsedFlags } from "../../flags.ts";
import { humanSize } from "../../format/units.ts";
import { displayJsonMessages, JsonMessageError } from "../../streams/jsonmessage.ts";
import { MemoryOutput, type OutputStream } from "../../streams/output.ts";
import { type CommandSpec, type DockerCli, StatusError } from "../../types.ts";
import type { PreparedContext } from "./build_context.ts";
import { labelsToMap } from "../container/opts.ts";

// The context code pulls in the tar writer and the .dockerignore matcher (npm packages
// that take a while to load): it is loaded when a build runs, not for every command.
const loadContextCode = () => import("./build_context.ts");

/** `{}` in base64: no registry credentials (the daemon needs them only for private FROMs). */
const EMPTY_REGISTRY_CONFIG = "e30=";
const SENDING = "Sending build context to Docker daemon";

/** Rejects `-t` values that are not image references, as docker's validateTag does. */
function validateTag(value: string): void {
  try {
    parseNormalizedNamed(value);
  } catch (error) {
    const message = (error as Error).message;
    const detail = /repository name .* must be lowercase/.exec(message)?.[0];
    throw new Error(detail ? `invalid reference format: ${detail}` : "invalid reference format");
  }
}

const buildFlags: FlagSpec[] = [
  {
    name: "build-arg",
    kind: "list",
    description: "Set build-time variables",
  },
  { name: "file", short: "f", kind: "string", description: "Name of the Dockerfile" },
  {
    name: "force-rm",
    kind: "bool",
    description: "Always remove intermediate containers",
  },
  {
    name: "iidfile",
    kind: "string",
    description: "Write the image ID to the file",
  },
  { name: "label", kind: "list", description: "Set metadata for an image" },
  { name: "no-cache", kind: "bool", description: "Do not use cache when building the image" },
  {
    name: "pull",
    kind: "bool",
    description: "Always attempt to pull a newer version of the image",
  },
  {
    name: "quiet",
    short: "q",
    kind: "bool",
    description: "Suppress the build output and print image ID on success",
  },
  {
    name: "rm",
    kind: "bool",
    defaultValue: true,
    description: "Remove intermediate containers after a successful build",
  },
  {
    name: "tag",
    short: "t",
    kind: "list",
    description: "Name and optionally a tag in the 'name:tag' format",
    validate: validateTag,
  },
  { name: "target", kind: "string", description: "Set the target build stage to build." },
];

/**
 * `--build-arg K=V` pairs as the query's JSON map; a bare `K` takes $K from the
 * environment when it is set, and is null (the Dockerfile's default) otherwise.
 */
function buildArgsMap(
  values: string[],
  env: (name: string) => string | undefined,
): Record<string, string | null> {
  const result: Record<string, string | null> = {};
  for (const value of values) {
    const equals = value.indexOf("=");
    if (equals === -1) {
      result[value] = env(value) ?? null;
    } else {
      result[value.slice(0, equals)] = value.slice(equals + 1);
    }
  }
  return result;
}

/** What goes up to the daemon: a tar stream and the Dockerfile's name inside it. */
interface ContextUpload {
  body: AsyncIterable<Uint8Array>;
  dockerfile: string;
}

/** Reads stdin far enough to tell a tar from a bare Dockerfile. */
async function readStdinHead(
  cli: DockerCli,
): Promise<{ head: Uint8Array; rest: AsyncIterator<Uint8Array> }> {
  const iterator = cli.in.chunks()[Symbol.asyncIterator]();
  const chunks: Uint8Array[] = [];
  let length = 0;
  while (length < 512) {
    const next = await iterator.next();
    if (next.done) break;
    chunks.push(next.value);
    length += next.value.length;
  }
  const head = new Uint8Array(length);
  let offset = 0;
  for (const chunk of chunks) {
    head.set(chunk, offset);
    offset += chunk.length;
  }
  return { head, rest: iterator };
}

async function readAll(head: Uint8Array, rest: AsyncIterator<Uint8Array>): Promise<Uint8Array> {
  const chunks = [head];
  let length = head.length;
  while (true) {
    const next = await rest.next();
    if (next.done) break;
    chunks.push(next.value);
    length += next.value.length;
  }
  const all = new Uint8Array(length);
  let offset = 0;
  for (const chunk of chunks) {
    all.set(chunk, offset);
    offset += chunk.length;
  }
  return all;
}

/** The bytes already read, then the rest of the stream. */
async function* replay(
  head: Uint8Array,
  rest: AsyncIterator<Uint8Array>,
): AsyncIterable<Uint8Array> {
  yield head;
  while (true) {
    const next = await rest.next();
    if (next.done) return;
    yield next.value;
  }
}

/** `docker build -`: stdin is either a whole context tar or just a Dockerfile. */
async function contextFromStdin(cli: DockerCli, dockerfileFlag: string): Promise<ContextUpload> {
  const { contextTar, DEFAULT_DOCKERFILE_NAME } = await loadContextCode();
  const { head, rest } = await readStdinHead(cli);
  if (looksLikeArchive(head)) {
    return { body: replay(head, rest), dockerfile: dockerfileFlag || DEFAULT_DOCKERFILE_NAME };
  }
  const contents = await readAll(head, rest);
  const prepared: PreparedContext = {
    entries: [{
      header: {
        name: DEFAULT_DOCKERFILE_NAME,
        type: "file",
        mode: 0o600,
        uid: 0,
        gid: 0,
        mtimeSeconds: Math.floor(Date.now() / 1000),
        size: contents.length,
      },
      contents,
    }],
  };
  return { body: contextTar(prepared), dockerfile: DEFAULT_DOCKERFILE_NAME };
}

/** `docker build DIR`: the directory, minus .dockerignore, plus an outside Dockerfile. */
async function contextFromDirectory(
  cli: DockerCli,
  contextPath: string,
  dockerfileFlag: string,
): Promise<ContextUpload> {
  const {
    contextTar,
    hiddenDockerfileName,
    prepareContext,
    readDockerignore,
    resolveLocalContext,
    trimBuildFilesFromExcludes,
  } = await loadContextCode();
  const local = await resolveLocalContext(contextPath, dockerfileFlag);
  const fromStdin = local.relativeDockerfile === "-";
  let extraDockerfile;
  if (fromStdin) {
    const { head, rest } = await readStdinHead(cli);
    extraDockerfile = { name: hiddenDockerfileName(), contents: await readAll(head, rest) };
  } else if (local.outsideDockerfile) {
    extraDockerfile = {
      name: hiddenDockerfileName(),
      contents: await Deno.readFile(local.outsideDockerfile),
    };
  }
  const patterns = await readDockerignore(local.contextDir);
  const excludes = trimBuildFilesFromExcludes(patterns, local.relativeDockerfile, fromStdin);
  const prepared = await prepareContext(local.contextDir, { excludes, extraDockerfile });
  return {
    body: contextTar(prepared),
    dockerfile: prepared.dockerfileName ?? local.relativeDockerfile,
  };
}

/**
 * Counts the bytes as the request body takes them and reports "Sending build context
 * to Docker daemon  4.096kB": redrawn in place on a terminal, once at the end elsewhere
 * (the final line ends "\r\r\n", exactly as docker's progress writer leaves it).
 */
async function* withUploadProgress(
  body: AsyncIterable<Uint8Array>,
  progress: OutputStream,
): AsyncIterable<Uint8Array> {
  let sent = 0;
  let lastDraw = 0;
  const line = () => `${SENDING} ${humanSize(sent).padStart(8)}\r`;
  for await (const chunk of body) {
    sent += chunk.length;
    if (progress.isTerminal && Date.now() - lastDraw > 100) {
      progress.write(line());
      lastDraw = Date.now();
    }
    yield chunk;
  }
  progress.write(`${line()}\r\n`);
}

async function runBuild(cli: DockerCli, flags: ParsedFlags): Promise<number> {
  const contextPath = flags.positional[0];
  const dockerfileFlag = flags.values.file as string;
  const quiet = flags.values.quiet as boolean;
  if (contextPath === "-" && dockerfileFlag === "-") {
    throw new StatusError(
      "invalid argument: can't use stdin for both build context and dockerfile",
      1,
    );
  }
  if (/^(https?|git):\/\/|^git@|^github\.com\//.test(contextPath)) {
    throw new StatusError(
      `unable to prepare context: remote contexts (${contextPath}) are not supported; ` +
        "builds here are offline: pass a local directory or `-` (a tar on stdin)",
      1,
    );
  }
  const upload = contextPath === "-"
    ? await contextFromStdin(cli, dockerfileFlag)
    : await contextFromDirectory(cli, contextPath, dockerfileFlag);

  // With -q the progress and the build output are held back, and shown only on failure.
  const progressOutput = quiet ? new MemoryOutput() : cli.out;
  const buildOutput = quiet ? new MemoryOutput() : cli.out;

  const buildArgs = buildArgsMap(
    flags.values["build-arg"] as string[],
    (name) => Deno.env.get(name),
  );
  const labels = labelsToMap(flags.values.label as string[]);
  const response = await cli.client().request("POST", "/build", {
    query: {
      t: flags.values.tag as string[],
      q: quiet ? "1" : undefined,
      nocache: flags.values["no-cache"] ? "1" : undefined,
      rm: flags.values.rm ? undefined : "0",
      forcerm: flags.values["force-rm"] ? "1" : undefined,
      pull: flags.values.pull ? "1" : undefined,
      dockerfile: upload.dockerfile,
      target: (flags.values.target as string) || undefined,
      buildargs: Object.keys(buildArgs).length > 0 ? JSON.stringify(buildArgs) : undefined,
      labels: Object.keys(labels).length > 0 ? JSON.stringify(labels) : undefined,
      version: "1",
    },
    body: withUploadProgress(upload.body, progressOutput),
    headers: {
      "Content-Type": "application/x-tar",
      "X-Registry-Config": EMPTY_REGISTRY_CONFIG,
    },
  });

  let imageId = "";
  const onAux = (message: JsonMessage) => {
    const id = (message.aux as { ID?: unknown } | undefined)?.ID;
    if (typeof id === "string") imageId = id;
  };
  try {
    await displayJsonMessages(response.body, buildOutput, onAux);
  } catch (error) {
    if (error instanceof JsonMessageError) {
      if (quiet) {
        cli.err.write((progressOutput as MemoryOutput).text());
        cli.err.write((buildOutput as MemoryOutput).text());
      }
      throw new StatusError(error.message, error.code || 1);
    }
    throw error;
  }
  if (quiet) {
    // The daemon's whole answer to q=1 is the image ID: print it as it came.
    const text = (buildOutput as MemoryOutput).text();
    cli.out.write(text);
    if (imageId === "") imageId = text.trim();
  }
  const iidfile = flags.values.iidfile as string;
  if (iidfile !== "") {
    if (imageId === "") {
      throw new StatusError("Server did not provide an image ID. Cannot write iidfile", 1);
    }
    await Deno.writeTextFile(iidfile, imageId);
  }
  return 0;
}

/** `docker build` (`docker image build`). */
export const buildCommand: CommandSpec = {
  name: "build",
  usage: "build [OPTIONS] PATH | -",
  summary: "Build an image from a Dockerfile",
  flags: buildFlags,
  minArgs: 1,
  maxArgs: 1,
  run: runBuild,
};
