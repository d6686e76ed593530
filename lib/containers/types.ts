// What this teaches: in containerd a "container" is only metadata, nothing runs: an ID,
// the image it came from, which snapshot is its root filesystem, the OCI spec to run,
// which runtime runs it, and labels. A running process is a separate object, the task
// (lib/tasks). `ctr containers create` makes a container and starts nothing.
// Mirrors containerd's `core/containers/containers.go` (type Container, RuntimeInfo).

import type { Labels } from "../metadata/db.ts";
import type { Spec } from "../oci_spec/types.ts";

/** The runtime containerd runs runc-compatible runtimes with (through one shim each). */
export const DEFAULT_RUNTIME_NAME = "io.containerd.runc.v2";

/** Options of the runc-style runtime (containerd's `options.Options` of runtime/v2/runc). */
export interface RuntimeOptions {
  /** The OCI runtime binary: a path, or a name looked up on PATH ("runc"). */
  binaryName?: string;
  /** The runtime's state directory (its `--root`); defaults under the daemon's state dir. */
  root?: string;
}

/** Which runtime runs the container, and how. */
export interface RuntimeInfo {
  name: string;
  options?: RuntimeOptions;
}

/** One container record. */
export interface Container {
  id: string;
  /** The image reference it was created from ("" when made from a bare rootfs). */
  image: string;
  labels: Labels;
  runtime: RuntimeInfo;
  /** The OCI runtime spec (config.json) the task will run. */
  spec: Spec;
  /** The snapshotter holding its root filesystem ("" with a spec root outside any snapshotter). */
  snapshotter: string;
  /** The key of its active snapshot in that snapshotter. */
  snapshotKey: string;
  createdAt: string;
  updatedAt: string;
}

/** What a client sends to create a container. */
export interface ContainerInput {
  id: string;
  image?: string;
  labels?: Labels;
  runtime?: RuntimeInfo;
  spec: Spec;
  snapshotter?: string;
  snapshotKey?: string;
}

/**
 * The fields Update may change, as containerd's field paths: `labels`, `labels.<key>`,
 * `image`, `spec`, `snapshotkey`. The runtime and snapshotter are fixed at creation.
 */
export type ContainerFieldPath = string;

/** The Containers service seen through the API, one namespace at a time. */
export interface ContainersApi {
  get(id: string): Promise<Container>;
  /** Filters as ctr's: `id==`, `image==`, `runtime.name==`, `snapshotter==`, `labels.<k>==`. */
  list(filters?: string[]): Promise<Container[]>;
  create(container: ContainerInput): Promise<Container>;
  /** Updates the given field paths (all updatable fields when none are given). */
  update(
    container: Partial<ContainerInput> & { id: string },
    fieldPaths?: string[],
  ): Promise<Container>;
  delete(id: string): Promise<void>;
}
