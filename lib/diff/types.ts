// What this teaches: the Diff service is the bridge between the two halves of container
// storage: content (blobs, addressed by digest) and snapshots (directories, described by
// mounts). *Apply* takes a layer blob and writes its changes into a snapshot's mounts;
// *Diff* (containerd's Comparer) compares two mounts and writes the difference as a new
// layer blob. Pulling an image is a chain of Applies; `docker commit` is one Diff.
// Mirrors containerd's core/diff/diff.go (Applier, Comparer, Config, ApplyConfig) and
// api/services/diff/v1/diff.proto.

import type { Labels } from "../metadata/db.ts";
import type { Mount } from "../mount/types.ts";
import type { Descriptor } from "../images/types.ts";

/** Options of Diff (containerd's diff.Config). */
export interface DiffRequestOptions {
  /** Media type of the new layer, which also picks its compression (default: OCI gzip). */
  mediaType?: string;
  /** Ingest ref for the write into the content store (default: a random one). */
  ref?: string;
  /** Labels for the new blob (`containerd.io/uncompressed` is always added). */
  labels?: Labels;
  /** SOURCE_DATE_EPOCH: clamp mtimes so the same tree gives the same digest. */
  sourceDateEpoch?: number;
}

/** Options of Apply. */
export interface ApplyRequestOptions {
  /** Allow character/block device entries (off: a layer may not hand out raw devices). */
  allowDevices?: boolean;
}

/**
 * The Diff service seen through the API, one namespace at a time. The daemon's Diff
 * service serves it; the client's DiffClient implements it over the socket.
 */
export interface DiffApi {
  /**
   * Applies the layer blob `descriptor` (from the content store) onto `mounts`. Returns
   * the descriptor of the uncompressed tar that was applied: its digest is the diffID.
   */
  apply(
    descriptor: Descriptor,
    mounts: Mount[],
    options?: ApplyRequestOptions,
  ): Promise<Descriptor>;
  /**
   * Writes the changes that turn `lower` into `upper` as a layer blob into the content
   * store and returns the blob's descriptor (containerd's Compare, route `Diff`).
   */
  diff(lower: Mount[], upper: Mount[], options?: DiffRequestOptions): Promise<Descriptor>;
}
