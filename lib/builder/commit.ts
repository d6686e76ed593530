// What this teaches: how one build step becomes an image. The step's changes (a
// container's overlay upper directory) are walked into a layer tar, registered in the
// layer store on top of the parent's layers, and a new image config is written: the
// parent's config with this step's settings, its diff_ids plus the new layer's diffID,
// and its history plus one entry whose `created_by` is the step (`/bin/sh -c #(nop)
// ENV A=b`). A step that changed no file adds no layer, only a history entry marked
// `empty_layer`. The image is stored with the parent recorded as its local parent:
// that link is what `docker history` walks and what the cache searches.
// With SOURCE_DATE_EPOCH every time (file mtimes in the layer, `created`) is clamped
// and nothing random (container IDs, hostnames) enters the config, so the image ID
// depends on the inputs alone.
// Mirrors moby's builder/dockerfile/internals.go (commitContainer), daemon/commit.go and
// daemon/images/image_commit.go (CommitImage, CreateImage), and image/image.go
// (NewChildImage, the field order of the config JSON).

import { diffLayer } from "../archive/diff.ts";
import type { Daemon } from "../dockerd/daemon.ts";
import { ENGINE_VERSION } from "../dockerd/image/image_service.ts";
import { formatNanoTime, type ImageRecord } from "../dockerd/image/image_store.ts";
import type {
  DockerContainerConfig,
  DockerHistory,
  DockerImageConfig,
} from "../dockerd/image/types.ts";
import { hostArchitecture as hostPlatformArchitecture } from "../platforms/host.ts";

/** What a commit needs. */
export interface CommitRequest {
  /** The image the step started from; undefined for `FROM scratch`. */
  parent?: ImageRecord;
  /** The changes to turn into a layer; undefined (or empty) for a metadata-only step. */
  upperDir?: string;
  /** The new image's container config. */
  config: DockerContainerConfig;
  /** The step's config with the `#(nop)` command: the cache key. */
  containerConfig: DockerContainerConfig;
  /** The intermediate container, recorded as `container` (not in reproducible builds). */
  containerId?: string;
  /** The history line. */
  createdBy: string;
  /** Clamp times to this (seconds) and leave out random values. */
  sourceDateEpoch?: number;
}

/** The architecture name of this machine in OCI terms (`amd64`). */
export function hostArchitecture(): string {
  return hostPlatformArchitecture().architecture;
}

/** A container config with Docker's field order (container.Config in Go), empties dropped as Go does. */
export function orderedConfig(config: DockerContainerConfig): DockerContainerConfig {
  const ordered: DockerContainerConfig = {
    Hostname: config.Hostname ?? "",
    Domainname: config.Domainname ?? "",
    User: config.User ?? "",
    AttachStdin: config.AttachStdin ?? false,
    AttachStdout: config.AttachStdout ?? false,
    AttachStderr: config.AttachStderr ?? false,
  };
  if (config.ExposedPorts && Object.keys(config.ExposedPorts).length > 0) {
    ordered.ExposedPorts = sortedRecord(config.ExposedPorts);
  }
  ordered.Tty = config.Tty ?? false;
  ordered.OpenStdin = config.OpenStdin ?? false;
  ordered.StdinOnce = config.StdinOnce ?? false;
  ordered.Env = config.Env ?? null;
  ordered.Cmd = config.Cmd ?? null;
  if (config.Healthcheck) ordered.Healthcheck = config.Healthcheck;
  if (config.ArgsEscaped) ordered.ArgsEscaped = true;
  ordered.Image = config.Image ?? "";
  ordered.Volumes = config.Volumes && Object.keys(config.Volumes).length > 0
    ? sortedRecord(config.Volumes)
    : null;
  ordered.WorkingDir = config.WorkingDir ?? "";
  ordered.Entrypoint = config.Entrypoint ?? null;
  ordered.OnBuild = config.OnBuild ?? null;
  ordered.Labels = config.Labels && Object.keys(config.Labels).length > 0
    ? sortedRecord(config.Labels)
    : null;
  if (config.StopSignal) ordered.StopSignal = config.StopSignal;
  if (config.Shell && config.Shell.length > 0) ordered.Shell = config.Shell;
  return ordered;
}

function sortedRecord<T>(record: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0));
}

async function isEmptyDirectory(path: string): Promise<boolean> {
  for await (const _ of Deno.readDir(path)) return false;
  return true;
}

/** Creates the step's image (and its layer, if the step changed files). */
export async function commitStep(daemon: Daemon, request: CommitRequest): Promise<ImageRecord> {
  const parent = request.parent;
  const created = formatNanoTime(
    request.sourceDateEpoch !== undefined ? new Date(request.sourceDateEpoch * 1000) : new Date(),
  );
  let layer;
  if (request.upperDir && !(await isEmptyDirectory(request.upperDir))) {
    const { stream } = diffLayer(request.upperDir, {
      compression: "none",
      sourceDateEpoch: request.sourceDateEpoch,
    });
    layer = await daemon.layers.register(stream, parent?.topLayer);
  }
  try {
    const history: DockerHistory = { created, created_by: request.createdBy };
    if (!layer) history.empty_layer = true;
    const parentConfig = parent?.config;
    const image: DockerImageConfig = {
      architecture: parentConfig?.architecture ?? hostArchitecture(),
      ...(parentConfig?.variant ? { variant: parentConfig.variant } : {}),
      config: orderedConfig({ ...request.config, Image: parent?.id ?? "" }),
      ...(request.sourceDateEpoch === undefined && request.containerId
        ? { container: request.containerId }
        : {}),
      container_config: orderedConfig({ ...request.containerConfig, Image: parent?.id ?? "" }),
      created,
      docker_version: ENGINE_VERSION,
      history: [...(parentConfig?.history ?? []), history],
      os: parentConfig?.os ?? "linux",
      rootfs: {
        type: "layers",
        diff_ids: [...(parentConfig?.rootfs.diff_ids ?? []), ...(layer ? [layer.diffId] : [])],
      },
    };
    const raw = new TextEncoder().encode(JSON.stringify(image));
    const record = await daemon.imageStore.create(raw);
    if (parent && record.parent !== parent.id) {
      await daemon.imageStore.setParent(record.id, parent.id);
    }
    return record;
  } finally {
    // The image now holds the layer; the registration's own reference goes.
    if (layer) await daemon.layers.release(layer.chainId);
  }
}
