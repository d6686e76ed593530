// What this teaches: `docker logs` first inspects the container to learn whether it
// has a tty (then the log is one raw stream), and then reads `GET /containers/{id}/logs`
// with stdout and stderr framed (8-byte headers) so they can be split back onto the
// CLI's own stdout and stderr. `-f` keeps the response open and streams new lines;
// `--tail N` and `--timestamps` are applied by the daemon, which stored each line with
// the time it was written.
// Mirrors docker/cli's cli/command/container/logs.go.

import type { ContainerInspect } from "../../client/types.ts";
import type { ParsedFlags } from "../../flags.ts";
import { Demultiplexer } from "../../streams/stdcopy.ts";
import type { CommandSpec, DockerCli } from "../../types.ts";

async function runLogs(cli: DockerCli, flags: ParsedFlags): Promise<number> {
  const client = cli.client();
  const values = flags.values;
  const inspect = await client.json<ContainerInspect>(
    "GET",
    `/containers/${flags.positional[0]}/json`,
  );
  const response = await client.request("GET", `/containers/${inspect.Id}/logs`, {
    query: {
      stdout: true,
      stderr: true,
      since: values.since === "" ? undefined : values.since as string,
      until: values.until === "" ? undefined : values.until as string,
      timestamps: values.timestamps ? true : undefined,
      follow: values.follow ? true : undefined,
      tail: values.tail as string,
      details: values.details ? true : undefined,
    },
  });
  if (inspect.Config?.Tty) {
    for await (const chunk of response.body) cli.out.write(chunk as Uint8Array);
  } else {
    const demux = new Demultiplexer({
      stdout: (bytes) => cli.out.write(bytes),
      stderr: (bytes) => cli.err.write(bytes),
    });
    for await (const chunk of response.body) await demux.push(chunk as Uint8Array);
  }
  return 0;
}

/** `docker logs`. */
export const logsCommand: CommandSpec = {
  name: "logs",
  usage: "logs [OPTIONS] CONTAINER",
  summary: "Fetch the logs of a container",
  flags: [
    { name: "details", kind: "bool", description: "Show extra details provided to logs" },
    { name: "follow", short: "f", kind: "bool", description: "Follow log output" },
    {
      name: "since",
      kind: "string",
      description:
        'Show logs since timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)',
    },
    {
      name: "tail",
      short: "n",
      kind: "string",
      defaultValue: "all",
      description: "Number of lines to show from the end of the logs",
    },
    { name: "timestamps", short: "t", kind: "bool", description: "Show timestamps" },
    {
      name: "until",
      kind: "string",
      description:
        'Show logs before a timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)',
    },
  ],
  minArgs: 1,
  maxArgs: 1,
  run: runLogs,
};
