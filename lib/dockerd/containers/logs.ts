// What this teaches: `docker logs` reads a file, not the container. The json-file log
// driver keeps one JSON object per line of output in `containers/<id>/<id>-json.log`:
//   {"log":"hello\n","stream":"stdout","time":"2026-11-28T06:38:48.542423219Z"}
// (here the shim writes it, so output is logged even while dockerd is down). `--tail N`
// reads the file backwards until it has N lines, `--since`/`--until` compare the
// times, `--timestamps` puts the time in front of each line, and `--follow` keeps
// reading what is appended until the container stops. The client gets the lines
// framed per stream (the 8-byte stdcopy header) unless the container has a tty.
// Mirrors moby's daemon/logs.go (ContainerLogs), daemon/logger/jsonfilelog/read.go
// (decoding, tail) and daemon/logger/loggerutils/follow.go.

import type { Container } from "./container.ts";
import { timestampNanos } from "./time.ts";

/** One decoded log line. */
export interface LogEntry {
  stream: "stdout" | "stderr";
  /** The line as it was written (with its newline). */
  line: string;
  /** RFC 3339 time the shim logged it. */
  time: string;
}

/** What `GET /containers/{id}/logs` asks for. */
export interface LogOptions {
  stdout: boolean;
  stderr: boolean;
  follow: boolean;
  /** Last N lines; undefined for all. */
  tail?: number;
  timestamps: boolean;
  /** Only lines at or after this time (nanoseconds since the epoch). */
  since?: bigint;
  /** Only lines before this time. */
  until?: bigint;
}

const FOLLOW_POLL_MS = 100;
const CHUNK = 64 * 1024;

function decode(line: string): LogEntry | undefined {
  try {
    const record = JSON.parse(line) as { log?: string; stream?: string; time?: string };
    if (typeof record.log !== "string") return undefined;
    return {
      stream: record.stream === "stderr" ? "stderr" : "stdout",
      line: record.log,
      time: record.time ?? "",
    };
  } catch {
    return undefined; // a line cut by a crash
  }
}

/** The byte offset where the last `lines` lines of the file begin (reading backwards). */
async function tailOffset(file: Deno.FsFile, size: number, lines: number): Promise<number> {
  if (lines <= 0) return size;
  let position = size;
  let newlines = 0;
  const buffer = new Uint8Array(CHUNK);
  // The file ends with a newline; the one ending the last line does not start a line.
  let skipLast = true;
  while (position > 0) {
    const length = Math.min(CHUNK, position);
    position -= length;
    await file.seek(position, Deno.SeekMode.Start);
    let read = 0;
    while (read < length) {
      const count = await file.read(buffer.subarray(read, length));
      if (count === null) break;
      read += count;
    }
    for (let index = read - 1; index >= 0; index--) {
      if (buffer[index] !== 0x0a) continue;
      if (skipLast && position + index === size - 1) {
        skipLast = false;
        continue;
      }
      newlines++;
      if (newlines === lines) return position + index + 1;
    }
    skipLast = false;
  }
  return 0;
}

function wanted(entry: LogEntry, options: LogOptions): boolean {
  if (entry.stream === "stdout" && !options.stdout) return false;
  if (entry.stream === "stderr" && !options.stderr) return false;
  if (options.since !== undefined || options.until !== undefined) {
    const time = timestampNanos(entry.time);
    if (options.since !== undefined && time < options.since) return false;
    if (options.until !== undefined && time >= options.until) return false;
  }
  return true;
}

/** Opens the log; with `follow`, waits for it to appear while the container runs. */
async function openLog(
  container: Container,
  follow: boolean,
  signal: AbortSignal,
): Promise<Deno.FsFile | undefined> {
  while (true) {
    try {
      return await Deno.open(container.logPath, { read: true });
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
    if (!follow || signal.aborted || !container.state.running) return undefined;
    await new Promise((resolve) => setTimeout(resolve, FOLLOW_POLL_MS));
  }
}

/**
 * The container's log lines as asked for. With `follow`, keeps yielding appended lines
 * until the container is no longer running (or `signal` aborts).
 */
export async function* readContainerLogs(
  container: Container,
  options: LogOptions,
  signal: AbortSignal,
): AsyncGenerator<LogEntry> {
  const file = await openLog(container, options.follow, signal);
  if (!file) return;
  const decoder = new TextDecoder();
  try {
    const size = (await file.stat()).size;
    let position = options.tail === undefined ? 0 : await tailOffset(file, size, options.tail);
    await file.seek(position, Deno.SeekMode.Start);
    let pending = "";
    const buffer = new Uint8Array(CHUNK);
    // Reads what the file holds from `position` on; yields complete lines only.
    const drain = async function* (): AsyncGenerator<LogEntry> {
      while (true) {
        const count = await file.read(buffer);
        if (count === null) return;
        position += count;
        pending += decoder.decode(buffer.subarray(0, count), { stream: true });
        let newline = pending.indexOf("\n");
        while (newline >= 0) {
          const entry = decode(pending.slice(0, newline));
          pending = pending.slice(newline + 1);
          if (entry && wanted(entry, options)) yield entry;
          newline = pending.indexOf("\n");
        }
      }
    };
    yield* drain();
    if (!options.follow) return;
    while (!signal.aborted) {
      const running = container.state.running;
      await new Promise((resolve) => setTimeout(resolve, FOLLOW_POLL_MS));
      yield* drain();
      // One more read after the container stopped catches its last lines.
      if (!running) return;
      if (options.until !== undefined && BigInt(Date.now()) * 1_000_000n >= options.until) return;
    }
  } finally {
    try {
      file.close();
    } catch { /* already closed */ }
  }
}
