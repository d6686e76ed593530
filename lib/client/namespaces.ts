// What this teaches: a typed client for one containerd service; the calls map one
// to one onto the daemon's routes. Mirrors containerd's `client/namespaces.go`.

import type { UnixTransport } from "../api/client.ts";
import type { Labels } from "../metadata/db.ts";
import type { Namespace } from "../metadata/namespaces.ts";
import { NAMESPACES_SERVICE } from "../api/services.ts";

const route = (method: string) => `/${NAMESPACES_SERVICE}/${method}`;

/** Client for the Namespaces service. */
export class NamespacesClient {
  constructor(private readonly transport: UnixTransport) {}

  async list(): Promise<Namespace[]> {
    return (await this.transport.call<{ namespaces: Namespace[] }>(route("List"))).namespaces;
  }

  async get(name: string): Promise<Namespace> {
    return (await this.transport.call<{ namespace: Namespace }>(route("Get"), { name })).namespace;
  }

  async create(name: string, labels: Labels = {}): Promise<Namespace> {
    return (await this.transport.call<{ namespace: Namespace }>(route("Create"), {
      namespace: { name, labels },
    })).namespace;
  }

  /** Sets a label; an empty value removes it. */
  async setLabel(name: string, key: string, value: string): Promise<Namespace> {
    return (await this.transport.call<{ namespace: Namespace }>(route("Update"), {
      name,
      key,
      value,
    })).namespace;
  }

  async delete(name: string): Promise<void> {
    await this.transport.call(route("Delete"), { name });
  }
}
