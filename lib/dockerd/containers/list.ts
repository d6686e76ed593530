// What this teaches: what `docker ps` is made of. The daemon answers with one summary
// per container: the Names with their leading slash, the Image as the user named it
// (or the image ID once that name points elsewhere), the Command as one string, the
// State word and the human Status ("Up 3 seconds", "Exited (0) 2 seconds ago"), the
// network mode and networks. By default only running containers are listed; `-a`,
// `-n`/`-l` (the last N created, any state) and status filters list the others too.
// Filters are a JSON map in the query (`{"status":["exited"],"name":["web"]}`); an
// unknown filter is a 400, as in dockerd.
// Mirrors moby's daemon/list.go (Containers, foldFilter, includeContainerInList,
// transformContainer) and api/types.Container.

import { badParameter } from "../server/errors.ts";
import type { Container } from "./container.ts";
import { matchesLabels } from "./delete.ts";
import { listPortsOf, networksOf } from "./networking.ts";
import type { ContainerService } from "./service.ts";
import { timestampMillis } from "./time.ts";
import type { ContainerStatus } from "./types.ts";

const FILTERS = [
  "id",
  "name",
  "label",
  "label!",
  "status",
  "exited",
  "ancestor",
  "before",
  "since",
  "network",
  "volume",
  "health",
  "isolation",
  "is-task",
  "publish",
  "expose",
];

const STATUSES: ContainerStatus[] = [
  "created",
  "restarting",
  "running",
  "removing",
  "paused",
  "exited",
  "dead",
];

/** Options of `GET /containers/json`. */
export interface ListOptions {
  all: boolean;
  limit: number;
  size: boolean;
  filters: Map<string, string[]>;
}

/** The image column: the name the user gave while it still means the same image, else a short ID. */
export function imageColumn(service: ContainerService, container: Container): string {
  const named = container.config.Image;
  try {
    const current = service.daemon.images.find(named);
    if (current && current.id === container.imageId) return named;
  } catch { /* not a valid name any more */ }
  return container.imageId.replace(/^sha256:/, "").slice(0, 12);
}

/** "sleep 300": Path and Args as one string. */
export function commandColumn(container: Container): string {
  return container.args.length > 0
    ? `${container.path} ${container.args.join(" ")}`
    : container.path;
}

function checkFilters(filters: Map<string, string[]>): void {
  for (const [name, values] of filters) {
    if (!FILTERS.includes(name)) throw badParameter(`invalid filter '${name}'`);
    if (name === "status") {
      for (const value of values) {
        if (!STATUSES.includes(value as ContainerStatus)) {
          throw badParameter(`invalid filter 'status=${value}'`);
        }
      }
    }
    if (name === "exited") {
      for (const value of values) {
        if (!/^-?\d+$/.test(value)) throw badParameter(`invalid filter 'exited=${value}'`);
      }
    }
  }
}

function matchesName(container: Container, patterns: string[]): boolean {
  return patterns.every((pattern) => {
    try {
      return new RegExp(pattern).test(container.name);
    } catch {
      throw badParameter(`invalid filter 'name=${pattern}': not a regular expression`);
    }
  });
}

function include(
  service: ContainerService,
  container: Container,
  filters: Map<string, string[]>,
  bounds: {
    before?: Container;
    since?: Container;
  },
): boolean {
  const state = container.state;
  const ids = filters.get("id") ?? [];
  if (ids.length > 0 && !ids.some((id) => container.id.startsWith(id))) return false;
  const names = filters.get("name") ?? [];
  if (names.length > 0 && !names.some((name) => matchesName(container, [name]))) return false;
  if (!matchesLabels(container, filters.get("label") ?? [], true)) return false;
  if (!matchesLabels(container, filters.get("label!") ?? [], false)) return false;
  const statuses = filters.get("status") ?? [];
  if (statuses.length > 0 && !statuses.includes(state.status())) return false;
  const exited = filters.get("exited") ?? [];
  if (exited.length > 0) {
    if (state.running || state.status() === "created") return false;
    if (!exited.map(Number).includes(state.exitCode)) return false;
  }
  const ancestors = filters.get("ancestor") ?? [];
  if (ancestors.length > 0) {
    const imageIds = ancestors.map((reference) => service.daemon.images.find(reference)?.id);
    if (!imageIds.includes(container.imageId) && !ancestors.includes(container.config.Image)) {
      return false;
    }
  }
  const networks = filters.get("network") ?? [];
  if (networks.length > 0) {
    const attached = networksOf(container, service.daemon.networks);
    const matches = networks.some((network) =>
      network in attached ||
      Object.values(attached).some((endpoint) => endpoint.NetworkID.startsWith(network))
    );
    if (!matches) return false;
  }
  if ((filters.get("volume") ?? []).length > 0) {
    const volumes = filters.get("volume")!;
    const mounts = container.mountPoints();
    if (
      !volumes.some((volume) =>
        mounts.some((mount) => mount.Source === volume || mount.Destination === volume)
      )
    ) {
      return false;
    }
  }
  if (bounds.before && container.created >= bounds.before.created) return false;
  if (bounds.since && container.created <= bounds.since.created) return false;
  return true;
}

/** One row of `GET /containers/json`. */
export async function containerSummary(
  service: ContainerService,
  container: Container,
  withSize: boolean,
): Promise<Record<string, unknown>> {
  const summary: Record<string, unknown> = {
    Id: container.id,
    Names: [container.name],
    Image: imageColumn(service, container),
    ImageID: container.imageId,
    Command: commandColumn(container),
    Created: Math.floor(timestampMillis(container.created) / 1000),
    Ports: listPortsOf(container, service.daemon.networks),
    Labels: container.config.Labels ?? {},
    State: container.state.status(),
    Status: container.state.humanStatus(),
    HostConfig: { NetworkMode: container.hostConfig.NetworkMode },
    NetworkSettings: { Networks: networksOf(container, service.daemon.networks) },
    Mounts: container.mountPoints().map((mount) => ({ ...mount, Mode: mount.Mode })),
  };
  if (withSize) {
    let sizeRw = 0;
    try {
      sizeRw = await service.daemon.layers.containerLayerSize(container.id);
    } catch { /* no layer */ }
    const image = service.daemon.imageStore.get(container.imageId);
    summary.SizeRw = sizeRw;
    summary.SizeRootFs = sizeRw + (image ? service.daemon.images.size(image) : 0);
  }
  return summary;
}

/** `GET /containers/json?all=&limit=&size=&filters=`. */
export async function listContainers(
  service: ContainerService,
  options: ListOptions,
): Promise<Record<string, unknown>[]> {
  const { filters } = options;
  checkFilters(filters);
  const all = options.all || options.limit > 0 || filters.has("status") || filters.has("exited");
  const bound = (name: "before" | "since") => {
    const reference = filters.get(name)?.[0];
    return reference === undefined ? undefined : service.get(reference);
  };
  const bounds = { before: bound("before"), since: bound("since") };
  const rows: Record<string, unknown>[] = [];
  for (const container of service.store.list()) {
    if (!all && !container.state.running) continue;
    if (!include(service, container, filters, bounds)) continue;
    rows.push(await containerSummary(service, container, options.size));
    if (options.limit > 0 && rows.length >= options.limit) break;
  }
  return rows;
}
