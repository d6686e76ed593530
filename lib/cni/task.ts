// What this teaches: how `ctr run --cni` networks a container. The task is created
// first (its init process exists, paused before the user's command, inside a fresh
// network namespace); the CNI plugins are run on /proc/<pid>/ns/net of that init; only
// then is the task started, so the command finds eth0 ready. After the task exits and
// is deleted, DEL runs with an empty netns path (the namespace is gone with its last
// process; the plugins release addresses and host-side state by container ID).
// The CNI container ID is "<namespace>-<container id>", as ctr's commands.FullID.
// Mirrors containerd's cmd/ctr/commands/run/run_unix.go (the enableCNI branches).

import { Cni } from "./cni.ts";
import type { CniOptions, SetupResult } from "./types.ts";

/** Which container, and where the CNI configuration lives. */
export interface TaskNetworkOptions extends CniOptions {
  /** The containerd namespace ("default"). */
  namespace: string;
  containerId: string;
}

/** ctr's FullID: CNI container IDs are unique across containerd namespaces. */
export function cniContainerId(namespace: string, containerId: string): string {
  return `${namespace}-${containerId}`;
}

/** Runs CNI ADD for a created (not yet started) task whose init has `pid`. */
export async function setupCniForTask(
  options: TaskNetworkOptions,
  pid: number,
): Promise<SetupResult> {
  const cni = Cni.load(options);
  return await cni.setup(
    cniContainerId(options.namespace, options.containerId),
    `/proc/${pid}/ns/net`,
  );
}

/** Runs CNI DEL after the task is gone (empty netns path, as ctr does). */
export async function removeCniForTask(options: TaskNetworkOptions): Promise<void> {
  const cni = Cni.load(options);
  await cni.remove(cniContainerId(options.namespace, options.containerId), "");
}
