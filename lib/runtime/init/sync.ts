// What this teaches: the runtime and its init are two processes that must take turns
// (config, cgroup joined, hooks run, ready). They talk over a socket pair, one JSON
// message per line; a closed socket (EOF) means the other side died. Mirrors runc's
// libcontainer/sync.go (syncT messages over the init pipe).

import { closeFile, readFile, writeAll } from "../../linux/files.ts";
import type { SyncMessage } from "../types.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** One end of the parent/init socket pair, as a raw descriptor. Blocking, synchronous. */
export class SyncChannel {
  #pending = "";
  #closed = false;

  constructor(readonly fd: number) {}

  /** Sends one message. */
  send(message: SyncMessage): void {
    writeAll(this.fd, encoder.encode(JSON.stringify(message) + "\n"));
  }

  /** Waits for the next message; null when the other side closed its end. */
  receive(): SyncMessage | null {
    const buffer = new Uint8Array(65536);
    while (!this.#pending.includes("\n")) {
      const count = readFile(this.fd, buffer);
      if (count === 0) return null;
      this.#pending += decoder.decode(buffer.subarray(0, count), { stream: true });
    }
    const newline = this.#pending.indexOf("\n");
    const line = this.#pending.slice(0, newline);
    this.#pending = this.#pending.slice(newline + 1);
    return JSON.parse(line) as SyncMessage;
  }

  /** Waits for a message of `type`; throws on EOF, on an "error" message, or on surprises. */
  expect<Type extends SyncMessage["type"]>(
    type: Type,
    peer: string,
  ): Extract<SyncMessage, { type: Type }> {
    const message = this.receive();
    if (message === null) throw new Error(`${peer} exited before sending "${type}"`);
    if (message.type === "error") throw new Error(message.message);
    if (message.type !== type) {
      throw new Error(`${peer} sent "${message.type}" where "${type}" was expected`);
    }
    return message as Extract<SyncMessage, { type: Type }>;
  }

  /** Closes this end (idempotent). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    closeFile(this.fd);
  }
}
