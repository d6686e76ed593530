// What this teaches: plain (ustar) tar headers have fixed, small fields: 100-byte names,
// 8-digit octal ids, whole-second mtimes, and no room for extended attributes. POSIX
// PAX headers add "length key=value\n" records before an entry; layers use them for long
// names and for xattrs (`SCHILY.xattr.security.capability=<raw bytes>`). Values are raw
// bytes, so this module keeps them as bytes: decoding an xattr such as a file capability
// as text would corrupt it.
// Mirrors Go's archive/tar PAX handling (parsePAXRecord / formatPAXRecord), which
// containerd and moby use to read and write layers.

import { LayerEntryError } from "./types.ts";

/** PAX records of one entry, key → raw value bytes. */
export type PaxRecords = Map<string, Uint8Array>;

/** Prefix of the PAX keys that carry extended attributes (the star/GNU/Go convention). */
export const xattrPaxPrefix = "SCHILY.xattr.";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Parses the body of a PAX header ("%d %s=%s\n" records). */
export function decodePaxRecords(body: Uint8Array, entryName = "PAX header"): PaxRecords {
  const records: PaxRecords = new Map();
  let offset = 0;
  while (offset < body.length) {
    // Padding after the last record (a zero byte) ends the list.
    if (body[offset] === 0) break;
    const space = body.indexOf(0x20, offset);
    const length = space < 0 ? NaN : Number(decoder.decode(body.subarray(offset, space)));
    const end = offset + length;
    if (!Number.isInteger(length) || length <= 0 || end > body.length || body[end - 1] !== 0x0a) {
      throw new LayerEntryError(entryName, `malformed PAX record at byte ${offset}`);
    }
    const record = body.subarray(space + 1, end - 1);
    const equals = record.indexOf(0x3d);
    if (equals <= 0) throw new LayerEntryError(entryName, `PAX record without a key`);
    records.set(decoder.decode(record.subarray(0, equals)), record.slice(equals + 1));
    offset = end;
  }
  return records;
}

/** Serializes PAX records; each record's length prefix counts its own digits. */
export function encodePaxRecords(records: Iterable<[string, Uint8Array]>): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const [key, value] of records) {
    const keyBytes = encoder.encode(key);
    const withoutLength = keyBytes.length + value.length + 3; // " " "=" "\n"
    let length = withoutLength + String(withoutLength).length;
    if (String(length).length !== String(withoutLength).length) {
      length = withoutLength + String(length).length;
    }
    const record = new Uint8Array(length);
    let offset = encoder.encodeInto(`${length} `, record).written;
    record.set(keyBytes, offset);
    offset += keyBytes.length;
    record[offset++] = 0x3d; // "="
    record.set(value, offset);
    offset += value.length;
    record[offset] = 0x0a; // "\n"
    parts.push(record);
  }
  const total = parts.reduce((sum, part) => sum + part.length, 0);
  const body = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    body.set(part, offset);
    offset += part.length;
  }
  return body;
}

/** The xattrs carried by PAX records, name → raw value. */
export function xattrsFromPax(records: PaxRecords | undefined): Map<string, Uint8Array> {
  const xattrs = new Map<string, Uint8Array>();
  if (records === undefined) return xattrs;
  for (const [key, value] of records) {
    if (key.startsWith(xattrPaxPrefix)) xattrs.set(key.slice(xattrPaxPrefix.length), value);
  }
  return xattrs;
}

/** A PAX text value ("mtime", "uid"…) as a string, or undefined. */
export function paxText(records: PaxRecords | undefined, key: string): string | undefined {
  const value = records?.get(key);
  return value === undefined ? undefined : decoder.decode(value);
}

/** Parses a PAX time ("1700000000.123456789", possibly negative) into seconds + nanoseconds. */
export function parsePaxTime(text: string): { seconds: number; nanoseconds: number } | undefined {
  const match = /^(-?)(\d+)(?:\.(\d+))?$/.exec(text);
  if (match === null) return undefined;
  const [, sign, whole, fraction = ""] = match;
  const nanoseconds = Number(fraction.slice(0, 9).padEnd(9, "0"));
  if (sign === "-" && nanoseconds > 0) {
    return { seconds: -Number(whole) - 1, nanoseconds: 1_000_000_000 - nanoseconds };
  }
  return { seconds: Number(sign + whole), nanoseconds };
}
