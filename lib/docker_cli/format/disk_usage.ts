// What this teaches: `docker system df` is one API call (`GET /system/df`) summarised on
// the client into four rows (images, containers, local volumes, build cache): how
// many there are, how many are in use, their size, and how much `prune` would free.
// Mirrors docker/cli's cli/command/formatter/disk_usage.go.

import type { DiskUsage } from "../client/types.ts";
import { FormatSubject, headerContext, RAW_FORMAT_KEY, TABLE_FORMAT_KEY } from "./formatter.ts";
import { humanSize } from "./units.ts";

/** Picks the template `docker system df` runs. */
export function diskUsageFormat(source: string): string {
  if (source === TABLE_FORMAT_KEY) {
    return "table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}";
  }
  if (source === RAW_FORMAT_KEY) {
    return "type: {{.Type}}\ntotal: {{.TotalCount}}\nactive: {{.Active}}\nsize: {{.Size}}\nreclaimable: {{.Reclaimable}}\n";
  }
  return source;
}

/** Column titles for `docker system df`. */
export const DISK_USAGE_HEADER = headerContext({
  Type: "TYPE",
  TotalCount: "TOTAL",
  Active: "ACTIVE",
  Size: "SIZE",
  Reclaimable: "RECLAIMABLE",
});

function withPercent(reclaimable: number, total: number): string {
  if (total > 0) return `${humanSize(reclaimable)} (${Math.trunc((reclaimable * 100) / total)}%)`;
  return humanSize(reclaimable);
}

/** One row of `docker system df`. */
export class DiskUsageRow extends FormatSubject {
  readonly jsonFields = ["Active", "Reclaimable", "Size", "TotalCount", "Type"] as const;

  constructor(
    readonly type: string,
    readonly total: number,
    readonly active: number,
    readonly size: string,
    readonly reclaimable: string,
  ) {
    super("*formatter.diskUsageContext");
  }

  Type(): string {
    return this.type;
  }
  TotalCount(): string {
    return String(this.total);
  }
  Active(): string {
    return String(this.active);
  }
  Size(): string {
    return this.size;
  }
  Reclaimable(): string {
    return this.reclaimable;
  }
}

const ACTIVE_STATES = new Set(["running", "paused", "restarting"]);

/** Summarises a `GET /system/df` answer into docker's four rows. */
export function diskUsageRows(usage: DiskUsage): DiskUsageRow[] {
  const images = usage.Images ?? [];
  const layersSize = usage.LayersSize ?? 0;
  let imagesInUse = 0;
  for (const image of images) {
    if ((image.Containers ?? 0) === 0) continue;
    if (image.Size === -1 || (image.SharedSize ?? -1) === -1) continue;
    imagesInUse += image.Size - (image.SharedSize ?? 0);
  }
  const imageRow = new DiskUsageRow(
    "Images",
    images.length,
    images.filter((image) => (image.Containers ?? 0) > 0).length,
    humanSize(layersSize),
    withPercent(layersSize - imagesInUse, layersSize),
  );

  const containers = usage.Containers ?? [];
  let containerSize = 0;
  let containerReclaimable = 0;
  for (const container of containers) {
    containerSize += container.SizeRw ?? 0;
    if (!ACTIVE_STATES.has(container.State ?? "")) containerReclaimable += container.SizeRw ?? 0;
  }
  const containerRow = new DiskUsageRow(
    "Containers",
    containers.length,
    containers.filter((container) => ACTIVE_STATES.has(container.State ?? "")).length,
    humanSize(containerSize),
    withPercent(containerReclaimable, containerSize),
  );

  const volumes = usage.Volumes ?? [];
  let volumeSize = 0;
  let volumeReclaimable = 0;
  for (const volume of volumes) {
    const data = volume.UsageData ?? { Size: -1, RefCount: 0 };
    if (data.Size === -1) continue;
    volumeSize += data.Size;
    if (data.RefCount === 0) volumeReclaimable += data.Size;
  }
  const volumeRow = new DiskUsageRow(
    "Local Volumes",
    volumes.length,
    volumes.filter((volume) => (volume.UsageData?.RefCount ?? 0) > 0).length,
    humanSize(volumeSize),
    withPercent(volumeReclaimable, volumeSize),
  );

  const cache = usage.BuildCache ?? [];
  const builderSize = cache.filter((record) => !record.Shared).reduce(
    (sum, record) => sum + record.Size,
    0,
  );
  const inUse = cache.filter((record) => record.InUse && !record.Shared)
    .reduce((sum, record) => sum + record.Size, 0);
  const cacheRow = new DiskUsageRow(
    "Build Cache",
    cache.length,
    cache.filter((record) => record.InUse).length,
    humanSize(builderSize),
    humanSize(builderSize - inUse),
  );
  return [imageRow, containerRow, volumeRow, cacheRow];
}
