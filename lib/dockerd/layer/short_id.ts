// What this teaches: why Docker's overlay2 directory has an `l/` folder full of
// symlinks with 26-character names. An overlay mount names every lower layer in one
// option string, `lowerdir=A:B:C...`, and the kernel accepts at most one page (4096
// bytes) of mount data. With full paths such as
// /var/lib/docker/overlay2/<64 hex>/diff (~90 bytes each) only about 40 layers fit.
// So each layer also gets a short name, `l/<26 chars>` → `../<cache-id>/diff`, and the
// mount is made from inside the overlay2 directory with relative lowerdirs:
//   one lowerdir = "l/" (2) + 26 chars + ":" separator (1) ≈ 29 bytes,
//   (26 + 2) × 128 = 3584 = 4096 − 512,
// i.e. 128 lower layers fit with 512 bytes left for upperdir=, workdir= and the
// rest. That is the driver's maximum depth (128); the layer store keeps images to 125
// layers so that the -init layer and the container layer still fit on top.
// 26 characters of base32 (A–Z, 2–7: 5 bits each) are exactly the encoding of 16
// random bytes (128 bits → 25.6 characters, rounded up), so collisions are not a
// practical concern.
// Mirrors moby's daemon/graphdriver/overlay2/overlay.go (idLength, maxDepth, linkDir)
// and overlayutils.GenerateID.

/** Length of a short link name. */
export const SHORT_ID_LENGTH = 26;
/** The most lower layers one overlay mount may stack (the driver's maxDepth). */
export const MAX_LOWER_DEPTH = 128;
/** The most layers an image may have (moby's layer store maxLayerDepth). */
export const MAX_IMAGE_LAYERS = 125;
/** The directory of short links inside overlay2/. */
export const LINK_DIR = "l";

const base32Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/** RFC 4648 base32 (no padding) of `bytes`. */
export function base32(bytes: Uint8Array): string {
  let bits = 0;
  let value = 0;
  let output = "";
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      output += base32Alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    value &= (1 << bits) - 1;
  }
  if (bits > 0) output += base32Alphabet[(value << (5 - bits)) & 31];
  return output;
}

/** A fresh 26-character short id: base32 of 16 random bytes. */
export function generateShortId(): string {
  return base32(crypto.getRandomValues(new Uint8Array(16))).slice(0, SHORT_ID_LENGTH);
}

/** True for a well-formed short id (what `l/` may contain). */
export function isShortId(name: string): boolean {
  return name.length === SHORT_ID_LENGTH && /^[A-Z2-7]+$/.test(name);
}

/** A random 64-hex id, as Docker uses for cache ids, mount ids and container ids. */
export function randomHexId(): string {
  return Array.from(
    crypto.getRandomValues(new Uint8Array(32)),
    (byte) => byte.toString(16).padStart(2, "0"),
  ).join("");
}
