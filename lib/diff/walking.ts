// What this teaches: how a layer gets into a snapshot and back out, the way containerd's
// default differ does it on overlayfs.
//
// Apply. The snapshot being filled is Active, so its mounts are an overlay (with parents)
// or a writable bind (without). Two strategies exist:
//   1. mount the overlay and extract the layer into the merged view; deletions then go
//      through the kernel, which records whiteouts in the upperdir itself;
//   2. skip the mount and extract straight into the upperdir, writing deletions in the
//      kernel's own form (a 0/0 character device for `.wh.NAME`, the xattr
//      `trusted.overlay.opaque=y` for `.wh..wh..opq`).
// mini takes the second, as containerd does (its overlay "fast path" in apply_linux.go):
// it saves a mount and an unmount per layer, never copies a lower file up only to replace
// it, and stores in the upperdir exactly the layer's own changes, which is what a later
// diff of this snapshot must reproduce. Any other mounts fall back to strategy 1.
//
// Diff. The snapshot to diff sits on the lower one, so the upper mounts are the lower's
// directories plus one more on top. That top directory *is* the change set: its files are
// the additions and modifications, its 0/0 devices and opaque xattrs the deletions. Like
// containerd (continuity's overlay diff detection), mini then reads only that directory,
// instead of walking and comparing two whole trees.
// Mirrors containerd's plugins/diff/walking/differ.go (Compare) and
// plugins/diff/apply/apply_linux.go (apply, getOverlayPath).

import { randomUUID } from "node:crypto";
import { ApiError, failedPrecondition, invalidArgument } from "../api/errors.ts";
import { applyLayer, diffLayer } from "../archive/mod.ts";
import type { Compression, WhiteoutFormat } from "../archive/types.ts";
import type { ContentApi } from "../content/types.ts";
import { isLayerType, MediaTypes } from "../images/media_types.ts";
import type { Descriptor } from "../images/types.ts";
import { layerStack, stackDirectories } from "../mount/layers.ts";
import { withTempMount } from "../mount/temp.ts";
import type { Mount } from "../mount/types.ts";
import type { ApplyRequestOptions, DiffRequestOptions } from "./types.ts";

/** The label a layer blob carries with its diffID. */
export const UNCOMPRESSED_LABEL = "containerd.io/uncompressed";

/** How apply reaches the snapshot's files. */
export interface ApplyTarget {
  /** The directory the layer is extracted into. */
  directory: string;
  /** How deletions are written there. */
  whiteoutFormat: WhiteoutFormat;
}

/**
 * Decides where a layer goes for the given mounts: the upperdir of an Active overlay
 * (deletions in overlay form), the directory of a writable bind (a plain tree), or
 * undefined when only a real mount of the whole stack can do (deletions by the kernel).
 */
export function directApplyTarget(mounts: readonly Mount[]): ApplyTarget | undefined {
  const stack = layerStack(mounts);
  if (stack?.writable === undefined) return undefined;
  return {
    directory: stack.writable,
    whiteoutFormat: mounts[0].type === "overlay" ? "overlay" : "oci",
  };
}

/** Applies the layer blob `descriptor` onto `mounts`; returns the applied tar's descriptor. */
export async function applyDescriptor(
  content: ContentApi,
  descriptor: Descriptor,
  mounts: Mount[],
  options: ApplyRequestOptions = {},
): Promise<Descriptor> {
  if (!isLayerType(descriptor.mediaType)) {
    throw invalidArgument(
      `cannot apply ${descriptor.digest}: media type ${descriptor.mediaType} is not a layer`,
    );
  }
  const allowDevices = options.allowDevices ?? false;
  const extract = async (directory: string, whiteoutFormat: WhiteoutFormat) => {
    const stream = await content.read(descriptor.digest);
    try {
      return await applyLayer(directory, stream, { whiteoutFormat, allowDevices });
    } catch (error) {
      // A refused entry stops the apply half way: release the blob's reader too.
      await stream.cancel().catch(() => {});
      throw error;
    }
  };
  const direct = directApplyTarget(mounts);
  const result = direct
    ? await extract(direct.directory, direct.whiteoutFormat)
    : await withTempMount(mounts, (root) => extract(root, "oci"));
  return { mediaType: MediaTypes.ociLayer, digest: result.diffId, size: result.size };
}

/** The compression a layer media type asks for. */
export function compressionOf(mediaType: string): Compression {
  if (!isLayerType(mediaType)) {
    throw invalidArgument(`media type ${mediaType} is not a layer media type`);
  }
  if (mediaType.endsWith("gzip")) return "gzip";
  if (mediaType.endsWith("zstd")) return "zstd";
  if (mediaType.endsWith("tar")) return "none";
  throw invalidArgument(`media type ${mediaType}: unknown layer compression`);
}

/**
 * The directory holding exactly the changes from `lower` to `upper`: the top directory
 * of `upper` when the rest of `upper` is `lower`'s stack. Throws failed_precondition
 * otherwise (two unrelated trees would need a full two-tree walk, which mini leaves out).
 */
export function changeDirectory(lower: readonly Mount[], upper: readonly Mount[]): string {
  const lowerStack = layerStack(lower);
  const upperStack = layerStack(upper);
  if (!lowerStack || !upperStack) {
    throw failedPrecondition(
      "mini's differ reads overlay and bind mounts of snapshots only; got " +
        `${describe(lower)} and ${describe(upper)}`,
    );
  }
  const lowerDirectories = stackDirectories(lowerStack);
  const [top, ...rest] = stackDirectories(upperStack);
  const related = top !== undefined && rest.length === lowerDirectories.length &&
    rest.every((directory, index) => directory === lowerDirectories[index]);
  if (!related) {
    throw failedPrecondition(
      "the upper mounts must be the lower mounts plus one layer on top (a snapshot and its " +
        "parent); mini's differ does not compare unrelated trees",
    );
  }
  return top;
}

function describe(mounts: readonly Mount[]): string {
  return mounts.length === 0 ? "no mounts" : mounts.map((mount) => mount.type).join("+");
}

/** Writes the diff of `lower` → `upper` into the content store; returns the blob's descriptor. */
export async function diffMounts(
  content: ContentApi,
  lower: Mount[],
  upper: Mount[],
  options: DiffRequestOptions = {},
): Promise<Descriptor> {
  const mediaType = options.mediaType || MediaTypes.ociLayerGzip;
  const compression = compressionOf(mediaType);
  const directory = changeDirectory(lower, upper);
  const { stream, result } = diffLayer(directory, {
    compression,
    sourceDateEpoch: options.sourceDateEpoch,
  });
  const ref = options.ref || `diff-${randomUUID()}`;
  let written;
  try {
    written = await content.write(stream, { ref, labels: options.labels ?? {} });
  } catch (error) {
    await stream.cancel().catch(() => {});
    await result.catch(() => {});
    throw error;
  }
  const diff = await result;
  if (written.digest !== diff.digest) {
    throw new ApiError(
      "internal",
      `the content store committed ${written.digest} but the differ produced ${diff.digest}`,
    );
  }
  // The diffID is only known once the stream ended, so the label follows the write.
  await content.updateLabels(diff.digest, { [UNCOMPRESSED_LABEL]: diff.diffId }, { merge: true });
  return { mediaType, digest: diff.digest, size: diff.size };
}
