// What this teaches: daemons log in a machine-readable line format so operators
// can grep and parse them. containerd logs with logrus in logfmt
// (`time="..." level=info msg="..." key=value`); mini writes the same shape to stderr.

/** Log levels in increasing severity. */
export type LogLevel = "debug" | "info" | "warn" | "error";
const severity: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

/** A logfmt logger with a minimum level. */
export class Logger {
  constructor(private readonly level: LogLevel = "info") {}

  debug(message: string, fields: Record<string, unknown> = {}): void {
    this.#write("debug", message, fields);
  }
  info(message: string, fields: Record<string, unknown> = {}): void {
    this.#write("info", message, fields);
  }
  warn(message: string, fields: Record<string, unknown> = {}): void {
    this.#write("warn", message, fields);
  }
  error(message: string, fields: Record<string, unknown> = {}): void {
    this.#write("error", message, fields);
  }

  #write(level: LogLevel, message: string, fields: Record<string, unknown>): void {
    if (severity[level] < severity[this.level]) return;
    const parts = [`time="${new Date().toISOString()}"`, `level=${level}`, `msg=${quote(message)}`];
    for (const [key, value] of Object.entries(fields)) parts.push(`${key}=${quote(String(value))}`);
    console.error(parts.join(" "));
  }
}

function quote(value: string): string {
  return /^[A-Za-z0-9_./:@+-]+$/.test(value) ? value : JSON.stringify(value);
}
