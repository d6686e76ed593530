// What this teaches: one client object per daemon connection, scoped to one
// namespace, with a sub-client per service. mini-ctr, mini-dockerd and the tests
// all use it. Mirrors containerd's Go `client.Client` (`client/client.go`), which
// is also created with a default namespace.

import { UnixTransport } from "../api/client.ts";
import { VERSION_SERVICE } from "../api/services.ts";
import { NamespacesClient } from "./namespaces.ts";
import { ContentClient } from "./content.ts";
import { LeasesClient } from "./leases.ts";
import { ImagesClient } from "./images.ts";
import { SnapshotsClient } from "./snapshots.ts";
import { DiffClient } from "./diff.ts";
import { ContainersClient } from "./containers.ts";
import { TasksClient } from "./tasks.ts";
import { EventsClient } from "./events.ts";

/** The default socket, as containerd's /run/containerd/containerd.sock. */
export const DEFAULT_ADDRESS = "/run/mini-containerd/mini-containerd.sock";

/** A connection to mini-containerd, acting in one namespace. */
export class ContainerdClient {
  readonly transport: UnixTransport;
  readonly namespaces: NamespacesClient;
  readonly content: ContentClient;
  readonly leases: LeasesClient;
  readonly images: ImagesClient;
  readonly containers: ContainersClient;
  readonly tasks: TasksClient;
  readonly events: EventsClient;

  constructor(readonly address: string = DEFAULT_ADDRESS, readonly namespace = "default") {
    this.transport = new UnixTransport(address);
    this.namespaces = new NamespacesClient(this.transport);
    this.content = new ContentClient(this.transport, namespace);
    this.leases = new LeasesClient(this.transport, namespace);
    this.images = new ImagesClient(this.transport, namespace);
    this.containers = new ContainersClient(this.transport, namespace);
    this.tasks = new TasksClient(this.transport, namespace);
    this.events = new EventsClient(this.transport, namespace);
  }

  /** The Diff service (apply layers onto mounts, diff mounts into layers) in this namespace. */
  diff(): DiffClient {
    return new DiffClient(this.transport, this.namespace);
  }

  /** A client for one snapshotter ("overlayfs", the only one) in this client's namespace. */
  snapshots(snapshotter?: string): SnapshotsClient {
    return new SnapshotsClient(this.transport, this.namespace, snapshotter);
  }

  /** Asks the daemon for its version (also a cheap "is it up?" probe). */
  async version(): Promise<{ version: string; revision: string }> {
    return await this.transport.call(`/${VERSION_SERVICE}/Version`);
  }

  close(): void {
    this.transport.close();
  }
}
