// What this teaches: an IPv4 address is a 32-bit number, and a subnet ("10.88.0.0/16")
// is a prefix of that number. Allocating addresses, checking that two subnets do not
// overlap and filling netlink messages all come down to this arithmetic.
// Mirrors the role of Go's net.IP / net.IPNet and libnetwork's types package.

/** A subnet: its network address and prefix length ("10.88.0.0/16"). */
export interface Subnet {
  /** The network address as an unsigned 32-bit number (host bits zero). */
  network: number;
  prefixLength: number;
}

/** An address with the prefix length of its subnet ("10.88.0.2/16"), as interfaces carry. */
export interface AddressWithPrefix {
  address: number;
  prefixLength: number;
}

/** Parses dotted-quad text into an unsigned 32-bit number; throws on anything else. */
export function parseIPv4(text: string): number {
  const parts = text.trim().split(".");
  if (parts.length !== 4 || parts.some((part) => !/^\d{1,3}$/.test(part) || Number(part) > 255)) {
    throw new Error(`"${text}" is not an IPv4 address (expected four numbers 0-255: a.b.c.d)`);
  }
  return parts.reduce((value, part) => value * 256 + Number(part), 0) >>> 0;
}

/** True when `text` is a dotted-quad IPv4 address. */
export function isIPv4(text: string): boolean {
  try {
    parseIPv4(text);
    return true;
  } catch {
    return false;
  }
}

/** Formats an unsigned 32-bit number as dotted-quad text. */
export function formatIPv4(address: number): string {
  return [24, 16, 8, 0].map((shift) => (address >>> shift) & 255).join(".");
}

/** The netmask of a prefix length as a number (24 → 255.255.255.0). */
export function prefixMask(prefixLength: number): number {
  return prefixLength === 0 ? 0 : (0xffffffff << (32 - prefixLength)) >>> 0;
}

/** Parses "a.b.c.d/n" into an address and a prefix length (host bits kept). */
export function parseAddressWithPrefix(text: string): AddressWithPrefix {
  const [address, prefix, extra] = text.trim().split("/");
  const prefixLength = Number(prefix);
  if (
    extra !== undefined || prefix === undefined || !/^\d{1,2}$/.test(prefix) || prefixLength > 32
  ) {
    throw new Error(`"${text}" is not an IPv4 CIDR (expected a.b.c.d/n with n from 0 to 32)`);
  }
  return { address: parseIPv4(address), prefixLength };
}

/** Parses a subnet in CIDR notation; host bits are cleared ("10.88.0.7/16" → 10.88.0.0/16). */
export function parseSubnet(text: string): Subnet {
  const { address, prefixLength } = parseAddressWithPrefix(text);
  return { network: (address & prefixMask(prefixLength)) >>> 0, prefixLength };
}

/** Formats a subnet as CIDR text. */
export function formatSubnet(subnet: Subnet): string {
  return `${formatIPv4(subnet.network)}/${subnet.prefixLength}`;
}

/** The broadcast (last) address of a subnet. */
export function broadcastAddress(subnet: Subnet): number {
  return (subnet.network | ~prefixMask(subnet.prefixLength)) >>> 0;
}

/** True when `address` lies inside `subnet`. */
export function subnetContains(subnet: Subnet, address: number): boolean {
  return ((address & prefixMask(subnet.prefixLength)) >>> 0) === subnet.network;
}

/** True when two subnets share at least one address. */
export function subnetsOverlap(first: Subnet, second: Subnet): boolean {
  const shorter = Math.min(first.prefixLength, second.prefixLength);
  const mask = prefixMask(shorter);
  return ((first.network & mask) >>> 0) === ((second.network & mask) >>> 0);
}

/** The four bytes of an address in network order, as netlink and sockets expect. */
export function ipv4Bytes(address: number): Uint8Array {
  return new Uint8Array([
    (address >>> 24) & 255,
    (address >>> 16) & 255,
    (address >>> 8) & 255,
    address & 255,
  ]);
}

/** The address in four network-order bytes. */
export function ipv4FromBytes(bytes: Uint8Array): number {
  return ((bytes[0] << 24) | (bytes[1] << 16) | (bytes[2] << 8) | bytes[3]) >>> 0;
}

/** True for 127.0.0.0/8. */
export function isLoopback(address: number): boolean {
  return address >>> 24 === 127;
}
