// What this teaches: the Diff service runs inside the daemon because it needs both the
// content store (to read and write blobs) and root (to write whiteouts and owners into
// snapshot directories). Clients only send descriptors and mounts.
// Mirrors containerd's api/services/diff/v1/diff.proto and
// plugins/services/diff/local.go (Apply, Diff).

import { invalidArgument } from "../../api/errors.ts";
import type { RequestContext, Router } from "../../api/server.ts";
import type { ContentApi } from "../../content/types.ts";
import { applyDescriptor, diffMounts } from "../../diff/walking.ts";
import type { ApplyRequestOptions, DiffRequestOptions } from "../../diff/types.ts";
import type { Descriptor } from "../../images/types.ts";
import type { Mount } from "../../mount/types.ts";
import { DIFF_SERVICE } from "../../api/services.ts";

interface ApplyRequest extends ApplyRequestOptions {
  diff?: Descriptor;
  mounts?: Mount[];
}

interface DiffRequest extends DiffRequestOptions {
  left?: Mount[];
  right?: Mount[];
}

/** Registers Apply and Diff; `contentFor` gives the content store as one namespace sees it. */
export function registerDiffService(
  router: Router,
  contentFor: (namespace: string) => ContentApi,
): void {
  router.add(DIFF_SERVICE, "Apply", async (context: RequestContext) => {
    const namespace = context.requireNamespace();
    const request = await context.json<ApplyRequest>();
    const descriptor = requireDescriptor(request.diff);
    const mounts = requireMounts(request.mounts, "mounts");
    const applied = await applyDescriptor(contentFor(namespace), descriptor, mounts, {
      allowDevices: request.allowDevices === true,
    });
    return { applied };
  });
  router.add(DIFF_SERVICE, "Diff", async (context: RequestContext) => {
    const namespace = context.requireNamespace();
    const request = await context.json<DiffRequest>();
    const diff = await diffMounts(
      contentFor(namespace),
      requireMounts(request.left, "left"),
      requireMounts(request.right, "right"),
      {
        mediaType: request.mediaType,
        ref: request.ref,
        labels: request.labels,
        sourceDateEpoch: request.sourceDateEpoch,
      },
    );
    return { diff };
  });
}

function requireDescriptor(value: unknown): Descriptor {
  const descriptor = value as Descriptor | undefined;
  if (
    typeof descriptor !== "object" || descriptor === null ||
    typeof descriptor.digest !== "string" || typeof descriptor.mediaType !== "string"
  ) {
    throw invalidArgument("diff must be a descriptor with mediaType, digest and size");
  }
  return descriptor;
}

function requireMounts(value: unknown, field: string): Mount[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw invalidArgument(`${field} must be a list of mounts`);
  for (const mount of value) {
    if (
      typeof mount !== "object" || mount === null || typeof mount.type !== "string" ||
      typeof mount.source !== "string" || !Array.isArray(mount.options) ||
      mount.options.some((option: unknown) => typeof option !== "string")
    ) {
      throw invalidArgument(`${field}: every mount needs type, source and a list of options`);
    }
  }
  return value as Mount[];
}
