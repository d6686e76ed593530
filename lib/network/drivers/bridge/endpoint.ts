// What this teaches: connecting a container to a bridge network, step by step, as
// netlink messages from this process, with no `ip` program spawned:
//   1. one RTM_NEWLINK creates a veth pair whose host end is already plugged into the
//      bridge (IFLA_MASTER) and whose other end is born inside the container's network
//      namespace (IFLA_NET_NS_FD in the peer's attributes) under its final name (eth0);
//   2. the host end goes up;
//   3. through a netlink socket opened inside the namespace: the address from IPAM on
//      eth0, eth0 up, and the default route via the bridge's gateway.
// Docker creates the pair in the host namespace, then moves the peer in and renames it
// (netlink's LinkSetNsFd + LinkSetName): the same result in two more messages.
// lib/network/netlink/links.ts has moveLinkToNamespace for that route.
// Mirrors libnetwork's drivers/bridge/bridge.go (CreateEndpoint) and
// osl/interface_linux.go (AddInterface), with vishvananda/netlink underneath.

import { closeFile, openFile, OpenFlags } from "../../../linux/files.ts";
import { formatIPv4, ipv4Bytes } from "../../ipv4.ts";
import {
  addAddress,
  addRoute,
  createVethPair,
  deleteLinkByName,
  getLink,
  listRoutes,
  NetlinkSocket,
  setLinkHardwareAddress,
  setLinkUp,
} from "../../netlink/mod.ts";

/** One container endpoint to wire. */
export interface EndpointSpec {
  bridgeName: string;
  /** The container's network namespace file. */
  namespacePath: string;
  /** The veth end that stays on the host, plugged into the bridge (≤ 15 characters). */
  hostInterfaceName: string;
  /** The name inside the container ("eth0"). */
  containerInterfaceName: string;
  address: number;
  prefixLength: number;
  /** Add a default route via this gateway (omit for internal networks or a second network). */
  defaultGateway?: number;
  mtu?: number;
}

/** Docker's MAC scheme: 02:42 followed by the four bytes of the IPv4 address. */
export function macAddressForIPv4(address: number): string {
  return ["02", "42", ...[...ipv4Bytes(address)].map((byte) => byte.toString(16).padStart(2, "0"))]
    .join(":");
}

/**
 * Wires an endpoint through `hostSocket` (a netlink socket in the bridge's namespace).
 * On failure the half-made veth pair is removed. Returns the container side's MAC.
 */
export function attachEndpoint(hostSocket: NetlinkSocket, spec: EndpointSpec): string {
  const bridge = getLink(hostSocket, spec.bridgeName);
  const mac = macAddressForIPv4(spec.address);
  const namespaceFd = openFile(spec.namespacePath, OpenFlags.RDONLY | OpenFlags.CLOEXEC);
  try {
    createVethPair(hostSocket, spec.hostInterfaceName, spec.containerInterfaceName, {
      masterIndex: bridge.index,
      peerNamespaceFd: namespaceFd,
      mtu: spec.mtu,
    });
  } finally {
    closeFile(namespaceFd);
  }
  try {
    setLinkUp(hostSocket, getLink(hostSocket, spec.hostInterfaceName).index);
    const inside = NetlinkSocket.openIn(spec.namespacePath);
    try {
      const link = getLink(inside, spec.containerInterfaceName);
      setLinkHardwareAddress(inside, link.index, mac);
      addAddress(inside, link.index, spec.address, spec.prefixLength);
      setLinkUp(inside, link.index);
      if (spec.defaultGateway !== undefined) {
        const hasDefault = listRoutes(inside).some((route) => route.prefixLength === 0);
        if (!hasDefault) {
          addRoute(inside, { gateway: spec.defaultGateway, outputIndex: link.index });
        }
      }
    } finally {
      inside.close();
    }
  } catch (error) {
    deleteLinkByName(hostSocket, spec.hostInterfaceName);
    throw new Error(
      `cannot connect ${formatIPv4(spec.address)} to bridge ${spec.bridgeName}: ${
        (error as Error).message
      }`,
    );
  }
  return mac;
}

/**
 * Unwires an endpoint: deleting the host end of a veth pair deletes the container end
 * too. Idempotent (missing is fine). Returns whether a link was deleted.
 */
export function detachEndpoint(hostSocket: NetlinkSocket, hostInterfaceName: string): boolean {
  return deleteLinkByName(hostSocket, hostInterfaceName);
}

/** Brings `lo` up inside a namespace (a fresh namespace has it down). */
export function setLoopbackUp(namespacePath: string): void {
  const inside = NetlinkSocket.openIn(namespacePath);
  try {
    setLinkUp(inside, getLink(inside, "lo").index);
  } finally {
    inside.close();
  }
}
