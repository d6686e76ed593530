// What this teaches: a layer cannot store "this file is gone", so the OCI image spec
// marks deletions with empty marker files, *whiteouts*: `.wh.NAME` deletes NAME from the
// layers below, and `.wh..wh..opq` makes its directory *opaque* (nothing below shows
// through). Overlayfs records the same facts differently in an upperdir: a deletion is a
// character device with device number 0/0, an opaque directory carries the xattr
// `trusted.overlay.opaque=y`. Apply and diff translate between the two forms.
// Mirrors moby's pkg/archive whiteouts.go / archive_linux.go (overlayWhiteoutConverter)
// and containerd's pkg/archive (OverlayConvertWhiteout).

import { LayerEntryError } from "./types.ts";

/** Prefix of a whiteout marker's base name. */
export const whiteoutPrefix = ".wh.";
/** Prefix reserved for AUFS metadata files (`.wh..wh.plnk` …); layers may carry them. */
export const whiteoutMetaPrefix = ".wh..wh.";
/** The opaque-directory marker. */
export const opaqueWhiteout = ".wh..wh..opq";
/** The xattr with which overlayfs marks an opaque directory in an upperdir. */
export const overlayOpaqueXattr = "trusted.overlay.opaque";
/** Prefix of every xattr overlayfs uses for its own bookkeeping. */
export const overlayXattrPrefix = "trusted.overlay.";

/** What a base name means as a whiteout. */
export type WhiteoutMeaning =
  | { kind: "opaque" }
  | { kind: "whiteout"; hiddenName: string }
  | { kind: "aufs-metadata" }
  | { kind: "none" };

/** Classifies the base name of a layer entry. `entryName` is only used in errors. */
export function classifyWhiteout(baseName: string, entryName: string): WhiteoutMeaning {
  if (!baseName.startsWith(whiteoutPrefix)) return { kind: "none" };
  if (baseName === opaqueWhiteout) return { kind: "opaque" };
  if (baseName.startsWith(whiteoutMetaPrefix)) return { kind: "aufs-metadata" };
  const hiddenName = baseName.slice(whiteoutPrefix.length);
  // ".wh.." and ".wh..." would delete the directory itself or its parent.
  if (hiddenName === "" || hiddenName === "." || hiddenName === "..") {
    throw new LayerEntryError(entryName, "the whiteout names no file it could delete");
  }
  return { kind: "whiteout", hiddenName };
}

/** True for the kernel's whiteout: a character device with major and minor 0. */
export function isOverlayWhiteoutDevice(
  isCharacterDevice: boolean,
  rdev: { major: number; minor: number },
): boolean {
  return isCharacterDevice && rdev.major === 0 && rdev.minor === 0;
}
