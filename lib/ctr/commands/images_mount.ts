// What this teaches: `ctr images mount` shows what a container's rootfs is made of, with
// no container: unpack the image if needed, make a snapshot on its top chainID (a
// read-only View, or with --rw an Active one), and mount it. The snapshot's key is the
// mount point, so `images unmount TARGET --rm` knows which snapshot to remove.
// Mirrors containerd's cmd/ctr/commands/images/mount.go and unmount.go.

import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { isErrorCode } from "../../api/errors.ts";
import { mountAll, unmountAll } from "../../mount/mount.ts";
import type { Mount } from "../../mount/types.ts";
import { OVERLAYFS } from "../../snapshots/types.ts";
import { unpackImage } from "../../unpack/mod.ts";
import { parseLabelArguments } from "../table.ts";
import type { CtrSubcommand } from "../types.ts";
import { UsageError } from "../types.ts";

/** `mini-ctr images mount [--rw] [--platform P] [--snapshotter S] [--label k=v] IMAGE TARGET`. */
export const imagesMountSubcommand: CtrSubcommand = {
  name: "mount",
  aliases: [],
  summary: "mount an image's rootfs at a target path (read-only; --rw for writable)",
  async run(args, { client }) {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: {
        rw: { type: "boolean" },
        platform: { type: "string" },
        snapshotter: { type: "string" },
        label: { type: "string", multiple: true },
      },
    });
    const [imageName, targetArgument] = positionals;
    if (!imageName || !targetArgument) {
      throw new UsageError("please provide an image reference and a target path to mount");
    }
    const target = resolve(targetArgument);
    const targetInfo = await Deno.stat(target).catch(() => undefined);
    if (!targetInfo?.isDirectory) {
      throw new UsageError(`mount target ${target} is not a directory: create it first (mkdir -p)`);
    }
    const snapshotter = values.snapshotter ?? OVERLAYFS;
    const { chainId } = await unpackImage(client, imageName, {
      platform: values.platform,
      snapshotter,
    });
    const snapshots = client.snapshots(snapshotter);
    const labels = parseLabelArguments(values.label ?? []);
    let mounts: Mount[];
    let created = true;
    try {
      mounts = values.rw
        ? await snapshots.prepare(target, chainId, { labels })
        : await snapshots.view(target, chainId, { labels });
    } catch (error) {
      if (!isErrorCode(error, "already_exists")) throw error;
      mounts = await snapshots.mounts(target);
      created = false;
    }
    try {
      mountAll(mounts, target);
    } catch (error) {
      if (created) await snapshots.remove(target).catch(() => {});
      throw error;
    }
    console.log(target);
    return 0;
  },
};

/** `mini-ctr images unmount [--rm] TARGET`. */
export const imagesUnmountSubcommand: CtrSubcommand = {
  name: "unmount",
  aliases: [],
  summary: "unmount an image's rootfs from a target path (--rm also removes its snapshot)",
  async run(args, { client }) {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: { rm: { type: "boolean" }, snapshotter: { type: "string" } },
    });
    const [targetArgument] = positionals;
    if (!targetArgument) throw new UsageError("please provide a target path to unmount from");
    const target = resolve(targetArgument);
    await unmountAll(target);
    if (values.rm) await client.snapshots(values.snapshotter ?? OVERLAYFS).remove(target);
    console.log(target);
    return 0;
  },
};
