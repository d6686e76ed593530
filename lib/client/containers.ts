// What this teaches: a typed client for the Containers service, and what "create a
// container from an image" means on the client side, as containerd's Go client does it
// (NewContainer with WithNewSnapshot and WithNewSpec(WithImageConfig)): read the image
// config, make sure its layers are unpacked, prepare a writable snapshot on the top
// layer's chainID, build the OCI spec from the config and the user's options, and store
// the record. If the record cannot be stored, the snapshot is removed again, so a
// failure leaves nothing behind. Mirrors containerd's `client/containers.go`,
// `client/container_opts.go` (WithNewSnapshot, WithImage) and `client/client.go`
// (NewContainer).

import type { UnixTransport } from "../api/client.ts";
import { ApiError, isErrorCode, notFound } from "../api/errors.ts";
import { validateIdentifier } from "../api/identifiers.ts";
import { CONTAINERS_SERVICE } from "../api/services.ts";
import {
  type Container,
  type ContainerInput,
  type ContainersApi,
  DEFAULT_RUNTIME_NAME,
} from "../containers/types.ts";
import { GC_REF_SNAPSHOT_PREFIX } from "../gc/labels.ts";
import { resolveImage } from "../images/image.ts";
import type { ImageConfig } from "../images/types.ts";
import type { Labels } from "../metadata/db.ts";
import { generateSpec, withImageConfig } from "../oci_spec/options.ts";
import type { Spec, SpecOption } from "../oci_spec/types.ts";
import { OVERLAYFS } from "../snapshots/types.ts";
import type { ContainerdClient } from "./client.ts";

const route = (method: string) => `/${CONTAINERS_SERVICE}/${method}`;

/** Client for the Containers service in one namespace. */
export class ContainersClient implements ContainersApi {
  constructor(private readonly transport: UnixTransport, private readonly namespace: string) {}

  async #call<T>(method: string, body: unknown): Promise<T> {
    return await this.transport.call<T>(route(method), body, { namespace: this.namespace });
  }

  async get(id: string): Promise<Container> {
    return (await this.#call<{ container: Container }>("Get", { id })).container;
  }

  async list(filters: string[] = []): Promise<Container[]> {
    return (await this.#call<{ containers: Container[] }>("List", { filters })).containers;
  }

  async create(container: ContainerInput): Promise<Container> {
    return (await this.#call<{ container: Container }>("Create", { container })).container;
  }

  async update(
    container: Partial<ContainerInput> & { id: string },
    fieldPaths: string[] = [],
  ): Promise<Container> {
    return (await this.#call<{ container: Container }>("Update", {
      container,
      updateMask: { paths: fieldPaths },
    })).container;
  }

  async delete(id: string): Promise<void> {
    await this.#call("Delete", { id });
  }
}

/** What a container made from an image needs besides the image. */
export interface NewContainerOptions {
  id: string;
  /** The image record's name. */
  image: string;
  /** Spec options applied after the image config (args, env, cwd, limits...). */
  specOptions?: SpecOption[];
  /** The OCI runtime binary (`--runtime-binary`); the daemon's default when unset. */
  runtimeBinary?: string;
  labels?: Labels;
  snapshotter?: string;
}

/**
 * Creates a container from an image: unpack if needed, prepare the snapshot (keyed by
 * the container ID, as ctr does), build the spec, store the record. On failure, the
 * snapshot this call prepared is removed.
 */
export async function createContainerFromImage(
  client: ContainerdClient,
  options: NewContainerOptions,
): Promise<Container> {
  validateIdentifier("container id", options.id);
  const snapshotter = options.snapshotter ?? OVERLAYFS;
  await assertContainerAbsent(client, options.id);
  const image = await client.images.get(options.image).catch((error) => {
    if (isErrorCode(error, "not_found")) {
      throw notFound(
        `image "${options.image}" not found in namespace ${client.namespace}: ` +
          `import or pull it first (mini-ctr images import FILE)`,
      );
    }
    throw error;
  });
  const resolved = await resolveImage(client.content, image.target);
  const snapshots = client.snapshots(snapshotter);
  // The unpacker leaves the name of the image's top snapshot (its chainID) on the config
  // blob (`containerd.io/gc.ref.snapshot.<snapshotter>`): one lookup says whether the
  // image is unpacked, and as what. No label, or a snapshot that has gone since: unpack.
  const config = await client.content.info(resolved.manifest.config.digest);
  let top = config.labels[GC_REF_SNAPSHOT_PREFIX + snapshotter];
  if (top === undefined) top = await unpack(client, options.image, snapshotter);
  try {
    await snapshots.prepare(options.id, top);
  } catch (error) {
    if (!isErrorCode(error, "not_found")) throw error;
    top = await unpack(client, options.image, snapshotter);
    await snapshots.prepare(options.id, top);
  }
  try {
    const spec = buildSpec(client.namespace, options.id, resolved.config, options.specOptions);
    return await client.containers.create({
      id: options.id,
      image: options.image,
      labels: options.labels,
      runtime: runtimeInfo(options.runtimeBinary),
      spec,
      snapshotter,
      snapshotKey: options.id,
    });
  } catch (error) {
    await snapshots.remove(options.id).catch(() => {});
    throw error;
  }
}

/** The spec for a container: the default, the image config, then the caller's options. */
export function buildSpec(
  namespace: string,
  id: string,
  config: ImageConfig,
  specOptions: SpecOption[] = [],
): Spec {
  return generateSpec({ namespace, id }, withImageConfig(config), ...specOptions);
}

/** The runtime record: runc-style through a shim, with the binary when one was chosen. */
export function runtimeInfo(runtimeBinary?: string): ContainerInput["runtime"] {
  return runtimeBinary
    ? { name: DEFAULT_RUNTIME_NAME, options: { binaryName: runtimeBinary } }
    : { name: DEFAULT_RUNTIME_NAME };
}

/**
 * Deletes a container and its snapshot (`ctr containers rm` deletes with
 * WithSnapshotCleanup). A snapshot that is already gone is fine.
 */
export async function deleteContainerAndSnapshot(
  client: ContainerdClient,
  id: string,
): Promise<void> {
  const container = await client.containers.get(id);
  await client.containers.delete(id);
  if (container.snapshotKey !== "") {
    await client.snapshots(container.snapshotter).remove(container.snapshotKey).catch((error) => {
      if (!isErrorCode(error, "not_found")) throw error;
    });
  }
}

/** Unpacks an image's layers into snapshots and returns the top one's name (its chainID). */
async function unpack(
  client: ContainerdClient,
  image: string,
  snapshotter: string,
): Promise<string> {
  // Loaded only when needed: the unpacker pulls in the tar and compression code, and
  // every `mini-ctr run` of an unpacked image would otherwise pay for loading it.
  const { unpackImage } = await import("../unpack/unpacker.ts");
  return (await unpackImage(client, image, { snapshotter })).chainId;
}

async function assertContainerAbsent(client: ContainerdClient, id: string): Promise<void> {
  try {
    await client.containers.get(id);
  } catch (error) {
    if (isErrorCode(error, "not_found")) return;
    throw error;
  }
  throw new ApiError(
    "already_exists",
    `container "${id}" already exists in namespace ${client.namespace}: choose another ID or ` +
      `remove it (mini-ctr containers rm ${id})`,
  );
}
