// What this teaches: `process.terminal: true` in the init: a pty from the container's own
// devpts becomes stdin/stdout/stderr and the controlling terminal of a new session, and
// the primary end travels to the console socket the caller gave (`--console-socket`).
// Mirrors runc's libcontainer/console_linux.go and setupConsole in init_linux.go.

import { closeFile, duplicateTo } from "../../linux/files.ts";
import { setsid } from "../../linux/identity.ts";
import {
  makeControllingTerminal,
  openPseudoTerminal,
  sendFd,
  setWindowSize,
} from "../../linux/terminal.ts";
import type { InitConfig } from "../types.ts";
import { consoleSocketVariable } from "./environment.ts";

/** Creates the container's terminal and sends its primary end to the console socket. */
export function setupConsole(config: InitConfig): void {
  const socketFd = Number(Deno.env.get(consoleSocketVariable));
  if (!Number.isInteger(socketFd)) {
    throw new Error("process.terminal is true but no console socket was passed");
  }
  const terminal = openPseudoTerminal("/dev/ptmx");
  const size = config.process.consoleSize;
  if (size) setWindowSize(terminal.primary, size.height, size.width);
  sendFd(socketFd, terminal.primary, terminal.secondaryPath);
  closeFile(terminal.primary);
  closeFile(socketFd);
  setsid();
  makeControllingTerminal(terminal.secondary);
  for (const stdio of [0, 1, 2]) duplicateTo(terminal.secondary, stdio);
  closeFile(terminal.secondary);
}
