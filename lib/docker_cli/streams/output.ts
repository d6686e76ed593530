// What this teaches: a CLI writes to two file descriptors and has to know whether each
// is a terminal: docker redraws pull progress in place only on a terminal, refuses to
// `save` a tar onto one, and puts it in raw mode for `run -it`. Writes are synchronous
// so stdout and stderr lines come out in the order the program produced them.
// Mirrors docker/cli's cli/streams (Out, In) and moby/term.

/** One output stream (stdout or stderr). */
export interface OutputStream {
  write(data: Uint8Array | string): void;
  readonly isTerminal: boolean;
  /** Terminal size as [rows, columns]; [0, 0] when not a terminal. */
  size(): [number, number];
}

const encoder = new TextEncoder();

/** An OutputStream over a Deno file (stdout/stderr). */
export class FileOutput implements OutputStream {
  readonly isTerminal: boolean;

  constructor(readonly file: typeof Deno.stdout) {
    this.isTerminal = file.isTerminal();
  }

  write(data: Uint8Array | string): void {
    let bytes = typeof data === "string" ? encoder.encode(data) : data;
    while (bytes.length > 0) {
      try {
        const written = this.file.writeSync(bytes);
        bytes = bytes.subarray(written);
      } catch (error) {
        // A reader that went away (`mini-docker logs x | head`) is not an error worth a trace.
        if (error instanceof Deno.errors.BrokenPipe) return;
        throw error;
      }
    }
  }

  size(): [number, number] {
    if (!this.isTerminal) return [0, 0];
    try {
      const { rows, columns } = Deno.consoleSize();
      return [rows, columns];
    } catch {
      return [0, 0];
    }
  }
}

/** An OutputStream that collects text in memory (tests, `-q` that discards). */
export class MemoryOutput implements OutputStream {
  readonly chunks: Uint8Array[] = [];

  constructor(readonly isTerminal = false, readonly terminalSize: [number, number] = [0, 0]) {}

  write(data: Uint8Array | string): void {
    this.chunks.push(typeof data === "string" ? encoder.encode(data) : data.slice());
  }

  size(): [number, number] {
    return this.terminalSize;
  }

  /** Everything written, as text. */
  text(): string {
    return new TextDecoder().decode(concat(this.chunks));
  }
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const total = chunks.reduce((sum, chunk) => sum + chunk.length, 0);
  const result = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    result.set(chunk, offset);
    offset += chunk.length;
  }
  return result;
}

/** The input stream (stdin). */
export interface InputStream {
  readonly isTerminal: boolean;
  /** Chunks until end of input. */
  chunks(): AsyncIterable<Uint8Array>;
  /** Puts the terminal in raw mode (no echo, no line editing, no signals); no-op otherwise. */
  setRaw(raw: boolean): void;
  /** Reads one line (for confirmation prompts); undefined at end of input. */
  readLine(): Promise<string | undefined>;
}

/** The process's real stdin. */
export class StdinInput implements InputStream {
  readonly isTerminal = Deno.stdin.isTerminal();
  #raw = false;

  async *chunks(): AsyncIterable<Uint8Array> {
    const buffer = new Uint8Array(32 * 1024);
    while (true) {
      const count = await Deno.stdin.read(buffer);
      if (count === null) return;
      yield buffer.slice(0, count);
    }
  }

  setRaw(raw: boolean): void {
    if (!this.isTerminal || raw === this.#raw) return;
    Deno.stdin.setRaw(raw, { cbreak: false });
    // Deno's raw mode leaves output post-processing (OPOST) on, so the terminal would
    // turn the container's "\r\n" into "\r\r\n". docker's MakeRaw clears it too; stty
    // does that here, on the same terminal (stdin), only for `-it` sessions.
    try {
      new Deno.Command("stty", {
        args: [raw ? "-opost" : "opost"],
        stdin: "inherit",
        stdout: "null",
        stderr: "null",
      }).outputSync();
    } catch { /* no stty: output keeps its extra carriage returns */ }
    this.#raw = raw;
  }

  async readLine(): Promise<string | undefined> {
    const decoder = new TextDecoder();
    let line = "";
    const byte = new Uint8Array(1);
    while (true) {
      const count = await Deno.stdin.read(byte);
      if (count === null) return line === "" ? undefined : line;
      const character = decoder.decode(byte);
      if (character === "\n") return line;
      line += character;
    }
  }
}

/** Scripted stdin for tests. */
export class MemoryInput implements InputStream {
  #lines: string[];

  constructor(readonly data: Uint8Array = new Uint8Array(), readonly isTerminal = false) {
    this.#lines = new TextDecoder().decode(data).split("\n");
  }

  async *chunks(): AsyncIterable<Uint8Array> {
    if (this.data.length > 0) yield this.data;
  }

  setRaw(): void {}

  readLine(): Promise<string | undefined> {
    return Promise.resolve(this.#lines.length > 0 ? this.#lines.shift() : undefined);
  }
}
