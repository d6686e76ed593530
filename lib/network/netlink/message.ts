// What this teaches: the wire format of netlink. Every message is a 16-byte header
// (length, type, flags, sequence number, port id) followed by a fixed struct for its
// family (ifinfomsg for links, ifaddrmsg for addresses, rtmsg for routes) and a list of
// type-length-value attributes, each padded to 4 bytes. Attributes nest: a veth's peer
// is an attribute inside "link info data" inside "link info". Integers are in host byte
// order; IP addresses are raw bytes in network order.
// Mirrors github.com/vishvananda/netlink/nl/nl_linux.go (NetlinkRequest, RtAttr).

import { HeaderSize, NLA_F_NESTED, NLA_TYPE_MASK } from "./constants.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Rounds `length` up to netlink's 4-byte alignment. */
export function align4(length: number): number {
  return (length + 3) & ~3;
}

/**
 * Builds one netlink message: the header, the family struct, then attributes. Nested
 * attributes are written with `nest()`, which patches the nest's length when its body
 * is done.
 */
export class MessageWriter {
  #bytes = new Uint8Array(256);
  #view = new DataView(this.#bytes.buffer);
  #length = 0;

  /** Starts the message with its header; the total length is patched by `finish()`. */
  constructor(type: number, flags: number, sequence: number) {
    this.u32(0); // nlmsg_len, patched later
    this.u16(type);
    this.u16(flags);
    this.u32(sequence);
    this.u32(0); // nlmsg_pid: 0 addresses the kernel
  }

  #reserve(extra: number): void {
    if (this.#length + extra <= this.#bytes.length) return;
    const grown = new Uint8Array(Math.max(this.#bytes.length * 2, this.#length + extra));
    grown.set(this.#bytes.subarray(0, this.#length));
    this.#bytes = grown;
    this.#view = new DataView(grown.buffer);
  }

  u8(value: number): this {
    this.#reserve(1);
    this.#view.setUint8(this.#length, value);
    this.#length += 1;
    return this;
  }

  u16(value: number): this {
    this.#reserve(2);
    this.#view.setUint16(this.#length, value, true);
    this.#length += 2;
    return this;
  }

  u32(value: number): this {
    this.#reserve(4);
    this.#view.setUint32(this.#length, value >>> 0, true);
    this.#length += 4;
    return this;
  }

  i32(value: number): this {
    this.#reserve(4);
    this.#view.setInt32(this.#length, value, true);
    this.#length += 4;
    return this;
  }

  raw(bytes: Uint8Array): this {
    this.#reserve(bytes.length);
    this.#bytes.set(bytes, this.#length);
    this.#length += bytes.length;
    return this;
  }

  #pad(): void {
    const padded = align4(this.#length);
    this.#reserve(padded - this.#length);
    while (this.#length < padded) this.#bytes[this.#length++] = 0;
  }

  /** An attribute whose value is raw bytes (an IP address, a MAC). */
  attribute(type: number, value: Uint8Array): this {
    this.u16(HeaderSize.ATTRIBUTE + value.length);
    this.u16(type);
    this.raw(value);
    this.#pad();
    return this;
  }

  /** A NUL-terminated string attribute (IFLA_IFNAME, IFLA_INFO_KIND). */
  stringAttribute(type: number, text: string): this {
    const bytes = encoder.encode(text);
    const value = new Uint8Array(bytes.length + 1);
    value.set(bytes);
    return this.attribute(type, value);
  }

  /** A 32-bit integer attribute (IFLA_MASTER, IFLA_NET_NS_FD, RTA_OIF). */
  u32Attribute(type: number, value: number): this {
    const bytes = new Uint8Array(4);
    new DataView(bytes.buffer).setUint32(0, value >>> 0, true);
    return this.attribute(type, bytes);
  }

  /** A nested attribute: `body` writes the attributes (or structs) inside it. */
  nest(type: number, body: (writer: this) => void): this {
    const start = this.#length;
    this.u16(0);
    this.u16(type | NLA_F_NESTED);
    body(this);
    this.#view.setUint16(start, this.#length - start, true);
    this.#pad();
    return this;
  }

  /** The finished message with its length filled in. */
  finish(): Uint8Array<ArrayBuffer> {
    this.#view.setUint32(0, this.#length, true);
    return this.#bytes.slice(0, this.#length);
  }
}

/** One message read back from the kernel. */
export interface NetlinkMessage {
  type: number;
  flags: number;
  sequence: number;
  /** The bytes after the 16-byte header (family struct + attributes). */
  payload: Uint8Array;
}

/** Splits a datagram from the socket into its messages. */
export function parseMessages(datagram: Uint8Array): NetlinkMessage[] {
  const view = new DataView(datagram.buffer, datagram.byteOffset, datagram.byteLength);
  const messages: NetlinkMessage[] = [];
  let offset = 0;
  while (offset + HeaderSize.MESSAGE <= datagram.length) {
    const length = view.getUint32(offset, true);
    if (length < HeaderSize.MESSAGE || offset + length > datagram.length) {
      throw new Error(`malformed netlink message: length ${length} at offset ${offset}`);
    }
    messages.push({
      type: view.getUint16(offset + 4, true),
      flags: view.getUint16(offset + 6, true),
      sequence: view.getUint32(offset + 8, true),
      payload: datagram.subarray(offset + HeaderSize.MESSAGE, offset + length),
    });
    offset += align4(length);
  }
  return messages;
}

/**
 * Reads the attributes in `bytes` from `offset` (past the family struct). A type seen
 * twice keeps its first value; the nested and byte-order flag bits are masked off.
 */
export function parseAttributes(bytes: Uint8Array, offset = 0): Map<number, Uint8Array> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const attributes = new Map<number, Uint8Array>();
  while (offset + HeaderSize.ATTRIBUTE <= bytes.length) {
    const length = view.getUint16(offset, true);
    const type = view.getUint16(offset + 2, true) & NLA_TYPE_MASK;
    if (length < HeaderSize.ATTRIBUTE || offset + length > bytes.length) break;
    if (!attributes.has(type)) {
      attributes.set(type, bytes.subarray(offset + HeaderSize.ATTRIBUTE, offset + length));
    }
    offset += align4(length);
  }
  return attributes;
}

/** A string attribute's value without its NUL terminator. */
export function attributeString(value: Uint8Array | undefined): string | undefined {
  if (value === undefined) return undefined;
  const end = value.indexOf(0);
  return decoder.decode(end === -1 ? value : value.subarray(0, end));
}

/** A 32-bit integer attribute's value. */
export function attributeU32(value: Uint8Array | undefined): number | undefined {
  if (value === undefined || value.length < 4) return undefined;
  return new DataView(value.buffer, value.byteOffset, 4).getUint32(0, true);
}
