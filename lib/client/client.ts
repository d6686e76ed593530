// What this teaches: one client object per daemon connection, scoped to one
// namespace, with a sub-client per service. mini-ctr, mini-dockerd and the tests
// all use it. Mirrors containerd's Go `client.Client` (`client/client.go`), which
// is also created with a default namespace.

import { UnixTransport } from "../api/client.ts";
import { VERSION_SERVICE } from "../containerd/services/version.ts";
import { NamespacesClient } from "./namespaces.ts";

/** The default socket, as containerd's /run/containerd/containerd.sock. */
export const DEFAULT_ADDRESS = "/run/mini-containerd/mini-containerd.sock";

/** A connection to mini-containerd, acting in one namespace. */
export class ContainerdClient {
  readonly transport: UnixTransport;
  readonly namespaces: NamespacesClient;

  constructor(readonly address: string = DEFAULT_ADDRESS, readonly namespace = "default") {
    this.transport = new UnixTransport(address);
    this.namespaces = new NamespacesClient(this.transport);
  }

  /** Asks the daemon for its version (also a cheap "is it up?" probe). */
  async version(): Promise<{ version: string; revision: string }> {
    return await this.transport.call(`/${VERSION_SERVICE}/Version`);
  }

  close(): void {
    this.transport.close();
  }
}
