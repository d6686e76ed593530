// What this teaches: the same endpoint wiring as endpoint.ts, done the way shell scripts
// (and early container tools) do it: one `ip` process per step, `nsenter --net=` to run
// it inside the container's namespace. Five processes, each a fork + exec + libc start
// + its own netlink socket, where endpoint.ts sends a handful of messages from a socket
// it already has. Kept as the baseline for bench/network_bench.ts and as a readable
// transcript of what the netlink messages do.
// Mirrors the shell equivalent of libnetwork's bridge CreateEndpoint.

import { formatIPv4 } from "../../ipv4.ts";
import { type EndpointSpec, macAddressForIPv4 } from "./endpoint.ts";

async function run(command: string, args: string[]): Promise<void> {
  const output = await new Deno.Command(command, {
    args,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!output.success) {
    throw new Error(
      `${command} ${args.join(" ")} failed: ${new TextDecoder().decode(output.stderr).trim()}`,
    );
  }
}

/** The `ip` command lines (as argv arrays) that wire one endpoint. */
export function endpointCommands(spec: EndpointSpec): string[][] {
  const inside = ["nsenter", `--net=${spec.namespacePath}`, "ip"];
  const device = spec.containerInterfaceName;
  const commands = [
    [
      "ip",
      "link",
      "add",
      spec.hostInterfaceName,
      ...(spec.mtu ? ["mtu", String(spec.mtu)] : []),
      "master",
      spec.bridgeName,
      "up",
      "type",
      "veth",
      "peer",
      "name",
      device,
      "netns",
      spec.namespacePath,
    ],
    [...inside, "link", "set", device, "address", macAddressForIPv4(spec.address), "up"],
    [...inside, "addr", "add", `${formatIPv4(spec.address)}/${spec.prefixLength}`, "dev", device],
  ];
  if (spec.defaultGateway !== undefined) {
    commands.push([
      ...inside,
      "route",
      "add",
      "default",
      "via",
      formatIPv4(spec.defaultGateway),
      "dev",
      device,
    ]);
  }
  commands.push([...inside, "link", "set", "lo", "up"]);
  return commands;
}

/** Wires an endpoint by spawning `ip` (through nsenter) once per step. */
export async function attachEndpointWithIpCommands(spec: EndpointSpec): Promise<string> {
  for (const [command, ...args] of endpointCommands(spec)) await run(command, args);
  return macAddressForIPv4(spec.address);
}

/** Deletes the host end of an endpoint with `ip link del`. */
export async function detachEndpointWithIpCommand(hostInterfaceName: string): Promise<void> {
  await run("ip", ["link", "del", hostInterfaceName]);
}
