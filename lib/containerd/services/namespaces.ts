// What this teaches: the Namespaces service, the simplest containerd API, and the
// model for all the others: one route per method, JSON in, JSON out.
// Mirrors containerd's `api/services/namespaces/v1/namespace.proto`.

import type { Router } from "../../api/server.ts";
import type { Labels } from "../../metadata/db.ts";
import type { NamespaceStore } from "../../metadata/namespaces.ts";
import { NAMESPACES_SERVICE } from "../../api/services.ts";

/** Registers Get, List, Create, Update and Delete. */
export function registerNamespacesService(router: Router, namespaces: NamespaceStore): void {
  router.add(NAMESPACES_SERVICE, "List", () => ({ namespaces: namespaces.list() }));
  router.add(NAMESPACES_SERVICE, "Get", async (context) => {
    const { name } = await context.json<{ name: string }>();
    return { namespace: namespaces.get(name) };
  });
  router.add(NAMESPACES_SERVICE, "Create", async (context) => {
    const { namespace } = await context.json<{ namespace: { name: string; labels?: Labels } }>();
    return { namespace: namespaces.create(namespace?.name ?? "", namespace?.labels ?? {}) };
  });
  router.add(NAMESPACES_SERVICE, "Update", async (context) => {
    const { name, key, value } = await context.json<{ name: string; key: string; value: string }>();
    return { namespace: namespaces.setLabel(name, key, value ?? "") };
  });
  router.add(NAMESPACES_SERVICE, "Delete", async (context) => {
    const { name } = await context.json<{ name: string }>();
    namespaces.delete(name);
    return {};
  });
}
