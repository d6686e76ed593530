// What this teaches: a daemon that writes where a client tells it to is a classic
// hole. mini-dockerd runs as root; if it appended to any path a request named, a
// client could send `mini-trace: depth=1; file=/etc/passwd` and have root write lines
// into it. So a daemon only appends to a file that
//   - is named `<trace root>/<one directory>/trace.jsonl` (no `..`, no other shape),
//   - where the trace root (default /run/mini-trace, set by each process's own
//     environment, never by a request) is a real directory owned by root (or by us)
//     that nobody else may write to,
//   - and the file is a regular file (not a symlink, FIFO or device) with one link
//     (a hard link to /etc/passwd would otherwise look regular),
// and it checks, after every open, that it opened that same inode. Files are opened
// for each record and closed again: nothing outlives a request, and a trace file the
// CLI already removed simply stops receiving records.
// Every record is one write() of one line to an O_APPEND file, so lines from several
// processes never interleave (POSIX appends are atomic for a single write).
// No real component mirrors this; see docs/course/12-tracing-a-container.md.

import { formatTraceRecord } from "./pretty.ts";
import {
  DEFAULT_TRACE_ROOT,
  TRACE_FILE_NAME,
  TRACE_ROOT_VARIABLE,
  TRACE_START_VARIABLE,
  type TraceRecord,
  type TraceSink,
} from "./types.ts";

/** A trace path was refused; the message says which rule it broke. */
export class TracePathRefused extends Error {
  override name = "TracePathRefused";

  /** True when the file is simply gone (its CLI finished): not worth a warning. */
  constructor(message: string, readonly missing = false) {
    super(message);
  }
}

/** The trace root of this process: $MINI_TRACE_ROOT, else /run/mini-trace. */
export function traceRoot(): string {
  const configured = Deno.env.get(TRACE_ROOT_VARIABLE);
  return configured && configured.startsWith("/")
    ? configured.replace(/\/+$/, "")
    : DEFAULT_TRACE_ROOT;
}

/** The identity of a validated trace file. */
export interface TraceFileIdentity {
  path: string;
  dev: number;
  ino: number;
}

/**
 * Checks that `path` is a trace file this process may append to (the rules above);
 * throws TracePathRefused otherwise.
 */
export function validateTracePath(path: string, root = traceRoot()): TraceFileIdentity {
  const parts = path.split("/");
  const rootParts = root.split("/");
  const shapeOk = path.startsWith(root + "/") &&
    parts.length === rootParts.length + 2 &&
    parts.at(-1) === TRACE_FILE_NAME &&
    !parts.slice(rootParts.length).some((part) => part === "" || part === "." || part === "..");
  if (!shapeOk) {
    throw new TracePathRefused(
      `trace file ${JSON.stringify(path)} is not of the form ${root}/<dir>/${TRACE_FILE_NAME}`,
    );
  }
  const rootInfo = lstatOrRefuse(root, "trace root");
  const ownUid = Deno.uid();
  if (!rootInfo.isDirectory || (rootInfo.uid !== 0 && rootInfo.uid !== ownUid)) {
    throw new TracePathRefused(`trace root ${root} is not a directory owned by root`);
  }
  if (((rootInfo.mode ?? 0) & 0o022) !== 0) {
    throw new TracePathRefused(`trace root ${root} is writable by others`);
  }
  const directory = path.slice(0, path.lastIndexOf("/"));
  const directoryInfo = lstatOrRefuse(directory, "trace directory");
  if (!directoryInfo.isDirectory) {
    throw new TracePathRefused(`${directory} is not a directory`);
  }
  const fileInfo = lstatOrRefuse(path, "trace file");
  if (!fileInfo.isFile || fileInfo.isSymlink) {
    throw new TracePathRefused(`${path} is not a regular file`);
  }
  if ((fileInfo.nlink ?? 1) !== 1) {
    throw new TracePathRefused(`${path} has more than one link`);
  }
  return { path, dev: fileInfo.dev, ino: fileInfo.ino ?? 0 };
}

function lstatOrRefuse(path: string, what: string): Deno.FileInfo {
  try {
    return Deno.lstatSync(path);
  } catch (error) {
    const missing = error instanceof Deno.errors.NotFound;
    throw new TracePathRefused(`${what} ${path}: ${(error as Error).message}`, missing);
  }
}

const encoder = new TextEncoder();

/** Appends records to a validated trace file, one open-write-close per record. */
export class FileSink implements TraceSink {
  #broken = false;

  constructor(readonly identity: TraceFileIdentity) {}

  /** Validates `path` and returns a sink for it; throws TracePathRefused. */
  static open(path: string): FileSink {
    return new FileSink(validateTracePath(path));
  }

  write(record: TraceRecord): void {
    if (this.#broken) return;
    let file: Deno.FsFile | undefined;
    try {
      file = Deno.openSync(this.identity.path, { append: true });
      const info = file.statSync();
      if (info.ino !== this.identity.ino || info.dev !== this.identity.dev || !info.isFile) {
        // The path now names another file: stop writing rather than write there.
        this.#broken = true;
        return;
      }
      file.writeSync(encoder.encode(JSON.stringify(record) + "\n"));
    } catch {
      // The CLI removed its trace (it finished): nothing to report to.
      this.#broken = true;
    } finally {
      file?.close();
    }
  }
}

/** Prints records on stderr: a process traced on its own (`mini-runc --trace`, MINI_TRACE=1). */
export class StderrSink implements TraceSink {
  readonly #start = stderrTraceStart();

  write(record: TraceRecord): void {
    try {
      Deno.stderr.writeSync(encoder.encode(formatTraceRecord(record, this.#start) + "\n"));
    } catch { /* stderr is gone */ }
  }
}

/**
 * Time zero for stderr traces: the oldest process's start, handed down in
 * MINI_TRACE_START so that a runtime and its init print on one clock.
 */
export function stderrTraceStart(): number {
  const inherited = Number(Deno.env.get(TRACE_START_VARIABLE));
  if (Number.isFinite(inherited) && inherited > 0) return inherited;
  Deno.env.set(TRACE_START_VARIABLE, String(performance.timeOrigin));
  return performance.timeOrigin;
}
