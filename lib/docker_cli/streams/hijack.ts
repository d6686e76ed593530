// What this teaches: what `docker run` does with an attached container's streams once
// the connection is hijacked. Two pumps run at once: the daemon's bytes go to the
// local stdout/stderr (taken apart from their 8-byte frames unless there is a tty),
// and the local stdin goes to the daemon. When stdin ends the client half-closes the
// socket (it can still read), which is how `echo hi | docker run -i busybox cat` lets
// `cat` see end-of-file yet still print. The session is over when the daemon closes
// its side. With a tty, stdin is put in raw mode and Ctrl-P Ctrl-Q detaches.
// Mirrors docker/cli's cli/command/container/hijack.go and moby/term's escape proxy.

import type { HijackedConnection } from "../client/engine.ts";
import type { InputStream, OutputStream } from "./output.ts";
import { Demultiplexer } from "./stdcopy.ts";

/** Ctrl-P Ctrl-Q, docker's default detach sequence. */
export const DEFAULT_DETACH_KEYS = new Uint8Array([16, 17]);

/** The user typed the detach sequence. */
export class DetachedError extends Error {
  constructor() {
    super("read escape sequence");
    this.name = "DetachedError";
  }
}

/** Parses `--detach-keys` ("ctrl-p,ctrl-q", "a,ctrl-@") into bytes. */
export function parseDetachKeys(text: string): Uint8Array {
  const bytes: number[] = [];
  for (const key of text.split(",")) {
    const lower = key.toLowerCase();
    if (lower.length === 1) bytes.push(key.charCodeAt(0));
    else if (/^ctrl-[a-z@\[\\\]^_]$/.test(lower)) {
      const character = lower.slice(5);
      bytes.push(
        character >= "a" && character <= "z"
          ? character.charCodeAt(0) - 96
          : character.toUpperCase().charCodeAt(0) - 64,
      );
    } else throw new Error(`invalid detach keys (${text}): ${key} is not a key`);
  }
  return new Uint8Array(bytes);
}

/** What to connect to the hijacked socket. */
export interface HijackStreams {
  connection: HijackedConnection;
  tty: boolean;
  stdin?: InputStream;
  stdout?: OutputStream;
  stderr?: OutputStream;
  detachKeys?: Uint8Array;
}

/**
 * Watches raw terminal input for the detach sequence; bytes that only start the
 * sequence are held back until it is clear they are not it.
 */
class EscapeWatcher {
  #held: number[] = [];

  constructor(readonly keys: Uint8Array) {}

  /** Returns the bytes to forward, or throws DetachedError. */
  filter(chunk: Uint8Array): Uint8Array {
    const out: number[] = [];
    for (const byte of chunk) {
      if (byte === this.keys[this.#held.length]) {
        this.#held.push(byte);
        if (this.#held.length === this.keys.length) throw new DetachedError();
        continue;
      }
      out.push(...this.#held);
      this.#held = [];
      if (byte === this.keys[0]) this.#held.push(byte);
      else out.push(byte);
    }
    return new Uint8Array(out);
  }
}

/**
 * Pumps the streams until the daemon closes the connection (or, with nothing to
 * read from it, until stdin is done). Rejects with DetachedError on the detach keys.
 */
export async function streamHijacked(streams: HijackStreams): Promise<void> {
  const { connection, tty, stdin, stdout, stderr } = streams;
  const socket = connection.socket;
  const rawInput = stdin !== undefined && tty && stdin.isTerminal;
  if (rawInput) stdin.setRaw(true);
  const restore = () => {
    if (rawInput) stdin.setRaw(false);
  };

  const outputDone = new Promise<void>((resolve, reject) => {
    if (!stdout && !stderr) {
      resolve();
      return;
    }
    const demux = tty ? undefined : new Demultiplexer({
      stdout: (bytes) => stdout?.write(bytes),
      stderr: (bytes) => stderr?.write(bytes),
    });
    let failed = false;
    const accept = async (chunk: Uint8Array) => {
      if (failed) return;
      try {
        if (demux) await demux.push(chunk);
        else stdout?.write(chunk);
      } catch (error) {
        failed = true;
        reject(error);
      }
    };
    let chain = Promise.resolve();
    if (connection.head.length > 0) chain = chain.then(() => accept(connection.head));
    socket.on("data", (chunk: Uint8Array) => {
      chain = chain.then(() => accept(new Uint8Array(chunk)));
    });
    const finish = () => {
      chain.then(() => {
        if (tty) restore();
        resolve();
      });
    };
    socket.once("end", finish);
    socket.once("close", finish);
    // The client paused the socket while it read the 101; flow from here on.
    socket.resume();
  });

  let detached: DetachedError | undefined;
  const inputDone = (async () => {
    if (stdin) {
      const watcher = rawInput
        ? new EscapeWatcher(streams.detachKeys ?? DEFAULT_DETACH_KEYS)
        : undefined;
      try {
        for await (const chunk of stdin.chunks()) {
          if (socket.destroyed || socket.writableEnded) break;
          const bytes = watcher ? watcher.filter(chunk) : chunk;
          if (bytes.length > 0 && !socket.write(bytes)) {
            await new Promise((resolve) => socket.once("drain", resolve));
          }
        }
      } catch (error) {
        if (error instanceof DetachedError) {
          detached = error;
          restore();
          return;
        }
        throw error;
      } finally {
        restore();
      }
    }
    // Half-close: tell the daemon no more input is coming; keep reading its output.
    if (!socket.destroyed && !socket.writableEnded) socket.end();
  })();

  const hasOutput = stdout !== undefined || stderr !== undefined;
  try {
    const first = await Promise.race([
      outputDone.then(() => "output" as const),
      inputDone.then(() => "input" as const),
    ]);
    if (detached) throw detached;
    if (first === "input" && hasOutput) await outputDone;
  } finally {
    restore();
    if (detached) socket.destroy();
  }
  if (detached) throw detached;
}
