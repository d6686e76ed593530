// What this teaches: an interface gets an IP address with one RTM_NEWADDR message: the
// ifaddrmsg names the interface by index and carries the prefix length; IFA_LOCAL is
// the address itself. The kernel then adds the "connected" route for the subnet by
// itself, which is why a container needs no route to its own bridge network.
// Mirrors github.com/vishvananda/netlink/addr_linux.go (AddrAdd, AddrList).

import {
  AddressAttribute,
  AddressFamily,
  HeaderSize,
  MessageFlags,
  MessageType,
} from "./constants.ts";
import type { MessageWriter } from "./message.ts";
import { parseAttributes } from "./message.ts";
import type { NetlinkSocket } from "./socket.ts";
import { broadcastAddress, formatIPv4, ipv4Bytes, ipv4FromBytes, prefixMask } from "../ipv4.ts";

/** One IPv4 address on an interface. */
export interface InterfaceAddress {
  interfaceIndex: number;
  address: number;
  prefixLength: number;
}

function writeAddressInfo(writer: MessageWriter, index: number, prefixLength: number): void {
  // family, prefix length, flags, scope (universe), interface index
  writer.u8(AddressFamily.INET).u8(prefixLength).u8(0).u8(0).u32(index);
}

/** Adds `address/prefixLength` to the interface (`ip addr add A/N brd + dev DEV`). */
export function addAddress(
  socket: NetlinkSocket,
  interfaceIndex: number,
  address: number,
  prefixLength: number,
): void {
  socket.request(
    MessageType.NEWADDR,
    MessageFlags.CREATE | MessageFlags.EXCL,
    (writer) => {
      writeAddressInfo(writer, interfaceIndex, prefixLength);
      writer.attribute(AddressAttribute.LOCAL, ipv4Bytes(address));
      writer.attribute(AddressAttribute.ADDRESS, ipv4Bytes(address));
      if (prefixLength < 31) {
        const broadcast = broadcastAddress({
          network: (address & prefixMask(prefixLength)) >>> 0,
          prefixLength,
        });
        writer.attribute(AddressAttribute.BROADCAST, ipv4Bytes(broadcast));
      }
    },
    `add address ${formatIPv4(address)}/${prefixLength} to link ${interfaceIndex}`,
  );
}

/** Every IPv4 address in the socket's namespace. */
export function listAddresses(socket: NetlinkSocket): InterfaceAddress[] {
  return socket.dump(
    MessageType.GETADDR,
    (writer) => writeAddressInfo(writer, 0, 0),
    "list addresses",
  )
    .filter((message) => message.type === MessageType.NEWADDR)
    .flatMap((message) => {
      const view = new DataView(message.payload.buffer, message.payload.byteOffset);
      if (view.getUint8(0) !== AddressFamily.INET) return [];
      const attributes = parseAttributes(message.payload, HeaderSize.ADDRESS);
      const bytes = attributes.get(AddressAttribute.LOCAL) ??
        attributes.get(AddressAttribute.ADDRESS);
      if (!bytes) return [];
      return [{
        interfaceIndex: view.getUint32(4, true),
        address: ipv4FromBytes(bytes),
        prefixLength: view.getUint8(1),
      }];
    });
}
