// What this teaches: a typed client for the Diff service. Mirrors containerd's
// client/diff.go (the diffRemote that implements Applier and Comparer over gRPC).

import type { UnixTransport } from "../api/client.ts";
import { DIFF_SERVICE } from "../api/services.ts";
import type { ApplyRequestOptions, DiffApi, DiffRequestOptions } from "../diff/types.ts";
import type { Descriptor } from "../images/types.ts";
import type { Mount } from "../mount/types.ts";

const route = (method: string) => `/${DIFF_SERVICE}/${method}`;

/** Client for the Diff service, in one namespace. */
export class DiffClient implements DiffApi {
  constructor(private readonly transport: UnixTransport, private readonly namespace: string) {}

  async apply(
    descriptor: Descriptor,
    mounts: Mount[],
    options: ApplyRequestOptions = {},
  ): Promise<Descriptor> {
    return (await this.transport.call<{ applied: Descriptor }>(route("Apply"), {
      diff: descriptor,
      mounts,
      ...options,
    }, { namespace: this.namespace })).applied;
  }

  async diff(
    lower: Mount[],
    upper: Mount[],
    options: DiffRequestOptions = {},
  ): Promise<Descriptor> {
    return (await this.transport.call<{ diff: Descriptor }>(route("Diff"), {
      left: lower,
      right: upper,
      ...options,
    }, { namespace: this.namespace })).diff;
  }
}
