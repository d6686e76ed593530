// What this teaches: ctr's transfer display. One row per job,
//   layer-sha256:…:   downloading   |++++++++------|  1.2 MiB/3.4 MiB
// aligned in columns, redrawn in place every 100 ms on a terminal (the cursor moves
// up over the previous frame and each line is cleared), and closed by a footer
//   elapsed: 1.2 s    total:  3.5 Ki   (3.0 KiB/s)
// When the output is not a terminal (a log, a pipe, a test), redrawing would leave
// a mess, so each status change is printed once as a plain line instead.
// Mirrors containerd's `cmd/ctr/commands/content/fetch.go` (`ShowProgress`, `Display`),
// `pkg/progress` (`Bar`, `Bytes`, `Writer`) and Go's text/tabwriter alignment.

import type { TransferJob, TransferTracker } from "../registry/progress.ts";

const GREEN = "\x1b[32m";
const RESET = "\x1b[0m";
const BAR_WIDTH = 40;
const REDRAW_INTERVAL_MS = 100;

/** Sizes the way ctr's progress.Bytes prints them: `%02.1f %s` over B, KiB, MiB… */
export function formatProgressBytes(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}

/** `|+++++-----|`, 40 characters wide; the `+` part is green on a terminal. */
export function progressBar(fraction: number, color: boolean): string {
  const clamped = Math.min(1, Math.max(0, Number.isFinite(fraction) ? fraction : 0));
  const inner = BAR_WIDTH - 2;
  const filled = Math.floor(inner * clamped);
  const plus = "+".repeat(filled);
  return `|${color ? GREEN + plus + RESET : plus}${"-".repeat(inner - filled)}|`;
}

/** Go's `%w.pv` for strings: cut to `precision`, then right-align in `width`. */
function goPrecision(text: string, width: number, precision: number): string {
  return text.slice(0, precision).padStart(width);
}

/** One job as ctr's Display writes it: tab-terminated cells. */
function jobCells(job: TransferJob, color: boolean): string[] {
  switch (job.status) {
    case "downloading":
    case "uploading":
      return [
        `${job.key}:`,
        job.status,
        progressBar(job.total > 0 ? job.offset / job.total : 0, color),
        `${goPrecision(formatProgressBytes(job.offset), 8, 8)}/${formatProgressBytes(job.total)}`,
      ];
    case "resolving":
    case "waiting":
      return [`${job.key}:`, job.status, progressBar(0, color)];
    default:
      return [`${job.key}:`, job.status, progressBar(1, color)];
  }
}

/** The footer cells: `elapsed: 1.2 s`, `total:  3.5 Ki`, `(3.0 KiB/s)`. */
function footerCells(elapsedMs: number, totalBytes: number): string[] {
  const seconds = elapsedMs / 1000;
  const rate = seconds > 0 ? totalBytes / seconds : 0;
  return [
    `elapsed: ${seconds.toFixed(1).padEnd(4)}s`,
    `total: ${goPrecision(formatProgressBytes(totalBytes), 7, 6)}`,
    `(${formatProgressBytes(Math.floor(rate))}/s)`,
  ];
}

/**
 * Aligns rows of tab-terminated cells as Go's tabwriter does with ctr's settings
 * (minwidth 1, padding 1, spaces): a column is as wide as its widest cell plus one,
 * over each run of consecutive lines that have that column. Widths count every
 * character, escape codes included, as tabwriter counts bytes.
 */
export function alignColumns(rows: string[][]): string[] {
  const widths = rows.map((row) => row.map(() => 0));
  const columns = Math.max(0, ...rows.map((row) => row.length));
  for (let column = 0; column < columns; column++) {
    let start = 0;
    while (start < rows.length) {
      if (rows[start].length <= column) {
        start++;
        continue;
      }
      let end = start;
      let widest = 0;
      while (end < rows.length && rows[end].length > column) {
        widest = Math.max(widest, rows[end][column].length);
        end++;
      }
      for (let line = start; line < end; line++) widths[line][column] = widest + 1;
      start = end;
    }
  }
  return rows.map((row, line) =>
    row.map((cell, column) => cell.padEnd(widths[line][column])).join("")
  );
}

/** A whole frame: every job, then the footer, aligned as ctr prints it. */
export function renderProgressFrame(
  jobs: TransferJob[],
  elapsedMs: number,
  totalBytes: number,
  color: boolean,
): string {
  const rows = [...jobs.map((job) => jobCells(job, color)), footerCells(elapsedMs, totalBytes)];
  return alignColumns(rows).map((line) => line + "\n").join("");
}

/** One job as a single plain line (for output that is not a terminal). */
export function renderPlainLine(job: TransferJob): string {
  const empty = job.status === "resolving" || job.status === "waiting" ||
    job.status === "downloading" || job.status === "uploading";
  const base = `${job.key}: ${job.status.padEnd(11)} ${progressBar(empty ? 0 : 1, false)}`;
  if (job.status === "done" && job.total > 0) return `${base} ${formatProgressBytes(job.total)}`;
  if ((job.status === "downloading" || job.status === "uploading") && job.total > 0) {
    return `${base} ${formatProgressBytes(job.offset)}/${formatProgressBytes(job.total)}`;
  }
  return base;
}

/** Where the display writes, and whether it is a terminal. */
export interface ProgressOutput {
  write(text: string): void;
  isTerminal: boolean;
}

/** Standard output, as ctr uses it. */
export function stdoutProgressOutput(): ProgressOutput {
  const encoder = new TextEncoder();
  return {
    write: (text) => {
      const bytes = encoder.encode(text);
      let written = 0;
      while (written < bytes.byteLength) written += Deno.stdout.writeSync(bytes.subarray(written));
    },
    isTerminal: Deno.stdout.isTerminal(),
  };
}

/** Shows a TransferTracker's jobs until stopped. */
export class ProgressDisplay {
  #timer?: ReturnType<typeof setInterval>;
  #linesOnScreen = 0;

  constructor(
    private readonly tracker: TransferTracker,
    private readonly output: ProgressOutput = stdoutProgressOutput(),
  ) {}

  /** Starts redrawing (terminal) or printing status changes (plain output). */
  start(): void {
    if (this.output.isTerminal) {
      this.#timer = setInterval(() => this.draw(), REDRAW_INTERVAL_MS);
      return;
    }
    this.tracker.listen((job, statusChanged) => {
      if (statusChanged) this.output.write(renderPlainLine(job) + "\n");
    });
  }

  /** Draws the last frame (terminal) or the footer (plain output) and stops. */
  stop(): void {
    if (this.#timer !== undefined) {
      clearInterval(this.#timer);
      this.#timer = undefined;
      this.draw();
      return;
    }
    if (!this.output.isTerminal) {
      const elapsed = performance.now() - this.tracker.startedAt;
      const footer = footerCells(elapsed, this.tracker.transferredBytes());
      this.output.write(footer.join(" ") + "\n");
    }
  }

  /** Replaces the frame on screen with the current one (what the timer does every 100 ms). */
  draw(): void {
    const frame = renderProgressFrame(
      this.tracker.jobs(),
      performance.now() - this.tracker.startedAt,
      this.tracker.transferredBytes(),
      true,
    );
    const clear = "\x1b[1A\x1b[2K\r".repeat(this.#linesOnScreen);
    this.output.write(clear + frame);
    this.#linesOnScreen = frame.split("\n").length - 1;
  }
}

/** Go's time.Duration formatting, as ctr prints `done: 66.318624ms`. */
export function formatGoDuration(milliseconds: number): string {
  const trim = (text: string) => text.replace(/\.?0+$/, "");
  if (milliseconds < 1) return `${trim((milliseconds * 1000).toFixed(3))}µs`;
  if (milliseconds < 1000) return `${trim(milliseconds.toFixed(6))}ms`;
  return `${trim((milliseconds / 1000).toFixed(9))}s`;
}
