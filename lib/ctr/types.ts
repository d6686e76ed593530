// What this teaches: the shape of a ctr-like command line: global flags, then a
// command group (`images`, `content`, ...), then a subcommand. Mirrors containerd's
// `cmd/ctr/app/main.go`, built on urfave/cli.

import type { ContainerdClient } from "../client/client.ts";

/** What every command gets: a connected client and the global flags. */
export interface CtrContext {
  client: ContainerdClient;
  address: string;
  namespace: string;
}

/** One top-level command (or command group) of mini-ctr. */
export interface CtrCommand {
  name: string;
  aliases: string[];
  /** One line for the help listing. */
  summary: string;
  /** Runs the command with the arguments after its name; returns the exit code. */
  run(args: string[], context: CtrContext): Promise<number>;
  /** A group's subcommands (absent for a single command such as `run`). */
  subcommands?: CtrSubcommand[];
  /** The full `--help` text of a single command; a default is built from the summary. */
  usage?: string;
  /**
   * Set when the arguments after the first positional are a process's command line
   * (`run IMAGE ID sh --help`): the flags that may come before it (see help.ts).
   */
  leadingFlags?: readonly FlagSpec[];
}

/** A subcommand inside a group (`images ls`). */
export interface CtrSubcommand {
  name: string;
  aliases: string[];
  /** One line for the group's listing; "what: syntax" also gives the usage line. */
  summary: string;
  run(args: string[], context: CtrContext): Promise<number>;
  /** The full `--help` text; a default is built from the summary. */
  usage?: string;
  /**
   * Set when the arguments after the first positional are a process's command line
   * (`tasks exec ID sh --help`): the flags that may come before it, so that only a
   * `--help` among them is the subcommand's own (see help.ts).
   */
  leadingFlags?: readonly FlagSpec[];
}

/** One flag a command accepts: boolean, or taking a value (repeatable with `multiple`). */
export interface FlagSpec {
  name: string;
  short?: string;
  aliases?: string[];
  takesValue?: boolean;
  multiple?: boolean;
}

/** An error to show the user as-is, with exit code 1 (ctr prints `ctr: <message>`). */
export class UsageError extends Error {}
