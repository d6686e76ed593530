// What this teaches: what the client sees of a build. Everything is a JSON message on
// one line: `{"stream": "Step 2/5 : RUN ..."}`, the RUN's own output (stderr wrapped in
// the terminal's red, as the legacy builder does), `{"aux": {"ID": ...}}` for the
// result, and on failure `{"errorDetail": ..., "error": ...}`. A base image pulled for
// FROM shows its `docker pull` lines in between ("latest: Pulling from busybox",
// "Downloading [==>  ]"), as the legacy builder passes its progress writer to the
// pull. With `q=1` the daemon
// keeps the messages to itself and sends only the image ID, unless the build fails:
// then the client gets the whole log, so the user can see why.
// Mirrors moby's api/server/router/build/build_routes.go (postBuild, the quiet-mode
// buffer) and pkg/streamformatter (the stream and aux writers).

import type { PullProgress } from "../dockerd/distribution/pull.ts";
import { type JsonMessage, progressBar, type ProgressWriter } from "../dockerd/server/progress.ts";
import type { BuildOutput, ProgressMessage } from "./types.ts";

const RED = "\u001b[91m";
const RESET = "\u001b[0m";

/** A BuildOutput that writes NDJSON messages through the daemon's ProgressWriter. */
export class NdjsonBuildOutput implements BuildOutput {
  readonly #buffered: JsonMessage[] = [];
  readonly #decoder = { stdout: new TextDecoder(), stderr: new TextDecoder() };
  /** True once the build produced output (a failure then travels in the stream). */
  started = false;

  constructor(readonly writer: ProgressWriter, readonly quiet: boolean) {}

  get closed(): AbortSignal {
    return this.writer.closed;
  }

  async stream(text: string): Promise<void> {
    this.started = true;
    if (this.quiet) this.#buffered.push({ stream: text });
    else await this.writer.stream(text);
  }

  async progress(message: ProgressMessage): Promise<void> {
    this.started = true;
    if (this.quiet) this.#buffered.push(message);
    else await this.writer.message(message);
  }

  async processOutput(kind: "stdout" | "stderr", bytes: Uint8Array): Promise<void> {
    const text = this.#decoder[kind].decode(bytes, { stream: true });
    if (text === "") return;
    await this.stream(kind === "stderr" ? `${RED}${text}${RESET}` : text);
  }

  async aux(value: unknown): Promise<void> {
    if (!this.quiet) await this.writer.message({ aux: value });
  }

  /** The end of a successful build: in quiet mode, the image ID alone. */
  async finish(imageId: string): Promise<void> {
    if (this.quiet) await this.writer.stream(`${imageId}\n`);
    await this.writer.end();
  }

  /** The end of a failed build: the log (if held back) and the error message. */
  async failWith(message: string, code?: number): Promise<void> {
    if (this.quiet) {
      for (const message of this.#buffered.splice(0)) await this.writer.message(message);
    }
    await this.writer.error(message, code);
    await this.writer.end();
  }
}

/** A BuildOutput that collects the text (for tests and in-process callers). */
export class CollectingBuildOutput implements BuildOutput {
  readonly lines: string[] = [];
  readonly auxiliary: unknown[] = [];
  readonly #controller = new AbortController();

  get closed(): AbortSignal {
    return this.#controller.signal;
  }

  stream(text: string): Promise<void> {
    this.lines.push(text);
    return Promise.resolve();
  }

  processOutput(kind: "stdout" | "stderr", bytes: Uint8Array): Promise<void> {
    const text = new TextDecoder().decode(bytes);
    return this.stream(kind === "stderr" ? `${RED}${text}${RESET}` : text);
  }

  aux(value: unknown): Promise<void> {
    this.auxiliary.push(value);
    return Promise.resolve();
  }

  /** Kept as the docker CLI prints it: `id: status progress`. */
  progress(message: ProgressMessage): Promise<void> {
    const id = message.id === undefined ? "" : `${message.id}: `;
    const bar = message.progress ? ` ${message.progress}` : "";
    return this.stream(`${id}${message.status}${bar}\n`);
  }

  /** Everything streamed so far, concatenated. */
  get text(): string {
    return this.lines.join("");
  }
}

/** The pull's progress lines (lib/dockerd/distribution/pull.ts) into a build's output. */
export function pullProgressInto(output: BuildOutput): PullProgress {
  return {
    status: (status, id) =>
      output.progress(id === undefined ? { status } : { status, progressDetail: {}, id }),
    progress: (status, id, current, total) =>
      output.progress({
        status,
        progressDetail: { current, total },
        progress: progressBar(current, total),
        id,
      }),
  };
}
