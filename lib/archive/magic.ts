// What this teaches: a compressed stream says what it is in its first bytes, its "magic
// number" (gzip 1f 8b, bzip2 "BZh", xz fd "7zXZ" 00, zstd 28 b5 2f fd), so unpackers
// never trust a file name or a media type. One table serves every reader in mini: the
// layer unpacker (which accepts gzip and zstd) and the builder and CLI (which also take
// bzip2 and xz, as Docker does for build contexts and ADD). No dependencies, so a CLI can
// load it cheaply.
// Mirrors moby's pkg/archive DetectCompression and containerd's
// pkg/archive/compression (DetectCompression).

/** A compression recognized by its magic number. */
export type ArchiveCompression = "gzip" | "bzip2" | "xz" | "zstd";

const MAGIC: [ArchiveCompression, number[]][] = [
  ["gzip", [0x1f, 0x8b]],
  ["bzip2", [0x42, 0x5a, 0x68]],
  ["xz", [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]],
  ["zstd", [0x28, 0xb5, 0x2f, 0xfd]],
];

/** The compression whose magic number `head` starts with, or undefined for none. */
export function compressionOf(head: Uint8Array): ArchiveCompression | undefined {
  for (const [name, magic] of MAGIC) {
    if (magic.length <= head.length && magic.every((byte, index) => head[index] === byte)) {
      return name;
    }
  }
  return undefined;
}
