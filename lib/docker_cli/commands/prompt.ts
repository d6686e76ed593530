// What this teaches: destructive commands (`prune`) ask "Are you sure you want to
// continue? [y/N]" and read one line; only "y" (any case) goes ahead, and `-f` skips
// the question. Mirrors docker/cli's internal/prompt (Confirm).

import type { DockerCli } from "../types.ts";

/** Asks for confirmation on stdout and reads the answer from stdin. */
export async function confirm(cli: DockerCli, message: string): Promise<boolean> {
  cli.out.write(`${message} [y/N] `);
  const answer = await cli.in.readLine();
  return (answer ?? "").trim().toLowerCase() === "y";
}
