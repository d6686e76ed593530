// What this teaches: how a runtime reports to the program that called it. runc writes
// its log to --log (text, or one JSON object per line with --log-format json), and
// containerd's shim reads the last "error" line of that file to tell the user why
// `create` failed. Fatal errors also go to stderr. Mirrors runc's main.go / utils.go
// (logrus setup, fatal) and the log.json contract go-runc relies on.

/** Log levels, in increasing severity. */
export type LogLevel = "debug" | "info" | "warning" | "error";

const severity: Record<LogLevel, number> = { debug: 0, info: 1, warning: 2, error: 3 };

/** Where and how mini-runc writes its log. */
export interface LoggerOptions {
  /** A file to append to; stderr when absent. */
  path?: string;
  format: "text" | "json";
  debug: boolean;
}

/** runc-compatible logger: text like logrus, or JSON lines {level, msg, time}. */
export class Logger {
  constructor(readonly options: LoggerOptions) {}

  /** Writes one entry when `level` is enabled (debug only with --debug). */
  log(level: LogLevel, message: string): void {
    if (severity[level] < severity[this.options.debug ? "debug" : "info"]) return;
    const time = new Date().toISOString();
    // With --debug, the milliseconds since this process started: where the time goes.
    const text = this.options.debug ? `[${performance.now().toFixed(1)} ms] ${message}` : message;
    const line = this.options.format === "json"
      ? JSON.stringify({ level, msg: text, time })
      : `time="${time}" level=${level} msg=${JSON.stringify(text)}`;
    const bytes = new TextEncoder().encode(line + "\n");
    try {
      if (this.options.path) Deno.writeFileSync(this.options.path, bytes, { append: true });
      else Deno.stderr.writeSync(bytes);
    } catch {
      // A log that cannot be written must not hide the real error.
    }
  }

  debug(message: string): void {
    this.log("debug", message);
  }

  warn(message: string): void {
    this.log("warning", message);
  }

  error(message: string): void {
    this.log("error", message);
  }

  /** Logs the error to the log file (if any) and prints it plainly on stderr. */
  fatal(message: string): void {
    if (this.options.path) this.error(message);
    console.error(`mini-runc: ${message}`);
  }
}
