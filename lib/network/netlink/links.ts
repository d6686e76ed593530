// What this teaches: a network interface ("link") is created, wired and brought up with
// RTM_NEWLINK messages. A bridge is a link of kind "bridge"; a veth pair is one request
// of kind "veth" whose nested VETH_INFO_PEER describes the other end; "set master"
// plugs a link into a bridge (IFLA_MASTER); IFLA_NET_NS_FD moves a link into another
// network namespace (it disappears from this one); flags IFF_UP with a change mask
// brings it up. Each of these is what one `ip link ...` command sends.
// Mirrors github.com/vishvananda/netlink/link_linux.go (LinkAdd, LinkSetMaster,
// LinkSetNsFd, LinkSetUp, LinkDel) as libnetwork's bridge driver calls them.

import { LinuxError } from "../../linux/errors.ts";
import {
  AddressFamily,
  HeaderSize,
  InterfaceFlags,
  LinkAttribute,
  LinkInfoAttribute,
  MessageFlags,
  MessageType,
  VETH_INFO_PEER,
} from "./constants.ts";
import {
  attributeString,
  attributeU32,
  type MessageWriter,
  type NetlinkMessage,
  parseAttributes,
} from "./message.ts";
import type { NetlinkSocket } from "./socket.ts";

const ENODEV = 19;

/** What the kernel reports about one link. */
export interface LinkInfo {
  index: number;
  name: string;
  /** ifi_flags (InterfaceFlags bits). */
  flags: number;
  up: boolean;
  /** The index of the bridge this link is plugged into, if any. */
  masterIndex?: number;
  /** "bridge", "veth", ... (absent for physical devices and lo). */
  kind?: string;
  mtu?: number;
  /** The hardware address as "aa:bb:cc:dd:ee:ff". */
  macAddress?: string;
}

/** Writes an ifinfomsg: which link (index, 0 = by name/new) and which flags change. */
function writeInterfaceInfo(
  writer: MessageWriter,
  index = 0,
  flags = 0,
  change = 0,
): void {
  writer.u8(AddressFamily.UNSPEC).u8(0).u16(0).i32(index).u32(flags).u32(change);
}

function parseLink(message: NetlinkMessage): LinkInfo {
  const view = new DataView(message.payload.buffer, message.payload.byteOffset);
  const index = view.getInt32(4, true);
  const flags = view.getUint32(8, true);
  const attributes = parseAttributes(message.payload, HeaderSize.INTERFACE_INFO);
  const linkInfo = attributes.get(LinkAttribute.LINKINFO);
  const kind = linkInfo
    ? attributeString(parseAttributes(linkInfo).get(LinkInfoAttribute.KIND))
    : undefined;
  const mac = attributes.get(LinkAttribute.ADDRESS);
  return {
    index,
    name: attributeString(attributes.get(LinkAttribute.IFNAME)) ?? `if${index}`,
    flags,
    up: (flags & InterfaceFlags.UP) !== 0,
    masterIndex: attributeU32(attributes.get(LinkAttribute.MASTER)),
    kind,
    mtu: attributeU32(attributes.get(LinkAttribute.MTU)),
    macAddress: mac
      ? [...mac].map((byte) => byte.toString(16).padStart(2, "0")).join(":")
      : undefined,
  };
}

/** Interface names are at most 15 bytes (IFNAMSIZ 16 with the NUL). */
export function checkInterfaceName(name: string): void {
  if (name.length === 0 || name.length > 15 || /[\s/:]/.test(name)) {
    throw new Error(
      `"${name}" is not a valid interface name (1-15 characters, no spaces, "/" or ":")`,
    );
  }
}

/** The link called `name`, or undefined when there is none. */
export function findLink(socket: NetlinkSocket, name: string): LinkInfo | undefined {
  checkInterfaceName(name);
  try {
    const reply = socket.get(MessageType.GETLINK, (writer) => {
      writeInterfaceInfo(writer);
      writer.stringAttribute(LinkAttribute.IFNAME, name);
    }, `get link ${name}`);
    return parseLink(reply);
  } catch (error) {
    if (error instanceof LinuxError && error.errno === ENODEV) return undefined;
    throw error;
  }
}

/** The link called `name`; throws when it does not exist. */
export function getLink(socket: NetlinkSocket, name: string): LinkInfo {
  const link = findLink(socket, name);
  if (!link) throw new Error(`network interface ${name} does not exist`);
  return link;
}

/** Every link in the socket's namespace. */
export function listLinks(socket: NetlinkSocket): LinkInfo[] {
  return socket.dump(MessageType.GETLINK, (writer) => writeInterfaceInfo(writer), "list links")
    .filter((message) => message.type === MessageType.NEWLINK)
    .map(parseLink);
}

/** Creates a bridge named `name` (down; bring it up with setLinkUp). */
export function createBridge(socket: NetlinkSocket, name: string, options: { mtu?: number } = {}) {
  checkInterfaceName(name);
  socket.request(
    MessageType.NEWLINK,
    MessageFlags.CREATE | MessageFlags.EXCL,
    (writer) => {
      writeInterfaceInfo(writer);
      writer.stringAttribute(LinkAttribute.IFNAME, name);
      if (options.mtu) writer.u32Attribute(LinkAttribute.MTU, options.mtu);
      writer.nest(LinkAttribute.LINKINFO, (info) => {
        info.stringAttribute(LinkInfoAttribute.KIND, "bridge");
      });
    },
    `create bridge ${name}`,
  );
}

/** Options for a new veth pair. */
export interface VethOptions {
  /** Plug the first end into this bridge (its index) as it is created. */
  masterIndex?: number;
  /** Create the peer end directly inside the namespace open at this fd. */
  peerNamespaceFd?: number;
  mtu?: number;
}

/**
 * Creates a veth pair: `name` here, `peerName` as its other end. Whatever enters one
 * end leaves the other, which is how a packet crosses from a container's namespace to
 * the host's bridge.
 */
export function createVethPair(
  socket: NetlinkSocket,
  name: string,
  peerName: string,
  options: VethOptions = {},
): void {
  checkInterfaceName(name);
  checkInterfaceName(peerName);
  socket.request(
    MessageType.NEWLINK,
    MessageFlags.CREATE | MessageFlags.EXCL,
    (writer) => {
      writeInterfaceInfo(writer);
      writer.stringAttribute(LinkAttribute.IFNAME, name);
      if (options.mtu) writer.u32Attribute(LinkAttribute.MTU, options.mtu);
      if (options.masterIndex !== undefined) {
        writer.u32Attribute(LinkAttribute.MASTER, options.masterIndex);
      }
      writer.nest(LinkAttribute.LINKINFO, (info) => {
        info.stringAttribute(LinkInfoAttribute.KIND, "veth");
        info.nest(LinkInfoAttribute.DATA, (data) => {
          data.nest(VETH_INFO_PEER, (peer) => {
            writeInterfaceInfo(peer);
            peer.stringAttribute(LinkAttribute.IFNAME, peerName);
            if (options.mtu) peer.u32Attribute(LinkAttribute.MTU, options.mtu);
            if (options.peerNamespaceFd !== undefined) {
              peer.u32Attribute(LinkAttribute.NET_NS_FD, options.peerNamespaceFd);
            }
          });
        });
      });
    },
    `create veth pair ${name}/${peerName}`,
  );
}

/** Changes one existing link (by index) with RTM_NEWLINK and no CREATE flag. */
function changeLink(
  socket: NetlinkSocket,
  index: number,
  describe: string,
  body: (writer: MessageWriter) => void,
  flags = 0,
  change = 0,
): void {
  socket.request(MessageType.NEWLINK, 0, (writer) => {
    writeInterfaceInfo(writer, index, flags, change);
    body(writer);
  }, describe);
}

/** Brings a link up (`ip link set DEV up`). */
export function setLinkUp(socket: NetlinkSocket, index: number): void {
  changeLink(socket, index, `set link ${index} up`, () => {}, InterfaceFlags.UP, InterfaceFlags.UP);
}

/** Brings a link down (`ip link set DEV down`). */
export function setLinkDown(socket: NetlinkSocket, index: number): void {
  changeLink(socket, index, `set link ${index} down`, () => {}, 0, InterfaceFlags.UP);
}

/** Plugs a link into a bridge (`ip link set DEV master BRIDGE`); 0 unplugs it. */
export function setLinkMaster(socket: NetlinkSocket, index: number, masterIndex: number): void {
  changeLink(socket, index, `set master of link ${index} to ${masterIndex}`, (writer) => {
    writer.u32Attribute(LinkAttribute.MASTER, masterIndex);
  });
}

/** Sets a link's hardware address (`ip link set DEV address aa:bb:cc:dd:ee:ff`). */
export function setLinkHardwareAddress(socket: NetlinkSocket, index: number, mac: string): void {
  const bytes = new Uint8Array(mac.split(":").map((part) => parseInt(part, 16)));
  if (bytes.length !== 6 || bytes.some((byte) => Number.isNaN(byte))) {
    throw new Error(`"${mac}" is not a MAC address (expected six hex pairs a2:b4:...)`);
  }
  changeLink(socket, index, `set address of link ${index} to ${mac}`, (writer) => {
    writer.attribute(LinkAttribute.ADDRESS, bytes);
  });
}

/** Renames a link; the kernel refuses while it is up (EBUSY). */
export function renameLink(socket: NetlinkSocket, index: number, name: string): void {
  checkInterfaceName(name);
  changeLink(socket, index, `rename link ${index} to ${name}`, (writer) => {
    writer.stringAttribute(LinkAttribute.IFNAME, name);
  });
}

/**
 * Moves a link into the network namespace open at `namespaceFd` (`ip link set DEV netns
 * NS`). It keeps its name and index there unless they clash; it is gone from here.
 */
export function moveLinkToNamespace(socket: NetlinkSocket, index: number, namespaceFd: number) {
  changeLink(socket, index, `move link ${index} to namespace fd ${namespaceFd}`, (writer) => {
    writer.u32Attribute(LinkAttribute.NET_NS_FD, namespaceFd);
  });
}

/** Deletes a link; deleting one end of a veth pair deletes both. */
export function deleteLink(socket: NetlinkSocket, index: number): void {
  socket.request(
    MessageType.DELLINK,
    0,
    (writer) => writeInterfaceInfo(writer, index),
    `delete link ${index}`,
  );
}

/** Deletes the link called `name` if it exists; returns whether it did. */
export function deleteLinkByName(socket: NetlinkSocket, name: string): boolean {
  const link = findLink(socket, name);
  if (!link) return false;
  try {
    deleteLink(socket, link.index);
  } catch (error) {
    // Gone meanwhile (its veth peer's namespace was destroyed): that is what we wanted.
    if (error instanceof LinuxError && error.errno === ENODEV) return false;
    throw error;
  }
  return true;
}
