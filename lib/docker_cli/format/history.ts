// What this teaches: `docker history` lists the steps that built an image, newest
// first: each step's "created by" command and how much it added. Steps whose layers
// were pulled rather than built show `<missing>` as their ID: the image config records
// the history, but only the final image has an ID of its own on this machine.
// Mirrors docker/cli's cli/command/image/formatter_history.go.

import type { HistoryItem } from "../client/types.ts";
import { ellipsis, truncateId } from "./container.ts";
import { FormatSubject, headerContext, TABLE_FORMAT_KEY } from "./formatter.ts";
import { humanSince, humanSizeWithPrecision } from "./units.ts";

/** Picks the template `docker history` runs. */
export function historyFormat(source: string, quiet: boolean, human: boolean): string {
  if (source !== TABLE_FORMAT_KEY) return source;
  if (quiet) return "{{.ID}}";
  return human
    ? "table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}"
    : "table {{.ID}}\t{{.CreatedAt}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}";
}

/** Column titles for `docker history`. */
export const HISTORY_HEADER = headerContext({
  ID: "IMAGE",
  CreatedSince: "CREATED",
  CreatedAt: "CREATED AT",
  CreatedBy: "CREATED BY",
  Size: "SIZE",
  Comment: "COMMENT",
});

/** 2000-01-01: history entries older than this have no meaningful date. */
const EPOCH_2000 = Date.UTC(2000, 0, 1) / 1000;

/** Go's time.RFC3339 in the local zone: "2006-01-02T15:04:05Z07:00". */
function rfc3339(unixSeconds: number): string {
  const date = new Date(unixSeconds * 1000);
  const offset = -date.getTimezoneOffset();
  const local = new Date(date.getTime() + offset * 60_000).toISOString().slice(0, 19);
  if (offset === 0) return `${local}Z`;
  const sign = offset < 0 ? "-" : "+";
  const magnitude = Math.abs(offset);
  return `${local}${sign}${String(Math.trunc(magnitude / 60)).padStart(2, "0")}:${
    String(magnitude % 60).padStart(2, "0")
  }`;
}

/** One history step as templates see it. */
export class HistoryContext extends FormatSubject {
  readonly jsonFields = [
    "Comment",
    "CreatedAt",
    "CreatedBy",
    "CreatedSince",
    "ID",
    "Size",
  ] as const;

  constructor(readonly item: HistoryItem, readonly trunc: boolean, readonly human: boolean) {
    super("*image.historyContext");
  }

  ID(): string {
    return this.trunc ? truncateId(this.item.Id) : this.item.Id;
  }
  CreatedAt(): string {
    return rfc3339(this.item.Created);
  }
  CreatedSince(): string {
    if (!this.human) return this.CreatedAt();
    if (this.item.Created <= EPOCH_2000) return "N/A";
    return humanSince(this.item.Created);
  }
  CreatedBy(): string {
    const createdBy = (this.item.CreatedBy ?? "").replaceAll("\t", " ");
    return this.trunc ? ellipsis(createdBy, 45) : createdBy;
  }
  Size(): string {
    return this.human ? humanSizeWithPrecision(this.item.Size, 3) : String(this.item.Size);
  }
  Comment(): string {
    return this.item.Comment ?? "";
  }
}
