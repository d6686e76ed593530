// What this teaches: the Snapshots service, the API through which containerd's clients
// (ctr, the CRI plugin, dockerd) prepare and commit the filesystems of images and
// containers. Every request names a snapshotter; mini has one, "overlayfs".
// Mirrors containerd's api/services/snapshots/v1/snapshots.proto and
// plugins/services/snapshots/service.go.

import { invalidArgument } from "../../api/errors.ts";
import type { RequestContext, Router } from "../../api/server.ts";
import type { Labels } from "../../metadata/db.ts";
import type { NamespaceStore } from "../../metadata/namespaces.ts";
import { snapshotNodeType } from "../../gc/labels.ts";
import type { LeaseStore } from "../../leases/store.ts";
import type { SnapshotStore } from "../../snapshots/namespaced.ts";
import { leaseFromRequest } from "./leases.ts";
import { SNAPSHOTS_SERVICE } from "../../api/services.ts";
import { currentTrace } from "../../trace/active.ts";
import { describeMountsForTrace } from "../../trace/describe.ts";

interface SnapshotRequest {
  snapshotter?: string;
  key?: string;
  parent?: string;
  name?: string;
  labels?: Labels;
  filters?: string[];
  info?: { name?: string; labels?: Labels };
  updateMask?: { paths?: string[] };
}

/** Registers Prepare, View, Mounts, Commit, Remove, Stat, Update, List and Usage. */
export function registerSnapshotsService(
  router: Router,
  snapshots: SnapshotStore,
  namespaces: NamespaceStore,
  leases?: LeaseStore,
): void {
  const resourceType = snapshotNodeType(snapshots.snapshotter);
  /** Adds `key` to the request's lease, if it has one (containerd's addSnapshotLease). */
  const lease = (context: RequestContext, namespace: string, key: string) => {
    const id = leaseFromRequest(context);
    if (id !== undefined && leases) {
      leases.addResource(namespace, id, { type: resourceType, id: key });
    }
  };
  /** Checks the lease exists before anything is created under it. */
  const checkLease = (context: RequestContext, namespace: string) => {
    const id = leaseFromRequest(context);
    if (id !== undefined && leases) leases.get(namespace, id);
  };
  const read = async (context: RequestContext) => {
    const namespace = context.requireNamespace();
    const request = await context.json<SnapshotRequest>();
    const snapshotter = request.snapshotter || snapshots.snapshotter;
    if (snapshotter !== snapshots.snapshotter) {
      throw invalidArgument(
        `snapshotter "${snapshotter}" is not available: mini-containerd has only ` +
          `"${snapshots.snapshotter}"`,
      );
    }
    return { namespace, request };
  };
  const text = (value: unknown, field: string): string => {
    if (value === undefined || value === null) return "";
    if (typeof value !== "string") throw invalidArgument(`${field} must be a string`);
    return value;
  };
  const add = (method: string, handler: (context: RequestContext) => Promise<unknown>) =>
    router.add(SNAPSHOTS_SERVICE, method, handler);

  add("Prepare", async (context) => {
    const { namespace, request } = await read(context);
    namespaces.ensure(namespace);
    checkLease(context, namespace);
    const key = text(request.key, "key");
    const mounts = snapshots.prepare(
      namespace,
      key,
      text(request.parent, "parent"),
      request.labels,
    );
    lease(context, namespace, key);
    currentTrace()?.step("snapshot prepared", describeMountsForTrace(mounts)); // --trace
    return { mounts };
  });
  add("View", async (context) => {
    const { namespace, request } = await read(context);
    namespaces.ensure(namespace);
    checkLease(context, namespace);
    const key = text(request.key, "key");
    const mounts = snapshots.view(namespace, key, text(request.parent, "parent"), request.labels);
    lease(context, namespace, key);
    return { mounts };
  });
  add("Mounts", async (context) => {
    const { namespace, request } = await read(context);
    return { mounts: snapshots.mounts(namespace, text(request.key, "key")) };
  });
  add("Commit", async (context) => {
    const { namespace, request } = await read(context);
    namespaces.ensure(namespace);
    checkLease(context, namespace);
    const name = text(request.name, "name");
    await snapshots.commit(namespace, name, text(request.key, "key"), request.labels);
    lease(context, namespace, name);
    return {};
  });
  add("Remove", async (context) => {
    const { namespace, request } = await read(context);
    const key = text(request.key, "key");
    await snapshots.remove(namespace, key);
    leases?.forgetResource(namespace, { type: resourceType, id: key });
    return {};
  });
  add("Stat", async (context) => {
    const { namespace, request } = await read(context);
    return { info: snapshots.stat(namespace, text(request.key, "key")) };
  });
  add("Update", async (context) => {
    const { namespace, request } = await read(context);
    const info = snapshots.update(
      namespace,
      text(request.info?.name, "info.name"),
      request.info?.labels ?? {},
      request.updateMask?.paths ?? [],
    );
    return { info };
  });
  add("List", async (context) => {
    const { namespace, request } = await read(context);
    const filters = request.filters ?? [];
    if (!Array.isArray(filters) || filters.some((filter) => typeof filter !== "string")) {
      throw invalidArgument("filters must be a list of strings");
    }
    return { info: snapshots.walk(namespace, filters) };
  });
  add("Usage", async (context) => {
    const { namespace, request } = await read(context);
    return await snapshots.usage(namespace, text(request.key, "key"));
  });
}
