// What this teaches: how a pulled image becomes something a container can run from.
// The config lists the layers' diffIDs; each prefix of that list has a chainID naming the
// whole stack up to it. For each layer, bottom up: if a committed snapshot named by the
// chainID already exists, another image already unpacked exactly this stack and it is
// shared; otherwise prepare an Active snapshot on the previous one, let the Diff service
// apply the layer blob into it, check that the uncompressed bytes hash to the diffID the
// config promised, and commit it under the chainID. Finally two labels tie it into
// garbage collection: the layer blob records its diffID (`containerd.io/uncompressed`),
// and the config blob points at the top snapshot
// (`containerd.io/gc.ref.snapshot.overlayfs=<chainID>`), so an image keeps its snapshots
// and deleting the image lets the collector remove them. A lease protects the snapshots
// committed along the way until the config label is in place.
// Mirrors containerd's core/unpack/unpacker.go and core/rootfs/apply.go
// (ApplyLayerWithOpts: the `extract-<random> <chainID>` key, the already-exists race).

import { ApiError, failedPrecondition, invalidArgument, isErrorCode } from "../api/errors.ts";
import type { ContainerdClient } from "../client/client.ts";
import type { SnapshotsClient } from "../client/snapshots.ts";
import { uniquePart } from "../diff/create.ts";
import { UNCOMPRESSED_LABEL } from "../diff/walking.ts";
import { GC_REF_SNAPSHOT_PREFIX } from "../gc/labels.ts";
import { chainIds } from "../images/identity.ts";
import { configPlatform, resolveImage } from "../images/image.ts";
import type { Descriptor, Platform } from "../images/types.ts";
import { defaultPlatformMatcher, onlyPlatform } from "../platforms/compare.ts";
import { formatPlatform, parsePlatform } from "../platforms/parse.ts";
import { OVERLAYFS } from "../snapshots/types.ts";

/** Options of unpackImage(). */
export interface UnpackOptions {
  /**
   * Platform to unpack (`linux/amd64`, or a parsed Platform); default: the best one this
   * host runs.
   */
  platform?: string | Platform;
  /** Snapshotter to unpack into; mini has only "overlayfs". */
  snapshotter?: string;
}

/** What an unpack produced. */
export interface UnpackResult {
  /** The chainID of the whole stack: the key of the image's top snapshot ("" without layers). */
  chainId: string;
  /** The platform that was unpacked, e.g. `linux/amd64`. */
  platform: string;
  /** The digest of the image config, which now carries the snapshot label. */
  config: string;
}

/** How long the unpack's lease lives if the unpacker dies before deleting it. */
const UNPACK_LEASE_MS = 60 * 60 * 1000;

/**
 * Unpacks image `imageName` into snapshots named by chainID; layers already unpacked
 * (by this or another image) are reused. Refuses a layer whose content does not hash to
 * the diffID listed in the image config.
 */
export async function unpackImage(
  client: ContainerdClient,
  imageName: string,
  options: UnpackOptions = {},
): Promise<UnpackResult> {
  const snapshotter = options.snapshotter ?? OVERLAYFS;
  const image = await client.images.get(imageName);
  const wanted = typeof options.platform === "string"
    ? parsePlatform(options.platform)
    : options.platform;
  const matcher = wanted ? onlyPlatform(wanted) : defaultPlatformMatcher();
  const resolved = await resolveImage(client.content, image.target, matcher);
  const diffIds = resolved.config.rootfs?.diff_ids ?? [];
  const layers = resolved.manifest.layers;
  if (layers.length !== diffIds.length) {
    throw invalidArgument(
      `image ${imageName}: the manifest lists ${layers.length} layers but the config lists ` +
        `${diffIds.length} diff_ids; the image is inconsistent`,
    );
  }
  const chain = chainIds(diffIds);
  const lease = await client.leases.create({
    labels: { "mini.unpack": imageName },
    expiresInMs: UNPACK_LEASE_MS,
  });
  try {
    const snapshots = client.snapshots(snapshotter).withLease(lease.id);
    let parent = "";
    for (const [index, layer] of layers.entries()) {
      await unpackLayer(client, snapshots, layer, diffIds[index], chain[index], parent);
      parent = chain[index];
    }
    const top = chain.at(-1) ?? "";
    if (top !== "") {
      await client.content.updateLabels(
        resolved.manifest.config.digest,
        { [GC_REF_SNAPSHOT_PREFIX + snapshotter]: top },
        { merge: true },
      );
    }
    return {
      chainId: top,
      platform: formatPlatform(configPlatform(resolved.config)),
      config: resolved.manifest.config.digest,
    };
  } finally {
    // The config label (or the image's absence) decides from here on.
    await client.leases.delete(lease.id).catch(() => {});
  }
}

/** Makes sure the committed snapshot `chainId` exists, applying `layer` if it does not. */
async function unpackLayer(
  client: ContainerdClient,
  snapshots: SnapshotsClient,
  layer: Descriptor,
  diffId: string,
  chainId: string,
  parent: string,
): Promise<void> {
  if (await committedExists(snapshots, chainId)) return;
  const key = `extract-${uniquePart()} ${chainId}`;
  const mounts = await snapshots.prepare(key, parent, {
    labels: { "containerd.io/snapshot.ref": chainId },
  });
  let committed = false;
  try {
    const applied = await client.diff().apply(layer, mounts);
    if (applied.digest !== diffId) {
      throw invalidArgument(
        `layer ${layer.digest} unpacks to diffID ${applied.digest}, but the image config ` +
          `lists ${diffId}: refusing an image whose layers do not match its config`,
      );
    }
    try {
      await snapshots.commit(chainId, key);
      committed = true;
    } catch (error) {
      // Another unpack of the same stack committed first: its snapshot is as good as ours.
      if (!isErrorCode(error, "already_exists")) throw error;
    }
    await client.content.updateLabels(layer.digest, { [UNCOMPRESSED_LABEL]: diffId }, {
      merge: true,
    });
  } finally {
    if (!committed) await snapshots.remove(key).catch(() => {});
  }
}

async function committedExists(snapshots: SnapshotsClient, chainId: string): Promise<boolean> {
  try {
    const info = await snapshots.stat(chainId);
    if (info.kind !== "Committed") {
      throw failedPrecondition(
        `snapshot ${chainId} exists but is ${info.kind}, not Committed: remove it and unpack again`,
      );
    }
    return true;
  } catch (error) {
    if (error instanceof ApiError && error.code === "not_found") return false;
    throw error;
  }
}
