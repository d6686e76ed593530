// What this teaches: a Linux bridge is a software switch. Containers' veth ends are
// plugged into it as ports, so they share one layer-2 segment; giving the bridge itself
// an address (the gateway) makes the host one more machine on that segment, which is
// how the host (and mini-docker-proxy) reaches container addresses, and how containers
// reach the host. mini never turns on IP forwarding or NAT: nothing leaves the machine.
// Mirrors libnetwork's drivers/bridge/setup_device.go, setup_ipv4.go and
// bridge.go (createNetwork, deleteNetwork).

import { formatIPv4 } from "../../ipv4.ts";
import {
  addAddress,
  createBridge,
  deleteLinkByName,
  findLink,
  getLink,
  listAddresses,
  type NetlinkSocket,
  setLinkUp,
} from "../../netlink/mod.ts";

/** A bridge to make sure of: its name and the gateway address it carries. */
export interface BridgeSpec {
  name: string;
  /** The gateway address as a 32-bit number. */
  gateway: number;
  prefixLength: number;
  mtu?: number;
}

/**
 * Creates the bridge if missing, gives it the gateway address if it lacks it, and
 * brings it up. Returns its interface index. An existing bridge with a different
 * address in the same place is an error (two configurations fighting over one name).
 */
export function ensureBridge(socket: NetlinkSocket, spec: BridgeSpec): number {
  let bridge = findLink(socket, spec.name);
  if (bridge && bridge.kind !== "bridge") {
    throw new Error(
      `interface ${spec.name} exists but is a ${bridge.kind ?? "physical"} device, not a bridge: ` +
        "choose another bridge name",
    );
  }
  if (!bridge) {
    try {
      createBridge(socket, spec.name, { mtu: spec.mtu });
    } catch (error) {
      // Another daemon sharing this bridge name may have created it a moment ago.
      if (!findLink(socket, spec.name)) throw error;
    }
    bridge = getLink(socket, spec.name);
  }
  const addresses = listAddresses(socket).filter((entry) => entry.interfaceIndex === bridge.index);
  const present = addresses.some((entry) =>
    entry.address === spec.gateway && entry.prefixLength === spec.prefixLength
  );
  if (!present) {
    if (addresses.length > 0) {
      const shown = addresses.map((entry) => `${formatIPv4(entry.address)}/${entry.prefixLength}`);
      throw new Error(
        `bridge ${spec.name} already has address ${shown.join(", ")}, not ` +
          `${formatIPv4(spec.gateway)}/${spec.prefixLength}: delete the bridge ` +
          `(ip link del ${spec.name}) or set "bip" to match`,
      );
    }
    try {
      addAddress(socket, bridge.index, spec.gateway, spec.prefixLength);
    } catch (error) {
      const added = listAddresses(socket).some((entry) =>
        entry.interfaceIndex === bridge.index && entry.address === spec.gateway
      );
      if (!added) throw error;
    }
  }
  if (!bridge.up) setLinkUp(socket, bridge.index);
  return bridge.index;
}

/** Deletes the bridge (its ports are unplugged by the kernel). Missing is fine. */
export function removeBridge(socket: NetlinkSocket, name: string): boolean {
  return deleteLinkByName(socket, name);
}
