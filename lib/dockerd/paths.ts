// What this teaches: where dockerd keeps things. Everything that must survive a
// reboot is under the data-root (/var/lib/docker): the overlay2 layers, the image and
// layer databases, the containers' config and logs. Everything that only makes sense
// while the machine is up is under the exec-root (/var/run/docker): the supervised
// containerd's socket and state, network namespace handles.
// Mirrors moby's daemon/daemon.go (NewDaemon's directory set-up) and
// daemon/images/service.go (the `image/<driver>` root).

import { join } from "node:path";

/** Every path mini-dockerd uses, derived from data-root and exec-root. */
export interface DaemonPaths {
  dataRoot: string;
  execRoot: string;
  /** `overlay2/`: the graph driver's layers and `l/` links. */
  overlay2: string;
  /** `image/overlay2/`: imagedb, layerdb, repositories.json, distribution. */
  imageRoot: string;
  layerDb: string;
  imageDb: string;
  repositories: string;
  /** `image/overlay2/distribution/`: which registry blob digests are which diffIDs. */
  distribution: string;
  /** `containers/<id>/`: config.v2.json, hostconfig.json, logs (the containers module's). */
  containers: string;
  /** `tmp/`: downloads and uploads in progress. */
  tmp: string;
  /** `engine-id`: the daemon's stable ID (`docker info` ID). */
  engineId: string;
}

/** The paths for a data-root and exec-root. */
export function daemonPaths(dataRoot: string, execRoot: string): DaemonPaths {
  const imageRoot = join(dataRoot, "image", "overlay2");
  return {
    dataRoot,
    execRoot,
    overlay2: join(dataRoot, "overlay2"),
    imageRoot,
    layerDb: join(imageRoot, "layerdb"),
    imageDb: join(imageRoot, "imagedb"),
    repositories: join(imageRoot, "repositories.json"),
    distribution: join(imageRoot, "distribution"),
    containers: join(dataRoot, "containers"),
    tmp: join(dataRoot, "tmp"),
    engineId: join(dataRoot, "engine-id"),
  };
}
