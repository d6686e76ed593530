// What this teaches: the inputs and outputs of building an image without a
// registry or a builder: a root filesystem described as a list of entries, and the
// blobs (layer, config, manifest) that make it an OCI image.
// Mirrors what the official busybox image's build produces (docker-library/busybox:
// a rootfs tarball ADDed into `FROM scratch`, then `CMD ["sh"]`).

import type { Digest } from "../content/types.ts";
import type { Descriptor, Platform } from "../images/types.ts";

/** One path of the root filesystem, as it goes into the layer tar. */
export interface RootfsEntry {
  /** Relative to the root, without a leading "/" (e.g. "bin/busybox"). */
  path: string;
  type: "directory" | "file" | "link" | "symlink";
  /** Permission bits, including sticky/setuid (e.g. 0o1777 for /tmp). */
  mode: number;
  uid: number;
  gid: number;
  /** The bytes of a regular file. */
  content?: Uint8Array;
  /** For a hardlink: the earlier entry it shares the inode with; for a symlink: its target. */
  linkTarget?: string;
}

/** Options of the base image build; everything has a default so two builds match. */
export interface BaseImageOptions {
  /** The static busybox binary to put into the image (default /bin/busybox). */
  busyboxPath?: string;
  /** The image's full name (default docker.io/library/busybox:latest). */
  imageName?: string;
  /** The timestamp of the config, history and every file (default a fixed date). */
  created?: string;
  /** The platform recorded in the config (default: this machine's). */
  platform?: Platform;
}

/** A built image: its blobs in memory (a busybox image is ~1 MB) and its index. */
export interface BaseImage {
  name: string;
  /** The manifest descriptor, annotated with the image names, as index.json lists it. */
  manifest: Descriptor;
  config: Descriptor;
  layer: Descriptor;
  /** The uncompressed layer's digest, as listed in the config's rootfs.diff_ids. */
  diffId: Digest;
  /** Every blob by digest: layer, config, manifest. */
  blobs: Map<Digest, Uint8Array>;
}
