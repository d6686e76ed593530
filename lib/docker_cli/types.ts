// What this teaches: the contract between mini-docker's entry point and its commands.
// Every command gets a "CLI" object holding the three standard streams and a lazily
// connected API client, declares its flags and argument counts, and either returns an
// exit status or throws an error that says what to print. Mirrors docker/cli's
// cli/command/cli.go (the Cli interface) and cli/error.go (StatusError).

import type { EngineClient } from "./client/engine.ts";
import type { FlagSpec, ParsedFlags } from "./flags.ts";
import type { InputStream, OutputStream } from "./streams/output.ts";

/** Something that can deliver the process's signals (real ones, or scripted in tests). */
export interface SignalSource {
  /** Calls `handler` with the signal name (e.g. "SIGINT") until the returned function is called. */
  listen(signals: Deno.Signal[], handler: (signal: Deno.Signal) => void): () => void;
}

/** What a command has to work with. */
export interface DockerCli {
  /** The program name used in messages ("mini-docker"). */
  readonly programName: string;
  /** The daemon address in use ("unix:///run/mini-docker.sock"). */
  readonly host: string;
  readonly in: InputStream;
  readonly out: OutputStream;
  readonly err: OutputStream;
  readonly signals: SignalSource;
  readonly debug: boolean;
  /** The API client (created on first use). */
  client(): EngineClient;
}

/** One mini-docker command ("ps", "run", "network ls", ...). */
export interface CommandSpec {
  name: string;
  aliases?: string[];
  /** The usage line after the program name: "ps [OPTIONS]". */
  usage: string;
  summary: string;
  flags: FlagSpec[];
  /** False for commands whose flags end at the first argument (run, exec, create). */
  interspersed?: boolean;
  minArgs?: number;
  maxArgs?: number;
  /** Runs the command; returns the exit status (0 when nothing is returned). */
  run(cli: DockerCli, flags: ParsedFlags): Promise<number | void>;
}

/** A group of commands ("container", "image", "network", "system"). */
export interface CommandGroup {
  name: string;
  summary: string;
  commands: CommandSpec[];
}

/**
 * An error with an exit status; its message is printed to stderr unless empty
 * (docker's cli.StatusError).
 */
export class StatusError extends Error {
  constructor(message: string, readonly exitCode: number) {
    super(message);
    this.name = "StatusError";
  }
}

/** Several errors from a multi-target command (`rm a b`), printed one per line. */
export class JoinedError extends Error {
  constructor(readonly errors: Error[]) {
    super(errors.map((error) => error.message).join("\n"));
    this.name = "JoinedError";
  }
}
