// What this teaches: a typed client for the Snapshots service; each call is one route.
// Mirrors containerd's client/snapshotter (the proxy snapshotter,
// core/snapshots/proxy/proxy.go), which makes a remote snapshotter look local.

import type { UnixTransport } from "../api/client.ts";
import { SNAPSHOTS_SERVICE } from "../api/services.ts";
import { LEASE_QUERY_PARAMETER } from "../leases/types.ts";
import type { Labels } from "../metadata/db.ts";
import type { Mount } from "../mount/types.ts";
import {
  OVERLAYFS,
  type SnapshotInfo,
  type SnapshotOptions,
  type SnapshotsApi,
  type SnapshotUsage,
} from "../snapshots/types.ts";

const route = (method: string) => `/${SNAPSHOTS_SERVICE}/${method}`;

/** Client for one snapshotter of the Snapshots service, in one namespace, optionally under a lease. */
export class SnapshotsClient implements SnapshotsApi {
  constructor(
    private readonly transport: UnixTransport,
    private readonly namespace: string,
    readonly snapshotter: string = OVERLAYFS,
    readonly lease?: string,
  ) {}

  /** The same client, with the snapshots it creates added to `lease`. */
  withLease(lease: string | undefined): SnapshotsClient {
    return new SnapshotsClient(this.transport, this.namespace, this.snapshotter, lease);
  }

  async #call<T>(method: string, body: Record<string, unknown>): Promise<T> {
    return await this.transport.call<T>(route(method), {
      snapshotter: this.snapshotter,
      ...body,
    }, { namespace: this.namespace, query: { [LEASE_QUERY_PARAMETER]: this.lease } });
  }

  async stat(key: string): Promise<SnapshotInfo> {
    return (await this.#call<{ info: SnapshotInfo }>("Stat", { key })).info;
  }

  async update(key: string, labels: Labels, fieldPaths: string[] = []): Promise<SnapshotInfo> {
    return (await this.#call<{ info: SnapshotInfo }>("Update", {
      info: { name: key, labels },
      updateMask: { paths: fieldPaths },
    })).info;
  }

  async usage(key: string): Promise<SnapshotUsage> {
    return await this.#call<SnapshotUsage>("Usage", { key });
  }

  async mounts(key: string): Promise<Mount[]> {
    return (await this.#call<{ mounts: Mount[] }>("Mounts", { key })).mounts;
  }

  async prepare(key: string, parent = "", options: SnapshotOptions = {}): Promise<Mount[]> {
    return (await this.#call<{ mounts: Mount[] }>("Prepare", {
      key,
      parent,
      labels: options.labels ?? {},
    })).mounts;
  }

  async view(key: string, parent = "", options: SnapshotOptions = {}): Promise<Mount[]> {
    return (await this.#call<{ mounts: Mount[] }>("View", {
      key,
      parent,
      labels: options.labels ?? {},
    })).mounts;
  }

  async commit(name: string, key: string, options: SnapshotOptions = {}): Promise<void> {
    await this.#call("Commit", { name, key, labels: options.labels ?? {} });
  }

  async remove(key: string): Promise<void> {
    await this.#call("Remove", { key });
  }

  async walk(filters: string[] = []): Promise<SnapshotInfo[]> {
    return (await this.#call<{ info: SnapshotInfo[] }>("List", { filters })).info;
  }
}
