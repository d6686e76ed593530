// What this teaches: the Containers service stores container records and announces
// changes on the event stream (`/containers/create`, `/containers/update`,
// `/containers/delete`). It refuses to delete a container that still has a task, since
// the task's shim, bundle and rootfs mount depend on the record.
// Mirrors containerd's `api/services/containers/v1/containers.proto` and
// `plugins/services/containers/local.go`.

import { failedPrecondition } from "../../api/errors.ts";
import type { Router } from "../../api/server.ts";
import type { ContainerStore } from "../../containers/store.ts";
import type { ContainerInput } from "../../containers/types.ts";
import { type EventPublisher, Topics } from "../../events/types.ts";
import { CONTAINERS_SERVICE } from "../../api/services.ts";

/** Registers Get, List, Create, Update and Delete. */
export function registerContainersService(
  router: Router,
  containers: ContainerStore,
  events: EventPublisher,
  hasTask: (namespace: string, id: string) => boolean,
): void {
  router.add(CONTAINERS_SERVICE, "Get", async (context) => {
    const namespace = context.requireNamespace();
    const { id } = await context.json<{ id: string }>();
    return { container: containers.get(namespace, id) };
  });
  router.add(CONTAINERS_SERVICE, "List", async (context) => {
    const namespace = context.requireNamespace();
    const { filters } = await context.json<{ filters?: string[] }>();
    return { containers: containers.list(namespace, filters ?? []) };
  });
  router.add(CONTAINERS_SERVICE, "Create", async (context) => {
    const namespace = context.requireNamespace();
    const { container } = await context.json<{ container: ContainerInput }>();
    const created = containers.create(namespace, container ?? ({} as ContainerInput));
    events.publish(namespace, Topics.containerCreate, {
      id: created.id,
      image: created.image,
      runtime: { name: created.runtime.name },
    });
    return { container: created };
  });
  router.add(CONTAINERS_SERVICE, "Update", async (context) => {
    const namespace = context.requireNamespace();
    const { container, updateMask } = await context.json<
      { container: Partial<ContainerInput> & { id: string }; updateMask?: { paths?: string[] } }
    >();
    const updated = containers.update(namespace, container, updateMask?.paths ?? []);
    events.publish(namespace, Topics.containerUpdate, {
      id: updated.id,
      image: updated.image,
      labels: updated.labels,
      snapshotKey: updated.snapshotKey,
    });
    return { container: updated };
  });
  router.add(CONTAINERS_SERVICE, "Delete", async (context) => {
    const namespace = context.requireNamespace();
    const { id } = await context.json<{ id: string }>();
    containers.get(namespace, id);
    if (hasTask(namespace, id)) {
      throw failedPrecondition(
        `container ${id} still has a task: stop and delete it first (mini-ctr tasks rm -f ${id})`,
      );
    }
    containers.delete(namespace, id);
    events.publish(namespace, Topics.containerDelete, { id });
    return {};
  });
}
