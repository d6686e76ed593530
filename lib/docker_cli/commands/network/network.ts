// What this teaches: networks are daemon objects like containers: `docker network ls` is
// `GET /networks`, `create` is `POST /networks/create`, `connect`/`disconnect` attach a
// container to one. The CLI sorts the list by name and prints short IDs.
// Mirrors docker/cli's cli/command/network/{list,create,remove,connect,disconnect}.go.

import type { NetworkSummary } from "../../client/types.ts";
import type { ParsedFlags } from "../../flags.ts";
import { renderFormat, TABLE_FORMAT_KEY } from "../../format/formatter.ts";
import {
  naturalLess,
  NETWORK_HEADER,
  NetworkContext,
  networkFormat,
} from "../../format/network.ts";
import { type CommandSpec, type DockerCli, JoinedError } from "../../types.ts";
import { FILTER_FLAG, filtersQuery } from "../filters.ts";
import { typedInspectCommand } from "../system/inspect.ts";

async function runNetworkLs(cli: DockerCli, flags: ParsedFlags): Promise<number> {
  const values = flags.values;
  const networks = await cli.client().json<NetworkSummary[]>("GET", "/networks", {
    query: { filters: filtersQuery(values.filter as string[]) },
  });
  const sorted = [...(networks ?? [])].sort((a, b) =>
    naturalLess(a.Name, b.Name) ? -1 : naturalLess(b.Name, a.Name) ? 1 : 0
  );
  const format = networkFormat(
    (values.format as string) || TABLE_FORMAT_KEY,
    values.quiet as boolean,
  );
  const trunc = !(values["no-trunc"] as boolean);
  cli.out.write(
    renderFormat(
      format,
      sorted.map((network) => new NetworkContext(network, trunc)),
      NETWORK_HEADER,
    ),
  );
  return 0;
}

async function runNetworkCreate(cli: DockerCli, flags: ParsedFlags): Promise<number> {
  const values = flags.values;
  const subnets = values.subnet as string[];
  const gateways = values.gateway as string[];
  const labels: Record<string, string> = {};
  for (const label of values.label as string[]) {
    const equals = label.indexOf("=");
    labels[equals === -1 ? label : label.slice(0, equals)] = equals === -1
      ? ""
      : label.slice(equals + 1);
  }
  const options: Record<string, string> = {};
  for (const option of values.opt as string[]) {
    const equals = option.indexOf("=");
    options[equals === -1 ? option : option.slice(0, equals)] = equals === -1
      ? ""
      : option.slice(equals + 1);
  }
  const created = await cli.client().json<{ Id: string; Warning?: string }>(
    "POST",
    "/networks/create",
    {
      json: {
        Name: flags.positional[0],
        CheckDuplicate: true,
        Driver: values.driver,
        Scope: "",
        EnableIPv6: values.ipv6,
        IPAM: {
          Driver: "default",
          Options: {},
          Config: subnets.map((subnet, index) => ({
            Subnet: subnet,
            ...(gateways[index] ? { Gateway: gateways[index] } : {}),
          })),
        },
        Internal: values.internal,
        Attachable: values.attachable,
        Ingress: false,
        ConfigOnly: false,
        ConfigFrom: null,
        Options: options,
        Labels: labels,
      },
    },
  );
  if (created.Warning) cli.err.write(`${created.Warning}\n`);
  cli.out.write(`${created.Id}\n`);
  return 0;
}

async function runNetworkRm(cli: DockerCli, flags: ParsedFlags): Promise<number> {
  const errors: Error[] = [];
  for (const name of flags.positional) {
    try {
      await cli.client().call("DELETE", `/networks/${name}`);
      cli.out.write(`${name}\n`);
    } catch (error) {
      errors.push(error as Error);
    }
  }
  if (errors.length > 0) throw new JoinedError(errors);
  return 0;
}

async function runConnect(cli: DockerCli, flags: ParsedFlags): Promise<number> {
  const [network, container] = flags.positional;
  const aliases = flags.values.alias as string[];
  const ip = flags.values.ip as string;
  await cli.client().call("POST", `/networks/${network}/connect`, {
    json: {
      Container: container,
      EndpointConfig: {
        IPAMConfig: ip ? { IPv4Address: ip } : null,
        Aliases: aliases.length > 0 ? aliases : null,
      },
    },
  });
  return 0;
}

async function runDisconnect(cli: DockerCli, flags: ParsedFlags): Promise<number> {
  const [network, container] = flags.positional;
  await cli.client().call("POST", `/networks/${network}/disconnect`, {
    json: { Container: container, Force: flags.values.force },
  });
  return 0;
}

/** The `docker network` subcommands. */
export const networkCommands: CommandSpec[] = [
  {
    name: "ls",
    aliases: ["list"],
    usage: "network ls [OPTIONS]",
    summary: "List networks",
    flags: [
      FILTER_FLAG,
      { name: "format", kind: "string", description: "Format output using a custom template" },
      { name: "no-trunc", kind: "bool", description: "Do not truncate the output" },
      { name: "quiet", short: "q", kind: "bool", description: "Only display network IDs" },
    ],
    maxArgs: 0,
    run: runNetworkLs,
  },
  {
    name: "create",
    usage: "network create [OPTIONS] NETWORK",
    summary: "Create a network",
    flags: [
      { name: "attachable", kind: "bool", description: "Enable manual container attachment" },
      {
        name: "driver",
        short: "d",
        kind: "string",
        defaultValue: "bridge",
        description: "Driver to manage the Network",
      },
      {
        name: "gateway",
        kind: "list",
        valueName: "strings",
        description: "IPv4 or IPv6 Gateway for the master subnet",
      },
      { name: "internal", kind: "bool", description: "Restrict external access to the network" },
      { name: "ipv6", kind: "bool", description: "Enable or disable IPv6 networking" },
      { name: "label", kind: "list", description: "Set metadata on a network" },
      {
        name: "opt",
        short: "o",
        kind: "list",
        valueName: "map",
        description: "Set driver specific options",
      },
      {
        name: "subnet",
        kind: "list",
        valueName: "strings",
        description: "Subnet in CIDR format that represents a network segment",
      },
    ],
    minArgs: 1,
    maxArgs: 1,
    run: runNetworkCreate,
  },
  {
    name: "rm",
    aliases: ["remove"],
    usage: "network rm NETWORK [NETWORK...]",
    summary: "Remove one or more networks",
    flags: [{
      name: "force",
      short: "f",
      kind: "bool",
      description: "Do not error if the network does not exist",
    }],
    minArgs: 1,
    run: runNetworkRm,
  },
  typedInspectCommand("network"),
  {
    name: "connect",
    usage: "network connect [OPTIONS] NETWORK CONTAINER",
    summary: "Connect a container to a network",
    flags: [
      {
        name: "alias",
        kind: "list",
        valueName: "strings",
        description: "Add network-scoped alias for the container",
      },
      { name: "ip", kind: "string", description: 'IPv4 address (e.g., "172.30.100.104")' },
    ],
    minArgs: 2,
    maxArgs: 2,
    run: runConnect,
  },
  {
    name: "disconnect",
    usage: "network disconnect [OPTIONS] NETWORK CONTAINER",
    summary: "Disconnect a container from a network",
    flags: [{
      name: "force",
      short: "f",
      kind: "bool",
      description: "Force the container to disconnect from a network",
    }],
    minArgs: 2,
    maxArgs: 2,
    run: runDisconnect,
  },
];
