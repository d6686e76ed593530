// What this teaches: a trace is only useful if a learner can read it. Each record
// becomes one line: the time since the trace began, then the process, indented by how
// many process hops it is from the CLI, then the step:
//
//      12.4 ms    mini-dockerd[812]           POST /containers/create
//      14.0 ms      mini-containerd[790]      Containers/Create  id=4f1c...
//
// No real component mirrors this (compare `runc --debug` or `ctr --debug`, which log
// one process each).

import type { TraceRecord } from "./types.ts";

/** Width of the indented process column (the deepest process still lines up). */
const PROCESS_COLUMN = 40;

/** The column titles printed above a trace. */
export function traceTitleLine(): string {
  return `${"time".padStart(10)}  ${
    "process[pid], indented by hops from the CLI".padEnd(PROCESS_COLUMN)
  } step`;
}

/** Formats one record; `start` is the trace's time zero (epoch milliseconds). */
export function formatTraceRecord(record: TraceRecord, start: number): string {
  const elapsed = `${(record.t - start).toFixed(1)} ms`.padStart(10);
  const indent = "  ".repeat(Math.min(record.depth, 8));
  const who = `${indent}${record.process}[${record.pid}]`.padEnd(PROCESS_COLUMN);
  const detail = record.detail ? `  ${abbreviateIds(record.detail)}` : "";
  const took = record.took !== undefined ? `  (${record.took.toFixed(1)} ms)` : "";
  return `${elapsed}  ${who} ${abbreviateIds(record.step)}${detail}${took}`;
}

/** 64-hex ids (containers, layers) shortened to 12 digits, as `docker ps` shows them. */
export function abbreviateIds(text: string): string {
  return text.replace(/\b([0-9a-f]{12})[0-9a-f]{52}\b/g, "$1…");
}

/**
 * Prints records as they come, folding a step and its "done" into one line when nothing
 * happened in between (`Containers/Create  (2.3 ms)`), so a call that does nothing
 * worth tracing costs one line, not two. A record is held until the next one arrives
 * or the file has been quiet for a while (`idle()`), or `flush()` at the end.
 */
export class TracePrinter {
  #pending: TraceRecord | undefined;
  #pendingSince = 0;

  constructor(readonly start: number, readonly print: (line: string) => void) {}

  /** Takes the next record in file order. */
  add(record: TraceRecord): void {
    const pending = this.#pending;
    if (
      pending !== undefined && record.took !== undefined && record.pid === pending.pid &&
      record.process === pending.process && record.step === `done ${pending.step}`
    ) {
      this.#pending = undefined;
      const detail = [pending.detail, record.detail].filter(Boolean).join("  ");
      this.print(formatTraceRecord({ ...pending, detail, took: record.took }, this.start));
      return;
    }
    this.flush();
    if (record.took === undefined) {
      this.#pending = record;
      this.#pendingSince = performance.now();
    } else this.print(formatTraceRecord(record, this.start));
  }

  /** Called when no record came for a while: prints the held record once it waited `after` ms. */
  idle(after = 250): void {
    if (this.#pending !== undefined && performance.now() - this.#pendingSince >= after) {
      this.flush();
    }
  }

  /** Prints the record held back, if any. */
  flush(): void {
    if (this.#pending === undefined) return;
    this.print(formatTraceRecord(this.#pending, this.start));
    this.#pending = undefined;
  }
}

/** Parses one line of a trace file; undefined for anything that is not a record. */
export function parseTraceLine(line: string): TraceRecord | undefined {
  if (line.trim() === "") return undefined;
  try {
    const value = JSON.parse(line);
    if (
      typeof value?.t !== "number" || typeof value.process !== "string" ||
      typeof value.step !== "string" || typeof value.depth !== "number"
    ) return undefined;
    return value as TraceRecord;
  } catch {
    return undefined;
  }
}

/**
 * Turns a stream of trace-file bytes into lines as they arrive: a record is only
 * printed once its newline is there (a writer may be halfway through).
 */
export class TraceLineReader {
  #pending = "";
  readonly #decoder = new TextDecoder();

  /** Feeds bytes; returns the complete records they finish. */
  push(bytes: Uint8Array): TraceRecord[] {
    this.#pending += this.#decoder.decode(bytes, { stream: true });
    const lines = this.#pending.split("\n");
    this.#pending = lines.pop() ?? "";
    return lines.map(parseTraceLine).filter((record) => record !== undefined);
  }
}
