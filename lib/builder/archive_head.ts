// What this teaches: how Docker tells an archive from any other file: by its first bytes,
// never by its name. Compressed streams start with a magic number (gzip 1f 8b, bzip2 "BZh",
// xz fd "7zXZ" 00, zstd 28 b5 2f fd); a tar starts with a 512-byte header whose checksum
// field holds the sum of the header's bytes. The same test decides whether the body of
// `docker build -` is a context or a bare Dockerfile (in the CLI and in the daemon) and
// whether ADD unpacks a file or copies it. No dependencies: the CLI loads it cheaply.
// The magic numbers themselves are in lib/archive/magic.ts.
// Mirrors moby's pkg/archive (DetectCompression, IsArchivePath) and docker/cli's
// cli/command/image/build (IsArchive), Go's archive/tar header checksum.

import { compressionOf } from "../archive/magic.ts";

/** Re-exported for the builder and the CLI: the one magic-number table is lib/archive's. */
export { type ArchiveCompression, compressionOf } from "../archive/magic.ts";

/** The size of a tar header block (and the most bytes the detection needs). */
export const TAR_BLOCK_SIZE = 512;

/**
 * True when `block` is a tar header: its checksum field (octal, bytes 148-155) equals the
 * sum of the block's bytes with that field counted as spaces. This accepts ustar, GNU and
 * old v7 headers alike, and rejects the all-zero block that ends an archive.
 */
export function isTarHeader(block: Uint8Array): boolean {
  if (block.length < TAR_BLOCK_SIZE) return false;
  const field = new TextDecoder().decode(block.subarray(148, 156)).replace(/[\0 ]+$/, "").trim();
  if (!/^[0-7]+$/.test(field)) return false;
  let sum = 0;
  for (let index = 0; index < TAR_BLOCK_SIZE; index++) {
    sum += index >= 148 && index < 156 ? 0x20 : block[index];
  }
  return sum === parseInt(field, 8);
}

/** True when `head` (the first 512 bytes, or all of a shorter stream) is a tar, compressed or not. */
export function looksLikeArchive(head: Uint8Array): boolean {
  return compressionOf(head) !== undefined || isTarHeader(head);
}
