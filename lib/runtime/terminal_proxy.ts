// What this teaches: when `mini-runc run` is asked for a terminal and nobody else will
// drive it (no --console-socket), the runtime itself receives the pty's primary end and
// copies bytes both ways between it and its own stdin/stdout, with the local terminal in
// raw mode so that keys like Ctrl-C reach the container's shell as characters.
// Mirrors runc's tty.go (tty.recvtty, tty.copyIO) used by `runc run` without -d.

import { closeFile, readFileInBackground, writeAll } from "../linux/files.ts";
import { receiveFd, setWindowSize } from "../linux/terminal.ts";

/** Receives the pty primary end sent by the init over our end of the console socket. */
export function receiveTerminal(consoleSocketFd: number): number {
  const { fd } = receiveFd(consoleSocketFd);
  closeFile(consoleSocketFd);
  return fd;
}

/** Copies stdin → pty and pty → stdout until the pty closes (the container exited). */
export async function proxyTerminal(primary: number): Promise<void> {
  const interactive = Deno.stdin.isTerminal();
  if (interactive) {
    Deno.stdin.setRaw(true);
    const { rows, columns } = Deno.consoleSize();
    setWindowSize(primary, rows, columns);
  }
  (async () => {
    for await (const chunk of Deno.stdin.readable) {
      writeAll(primary, chunk as Uint8Array<ArrayBuffer>);
    }
  })().catch(() => {});
  const buffer = new Uint8Array(32768);
  try {
    for (;;) {
      const count = await readFileInBackground(primary, buffer);
      if (count <= 0) break; // EIO once the last holder of the secondary end is gone
      Deno.stdout.writeSync(buffer.subarray(0, count));
    }
  } finally {
    if (interactive) Deno.stdin.setRaw(false);
  }
}
