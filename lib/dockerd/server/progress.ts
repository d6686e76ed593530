// What this teaches: long operations (pull, push, load, build) answer with a stream of
// JSON messages, one per line, that the docker CLI redraws as progress bars. Each
// message is a status for an id (a layer's 12-hex short id), optionally with
// progressDetail {current, total} and a preformatted bar "[==>   ] 1.2MB/3.4MB". A
// failure half way cannot change the status code any more (200 went out first), so it
// travels as a message with errorDetail, and the CLI exits non-zero on reading it.
// Mirrors moby's pkg/jsonmessage (JSONMessage, JSONProgress.String), pkg/streamformatter
// and go-units' HumanSize.

import type { Reply, ResponseStream } from "./reply.ts";
import { encodeJson } from "./json.ts";
import { humanSize } from "../../units/mod.ts";

/** One line of a progress stream (moby's JSONMessage). */
export interface JsonMessage {
  status?: string;
  progressDetail?: { current?: number; total?: number };
  progress?: string;
  id?: string;
  stream?: string;
  error?: string;
  errorDetail?: { code?: number; message: string };
  aux?: unknown;
}

/** go-units HumanSize: decimal units, 4 significant digits ("38.91kB", "1.982MB", "115B"). */
export { humanSize };

/** The progress text of moby's JSONProgress.String for a non-terminal (wide) client. */
export function progressBar(current: number, total: number): string {
  if (current <= 0 && total <= 0) return "";
  if (total <= 0) return humanSize(current).padStart(8);
  const percentage = Math.min(50, Math.floor(Math.floor((current / total) * 100) / 2));
  const bar = `[${"=".repeat(percentage)}>${" ".repeat(50 - percentage)}] `;
  const numbers = current > total
    ? humanSize(current).padStart(8)
    : `${humanSize(current).padStart(8)}/${humanSize(total)}`;
  return bar + numbers;
}

/** Writes a JSON-message stream (NDJSON) onto a streaming response. */
export class ProgressWriter {
  #out?: ResponseStream;

  /**
   * Writes onto `out`, or, given a Reply, starts the 200 stream only with the first
   * message: until then a failure can still be answered with a proper status code
   * (dockerd's write-flusher behaves the same way: `docker pull` of an unknown tag
   * gets a plain 404, not a stream with an error in it).
   */
  constructor(private readonly target: ResponseStream | Reply) {
    if ("write" in target) this.#out = target;
  }

  /** True once the 200 and a first message went out. */
  get started(): boolean {
    return this.#out !== undefined;
  }

  /** Aborts when the client hangs up. */
  get closed(): AbortSignal {
    return this.target.closed;
  }

  #stream(): ResponseStream {
    this.#out ??= (this.target as Reply).stream(200, "application/json");
    return this.#out;
  }

  /** Writes one message as a line. */
  async message(message: JsonMessage): Promise<void> {
    await this.#stream().write(encodeJson(message) + "\r\n");
  }

  /** `{"status": ..., "id": ...}` — a plain status line, with `progressDetail: {}` when it has an id. */
  async status(status: string, id?: string): Promise<void> {
    await this.message(id === undefined ? { status } : { status, progressDetail: {}, id });
  }

  /** A status with a progress bar, as "Downloading"/"Extracting"/"Pushing" lines are. */
  async progress(status: string, id: string, current: number, total: number): Promise<void> {
    await this.message({
      status,
      progressDetail: { current, total },
      progress: progressBar(current, total),
      id,
    });
  }

  /** `{"stream": ...}`: build output and `docker load`'s "Loaded image: ..." lines. */
  async stream(text: string): Promise<void> {
    await this.message({ stream: text });
  }

  /** `{"aux": ...}`: machine-readable results (push digest, build image ID). */
  async aux(value: unknown): Promise<void> {
    await this.message({ progressDetail: {}, aux: value });
  }

  /** The mid-stream error the CLI prints and exits non-zero for. */
  async error(message: string, code?: number): Promise<void> {
    await this.message({
      errorDetail: code === undefined ? { message } : { code, message },
      error: message,
    });
  }

  /** Ends the stream (starting it first if nothing was written). */
  async end(): Promise<void> {
    await this.#stream().end();
  }

  /**
   * Reports a failure: as a mid-stream error message when the stream has started,
   * else by rethrowing so that the request gets an error status.
   */
  async fail(error: unknown): Promise<void> {
    if (!this.started) throw error;
    await this.error(error instanceof Error ? error.message : String(error));
    await this.end();
  }
}
