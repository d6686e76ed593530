// What this teaches: the Content service, the one API where bytes (not JSON) flow.
// Read answers with the blob itself as the response body; Write takes the blob as the
// request body, with its parameters (ref, expected digest, total, offset, labels) in
// the query string, the way containerd's streaming Write carries them in its first
// message. The namespace comes from the `containerd-namespace` header, a lease from
// `containerd-lease`. Mirrors containerd's `api/services/content/v1/content.proto`
// and `plugins/services/content/contentserver`.

import { invalidArgument } from "../../api/errors.ts";
import type { Router } from "../../api/server.ts";
import type { MetadataContentStore } from "../../content/metadata_store.ts";
import type { Digest } from "../../content/types.ts";
import type { GarbageCollector } from "../../gc/collector.ts";
import type { Labels } from "../../metadata/db.ts";
import { leaseFromRequest } from "./leases.ts";
import { CONTENT_SERVICE } from "../../api/services.ts";
import { GC_SERVICE } from "../../api/services.ts";

/**
 * mini's own route for a synchronous garbage collection (`mini-ctr content prune`).
 * containerd has no GC RPC (it collects after deletes, or when a lease is deleted
 * with `sync`), so this one carries a `mini.` name rather than pretending.
 */

/** Registers Info, Update, List, Delete, Read, Write, Status, ListStatuses and Abort. */
export function registerContentService(router: Router, store: MetadataContentStore): void {
  router.add(CONTENT_SERVICE, "Info", async (context) => {
    const { digest } = await context.json<{ digest: Digest }>();
    return { info: store.info(context.requireNamespace(), digest) };
  });

  router.add(CONTENT_SERVICE, "Update", async (context) => {
    const { info, updateMask } = await context.json<{
      info?: { digest: Digest; labels?: Labels };
      updateMask?: string[];
    }>();
    if (!info || typeof info !== "object") {
      throw invalidArgument("Update needs {info: {digest, labels}, updateMask?: [...]}");
    }
    return {
      info: store.update(context.requireNamespace(), info.digest, info.labels ?? {}, updateMask),
    };
  });

  router.add(CONTENT_SERVICE, "List", async (context) => {
    const { filters } = await context.json<{ filters?: string[] }>();
    return { info: store.list(context.requireNamespace(), filters ?? []) };
  });

  router.add(CONTENT_SERVICE, "Delete", async (context) => {
    const { digest } = await context.json<{ digest: Digest }>();
    store.delete(context.requireNamespace(), digest);
    return {};
  });

  router.add(CONTENT_SERVICE, "Read", async (context) => {
    const request = await context.json<{ digest?: Digest; offset?: number }>();
    const digest = request.digest ?? context.query.get("digest") ?? "";
    const offset = Number(request.offset ?? context.query.get("offset") ?? 0);
    const namespace = context.requireNamespace();
    const info = store.info(namespace, digest);
    const stream = await store.read(namespace, digest, offset);
    return new Response(stream, {
      headers: {
        "content-type": "application/octet-stream",
        "content-length": String(info.size - offset),
      },
    });
  });

  router.add(CONTENT_SERVICE, "Write", async (context) => {
    const namespace = context.requireNamespace();
    const query = context.query;
    const result = await store.write(namespace, context.request.body ?? new Uint8Array(0), {
      ref: query.get("ref") ?? "",
      expected: query.get("expected") ?? undefined,
      total: optionalNumber(query, "total"),
      offset: optionalNumber(query, "offset"),
      labels: parseLabelsParameter(query.get("labels")),
      commit: query.get("commit") !== "false",
      lease: leaseFromRequest(context),
    });
    return result;
  });

  router.add(CONTENT_SERVICE, "Status", async (context) => {
    const { ref } = await context.json<{ ref: string }>();
    return { status: await store.status(context.requireNamespace(), ref ?? "") };
  });

  router.add(CONTENT_SERVICE, "ListStatuses", async (context) => {
    const { filters } = await context.json<{ filters?: string[] }>();
    return { statuses: await store.listStatuses(context.requireNamespace(), filters ?? []) };
  });

  router.add(CONTENT_SERVICE, "Abort", async (context) => {
    const { ref } = await context.json<{ ref: string }>();
    await store.abort(context.requireNamespace(), ref ?? "");
    return {};
  });
}

/** Registers the synchronous garbage collection route. */
export function registerGarbageCollectionService(router: Router, gc: GarbageCollector): void {
  router.add(GC_SERVICE, "Collect", async () => await gc.collect());
}

function optionalNumber(query: URLSearchParams, name: string): number | undefined {
  const text = query.get(name);
  if (text === null || text === "") return undefined;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < 0) {
    throw invalidArgument(`query parameter ${name}=${JSON.stringify(text)} is not a byte count`);
  }
  return value;
}

function parseLabelsParameter(text: string | null): Labels | undefined {
  if (text === null || text === "") return undefined;
  try {
    return JSON.parse(text) as Labels;
  } catch {
    throw invalidArgument(`query parameter labels is not a JSON object: ${text.slice(0, 80)}`);
  }
}
