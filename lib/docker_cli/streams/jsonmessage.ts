// What this teaches: `docker pull` and `docker push` get their progress as a stream of
// JSON objects, one per line ({"status":"Downloading","id":"be2dd558ead5",
// "progressDetail":{"current":115,"total":115}}). On a terminal the CLI keeps one line
// per layer ID and redraws it in place with cursor-movement escapes (up N lines, erase
// line, write, down N lines); into a pipe or file it prints only the status changes, so
// logs stay readable. A message with "errorDetail" ends the stream with that error.
// Mirrors moby's pkg/jsonmessage/jsonmessage.go (DisplayJSONMessagesStream).

import type { JsonMessage } from "../client/types.ts";
import { humanSize } from "../format/units.ts";
import type { OutputStream } from "./output.ts";

/** The daemon reported an error inside the stream. */
export class JsonMessageError extends Error {
  constructor(message: string, readonly code?: number) {
    super(message);
    this.name = "JsonMessageError";
  }
}

const ESCAPE = "\x1b[";

/** The progress text after a status: "[=====>    ]  1.2MB/2.4MB 3s". */
export function progressString(
  detail: NonNullable<JsonMessage["progressDetail"]>,
  width: number,
  now: number = Date.now(),
): string {
  const current = detail.current ?? 0;
  const total = detail.total ?? 0;
  if (current <= 0 && total <= 0) return "";
  if (total <= 0) {
    return detail.units ? `${current} ${detail.units}` : humanSize(current).padStart(8);
  }
  const percentage = Math.min(50, Math.trunc(Math.trunc((current / total) * 100) / 2));
  let bar = "";
  if (width > 110) {
    bar = `[${"=".repeat(percentage)}>${" ".repeat(Math.max(0, 50 - percentage))}] `;
  }
  let numbers = "";
  if (!detail.hidecounts) {
    if (!detail.units) {
      numbers = current > total
        ? humanSize(current).padStart(8)
        : `${humanSize(current).padStart(8)}/${humanSize(total)}`;
    } else {
      numbers = current > total
        ? `${current} ${detail.units}`
        : `${current}/${total} ${detail.units}`;
    }
  }
  let timeLeft = "";
  if (width > 50 && current > 0 && (detail.start ?? 0) > 0 && percentage < 50) {
    const elapsedMs = now - (detail.start ?? 0) * 1000;
    const leftSeconds = Math.round(((total - current) * elapsedMs / current) / 1000);
    timeLeft = ` ${goDuration(leftSeconds)}`;
  }
  return bar + numbers + timeLeft;
}

/** Go's time.Duration.String() for whole seconds: "0s", "45s", "2m5s", "1h0m3s". */
function goDuration(seconds: number): string {
  if (seconds <= 0) return "0s";
  const hours = Math.trunc(seconds / 3600);
  const minutes = Math.trunc((seconds % 3600) / 60);
  const rest = seconds % 60;
  if (hours > 0) return `${hours}h${minutes}m${rest}s`;
  if (minutes > 0) return `${minutes}m${rest}s`;
  return `${rest}s`;
}

/** Go's RFC3339NanoFixed: "2006-01-02T15:04:05.000000000Z". */
function rfc3339NanoFixed(nanoseconds: bigint): string {
  const milliseconds = Number(nanoseconds / 1_000_000n);
  const base = new Date(milliseconds).toISOString().slice(0, 19);
  const fraction = (nanoseconds % 1_000_000_000n).toString().padStart(9, "0");
  return `${base}.${fraction}Z`;
}

/** Writes one message; returns false when it is hidden (progress bars off a terminal). */
function display(message: JsonMessage, out: OutputStream, isTerminal: boolean): void {
  if (message.errorDetail) {
    throw new JsonMessageError(message.errorDetail.message ?? "", message.errorDetail.code);
  }
  const hasProgress = message.progressDetail !== undefined && message.progressDetail !== null;
  const width = out.size()[1] || 200;
  const progress = hasProgress ? progressString(message.progressDetail!, width) : "";
  let lineEnd = "";
  if (isTerminal && !message.stream && hasProgress) {
    out.write(`${ESCAPE}2K`);
    lineEnd = "\r";
    out.write(lineEnd);
  } else if (hasProgress && progress !== "") {
    return; // progress bars only make sense where they can be redrawn
  }
  let text = "";
  const timeNano = (message as { timeNano?: number }).timeNano;
  if (timeNano) text += `${rfc3339NanoFixed(BigInt(timeNano))} `;
  else if (message.time) text += `${rfc3339NanoFixed(BigInt(message.time) * 1_000_000_000n)} `;
  if (message.id) text += `${message.id}: `;
  if (message.from) text += `(from ${message.from}) `;
  const status = message.status ?? "";
  if (hasProgress && isTerminal) text += `${status} ${progress}${lineEnd}`;
  else if (message.progress) text += `${status} ${message.progress}${lineEnd}`;
  else if (message.stream) text += `${message.stream}${lineEnd}`;
  else text += `${status}${lineEnd}\n`;
  out.write(text);
}

/** Splits a byte stream into decoded JSON messages (one per line). */
export async function* readJsonMessages(
  chunks: AsyncIterable<Uint8Array>,
): AsyncIterable<JsonMessage> {
  const decoder = new TextDecoder();
  let pending = "";
  for await (const chunk of chunks) {
    pending += decoder.decode(chunk, { stream: true });
    let newline: number;
    while ((newline = pending.indexOf("\n")) !== -1) {
      const line = pending.slice(0, newline).trim();
      pending = pending.slice(newline + 1);
      if (line !== "") yield JSON.parse(line) as JsonMessage;
    }
  }
  pending += decoder.decode();
  if (pending.trim() !== "") yield JSON.parse(pending.trim()) as JsonMessage;
}

/**
 * Renders a progress stream like docker: per-ID lines redrawn in place on a terminal,
 * plain status lines otherwise. `onAux` receives messages with an "aux" payload.
 * Throws JsonMessageError when the stream carries an error.
 */
export async function displayJsonMessages(
  chunks: AsyncIterable<Uint8Array>,
  out: OutputStream,
  onAux?: (message: JsonMessage) => void,
): Promise<void> {
  const isTerminal = out.isTerminal;
  let lines = new Map<string, number>();
  for await (const message of readJsonMessages(chunks)) {
    if (message.aux !== undefined && message.aux !== null) {
      onAux?.(message);
      continue;
    }
    let difference = 0;
    const hasProgress = message.progressDetail !== undefined && message.progressDetail !== null;
    if (message.id && (hasProgress || message.progress)) {
      let line = lines.get(message.id);
      if (line === undefined) {
        line = lines.size;
        lines.set(message.id, line);
        if (isTerminal) out.write("\n");
      }
      difference = lines.size - line;
      if (isTerminal) out.write(`${ESCAPE}${difference}A`);
    } else {
      lines = new Map();
    }
    try {
      display(message, out, isTerminal);
    } finally {
      if (message.id && isTerminal && difference > 0) out.write(`${ESCAPE}${difference}B`);
    }
  }
}
