// What this teaches: the contracts of an image builder, apart from how it works. A build
// takes a context (a tar of a directory), a Dockerfile inside it and a few options, and
// answers with a stream of messages ("Step 1/5 : FROM busybox", " ---> 74eee1d3762b")
// and, at the end, an image ID. Everything between (parsing, the per-instruction
// dispatch, the cache, running RUN steps in containers) sits behind these types.
// Mirrors moby's api/types/client.go (ImageBuildOptions), builder/builder.go (Backend,
// Source) and the parsed Dockerfile of buildkit's frontend/dockerfile/instructions.

/** What `POST /build` was asked for (moby's ImageBuildOptions, the legacy builder's part). */
export interface BuildOptions {
  /** `t` (repeatable): names to tag the result with, e.g. `web:v1`. */
  tags: string[];
  /** `dockerfile`: the Dockerfile's path inside the context ("Dockerfile" by default). */
  dockerfile: string;
  /** `buildargs` (JSON object): values for ARG instructions; null means "take it from the env". */
  buildArgs: Record<string, string | null>;
  /** `nocache=1`: never reuse a cached step. */
  noCache: boolean;
  /** `pull=1`: pull every base image from its registry, even one that is here already. */
  pull: boolean;
  /** `q=1`: only the image ID is streamed back. */
  quiet: boolean;
  /** `target`: build up to and including this stage. */
  target?: string;
  /** `rm` (default true): remove intermediate containers after a successful step. */
  remove: boolean;
  /** `forcerm=1`: remove intermediate containers even when a step failed. */
  forceRemove: boolean;
  /** `labels` (JSON object): labels added to the final image. */
  labels: Record<string, string>;
  /** `platform`: only the daemon's own platform can be built (no emulation). */
  platform?: string;
}

/** The options a build starts from when the request says nothing. */
export const DEFAULT_BUILD_OPTIONS: BuildOptions = {
  tags: [],
  dockerfile: "Dockerfile",
  buildArgs: {},
  noCache: false,
  pull: false,
  quiet: false,
  remove: true,
  forceRemove: false,
  labels: {},
};

/** What a finished build produced. */
export interface BuildResult {
  /** `sha256:<hex>`: the final image. */
  imageId: string;
  /** The tags set, as the user gave them (`web:v1`). */
  tags: string[];
  /** How many steps were taken from the cache, and how many were built. */
  cachedSteps: number;
  builtSteps: number;
}

/**
 * One progress line of a pull made for FROM: `{"status":"Pulling fs layer","id":"61c5ed1cbdf8"}`,
 * or with a bar: `progressDetail` {current, total} and its text in `progress`.
 */
export interface ProgressMessage {
  status: string;
  id?: string;
  progressDetail?: { current?: number; total?: number };
  progress?: string;
}

/**
 * Where the build's messages go. The daemon's implementation writes NDJSON
 * (`{"stream": "..."}`); tests can collect the lines.
 */
export interface BuildOutput {
  /** A line of build output (the builder adds the trailing newline itself). */
  stream(text: string): Promise<void>;
  /** Output of a RUN step's process: stdout as is, stderr in red as the legacy builder does. */
  processOutput(kind: "stdout" | "stderr", bytes: Uint8Array): Promise<void>;
  /** `{"aux": {"ID": "sha256:..."}}`, sent just before "Successfully built". */
  aux(value: unknown): Promise<void>;
  /** A progress line of a base image being pulled, as `docker pull` streams it. */
  progress(message: ProgressMessage): Promise<void>;
  /** Aborts when the client went away: the build stops at the next step. */
  readonly closed: AbortSignal;
}

/** The Dockerfile could not be parsed; the message names the line (`dockerfile parse error line 3: ...`, Docker's wording). */
export class DockerfileParseError extends Error {
  constructor(readonly line: number, readonly detail: string) {
    super(`dockerfile parse error line ${line}: ${detail}`);
    this.name = "DockerfileParseError";
  }
}

/** A step failed: a RUN's non-zero exit, or any other failure with the message the CLI prints. */
export class BuildStepError extends Error {
  /** `code` is the RUN's exit code, which `errorDetail.code` carries to the CLI. */
  constructor(message: string, readonly code?: number) {
    super(message);
    this.name = "BuildStepError";
  }
}

/** One `--name=value` flag of an instruction (`COPY --from=build`). */
export interface InstructionFlag {
  name: string;
  value: string | undefined;
}

/** One instruction of a Dockerfile, as parsed (before variables are expanded). */
export interface Instruction {
  /** Upper-case keyword: "RUN", "COPY", ... */
  keyword: string;
  /** 1-based line where the instruction starts. */
  line: number;
  /** The instruction as written, continuations joined (what `Step N/M : ...` prints). */
  original: string;
  /** Everything after the keyword and flags, continuations joined. */
  arguments: string;
  flags: InstructionFlag[];
  /** The JSON (exec) form's strings, when the arguments are a JSON string array. */
  json?: string[];
  /** Heredoc bodies (`RUN <<EOF`), in order. */
  heredocs: { name: string; body: string }[];
}

/** One build stage: a FROM and the instructions up to the next FROM. */
export interface Stage {
  /** Position in the Dockerfile, from 0 (what `COPY --from=0` names). */
  index: number;
  /** The `AS name`, lower-cased, if any. */
  name?: string;
  from: Instruction;
  instructions: Instruction[];
}

/** A parsed Dockerfile: the ARGs before the first FROM, and the stages. */
export interface ParsedDockerfile {
  escapeCharacter: string;
  metaArgs: Instruction[];
  stages: Stage[];
}
