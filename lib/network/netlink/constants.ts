// What this teaches: rtnetlink is a message protocol, and these numbers are its
// vocabulary: message types (create a link, add an address), flags (create, exclusive,
// ask for an acknowledgement) and attribute numbers (the interface name, its master
// bridge, the namespace to move it to). They come from the kernel's uapi headers:
// linux/netlink.h, linux/rtnetlink.h, linux/if_link.h, linux/if_addr.h, linux/veth.h.
// Mirrors the constants of github.com/vishvananda/netlink/nl (which libnetwork uses).

/** Socket-level numbers for socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE). */
export const SocketConstants = {
  AF_NETLINK: 16,
  SOCK_RAW: 3,
  SOCK_CLOEXEC: 0o2000000,
  NETLINK_ROUTE: 0,
} as const;

/** Address families carried in the messages' family byte. */
export const AddressFamily = {
  UNSPEC: 0,
  INET: 2,
  BRIDGE: 7,
  INET6: 10,
} as const;

/** nlmsghdr.nlmsg_type values: the generic ones and the rtnetlink requests. */
export const MessageType = {
  NOOP: 1,
  ERROR: 2,
  DONE: 3,
  NEWLINK: 16,
  DELLINK: 17,
  GETLINK: 18,
  SETLINK: 19,
  NEWADDR: 20,
  DELADDR: 21,
  GETADDR: 22,
  NEWROUTE: 24,
  DELROUTE: 25,
  GETROUTE: 26,
} as const;

/** nlmsghdr.nlmsg_flags. CREATE/EXCL/REPLACE only mean something on NEW* requests. */
export const MessageFlags = {
  REQUEST: 0x1,
  MULTI: 0x2,
  ACK: 0x4,
  DUMP: 0x300,
  REPLACE: 0x100,
  EXCL: 0x200,
  CREATE: 0x400,
} as const;

/** ifinfomsg.ifi_flags bits (linux/if.h). */
export const InterfaceFlags = {
  UP: 0x1,
  LOOPBACK: 0x8,
  LOWER_UP: 0x10000,
} as const;

/** IFLA_* attributes of a link message. */
export const LinkAttribute = {
  ADDRESS: 1,
  IFNAME: 3,
  MTU: 4,
  LINK: 5,
  MASTER: 10,
  OPERSTATE: 16,
  LINKINFO: 18,
  NET_NS_PID: 19,
  NET_NS_FD: 28,
} as const;

/** IFLA_INFO_* attributes nested inside IFLA_LINKINFO. */
export const LinkInfoAttribute = {
  KIND: 1,
  DATA: 2,
} as const;

/** VETH_INFO_PEER: inside IFLA_INFO_DATA of a veth, the peer's own ifinfomsg + attributes. */
export const VETH_INFO_PEER = 1;

/** IFA_* attributes of an address message. */
export const AddressAttribute = {
  ADDRESS: 1,
  LOCAL: 2,
  LABEL: 3,
  BROADCAST: 4,
} as const;

/** RTA_* attributes of a route message. */
export const RouteAttribute = {
  DST: 1,
  SRC: 2,
  IIF: 3,
  OIF: 4,
  GATEWAY: 5,
  PRIORITY: 6,
  PREFSRC: 7,
  TABLE: 15,
} as const;

/** Routing table, protocol, scope and type values of rtmsg. */
export const RouteConstants = {
  TABLE_MAIN: 254,
  PROTOCOL_BOOT: 3,
  PROTOCOL_KERNEL: 2,
  PROTOCOL_STATIC: 4,
  SCOPE_UNIVERSE: 0,
  SCOPE_LINK: 253,
  SCOPE_HOST: 254,
  TYPE_UNICAST: 1,
} as const;

/** Attribute type bits that are flags, not part of the number. */
export const NLA_F_NESTED = 0x8000;
export const NLA_TYPE_MASK = 0x3fff;

/** Sizes of the fixed headers (bytes). */
export const HeaderSize = {
  MESSAGE: 16,
  INTERFACE_INFO: 16,
  ADDRESS: 8,
  ROUTE: 12,
  ATTRIBUTE: 4,
} as const;
