// What this teaches: what `docker ps` does to the daemon's container list before
// printing it. IDs are cut to 12 hex digits, the command is cut to 20 columns with
// "…" and then quoted, names lose their leading "/", "CREATED" is computed on the
// client from the creation timestamp ("5 hours ago"), and ports are grouped into
// ranges ("0.0.0.0:8080->80/tcp, 443/tcp"). STATUS ("Up 13 seconds") comes ready-made
// from the daemon.
// Mirrors docker/cli's cli/command/formatter/container.go and displayutils.go.

import { familiarName, familiarString, parseNormalizedNamed } from "../../reference/mod.ts";
import type { ContainerSummary, PortSummary } from "../client/types.ts";
import {
  FormatSubject,
  headerContext,
  JSON_FORMAT_KEY,
  RAW_FORMAT_KEY,
  TABLE_FORMAT_KEY,
} from "./formatter.ts";
import { goTimeString } from "./go_time.ts";
import { codePointWidth } from "./tabwriter.ts";
import { humanSince, humanSizeWithPrecision } from "./units.ts";

const DEFAULT_CONTAINER_TABLE_FORMAT =
  "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}";

/** Picks the template `docker ps` runs for a --format value, -q and -s. */
export function containerFormat(source: string, quiet: boolean, size: boolean): string {
  if (source === TABLE_FORMAT_KEY || source === "") {
    if (quiet) return "{{.ID}}";
    return DEFAULT_CONTAINER_TABLE_FORMAT + (size ? "\t{{.Size}}" : "");
  }
  if (source === RAW_FORMAT_KEY) {
    if (quiet) return "container_id: {{.ID}}";
    return "container_id: {{.ID}}\nimage: {{.Image}}\ncommand: {{.Command}}\n" +
      "created_at: {{.CreatedAt}}\nstate: {{- pad .State 1 0}}\nstatus: {{- pad .Status 1 0}}\n" +
      "names: {{.Names}}\nlabels: {{- pad .Labels 1 0}}\nports: {{- pad .Ports 1 0}}\n" +
      (size ? "size: {{.Size}}\\n" : "");
  }
  if (source === JSON_FORMAT_KEY) return source;
  return quiet ? "{{.ID}}" : source;
}

/** Column titles for `docker ps` tables. */
export const CONTAINER_HEADER = headerContext({
  ID: "CONTAINER ID",
  Names: "NAMES",
  Image: "IMAGE",
  Command: "COMMAND",
  CreatedAt: "CREATED AT",
  RunningFor: "CREATED",
  Ports: "PORTS",
  State: "STATE",
  Status: "STATUS",
  Size: "SIZE",
  Labels: "LABELS",
  Mounts: "MOUNTS",
  LocalVolumes: "LOCAL VOLUMES",
  Networks: "NETWORKS",
  Platform: "PLATFORM",
});

/** Cuts an ID to docker's 12-character short form (dropping any "sha256:" prefix). */
export function truncateId(id: string): string {
  const colon = id.indexOf(":");
  const bare = colon >= 0 ? id.slice(colon + 1) : id;
  return bare.length > 12 ? bare.slice(0, 12) : bare;
}

/** Shortens text to `maxWidth` terminal columns, ending it with "…" when cut. */
export function ellipsis(text: string, maxWidth: number): string {
  if (maxWidth <= 0) return "";
  const characters = [...text];
  if (maxWidth === 1) return characters[0] ?? "";
  let width = 0;
  const widths = characters.map((
    character,
  ) => (width += codePointWidth(character.codePointAt(0)!)));
  if (width <= maxWidth) return text;
  let kept = 0;
  while (kept < widths.length && widths[kept] <= maxWidth - 1) kept++;
  return characters.slice(0, kept).join("") + "…";
}

/** Go's strconv.Quote for the printable text docker quotes. */
export function goQuote(text: string): string {
  return JSON.stringify(text).replace(/\\u00([0-9a-f]{2})/g, "\\x$1").replace(
    /[\u007f-\u009f]/g,
    (character) => `\\x${character.charCodeAt(0).toString(16).padStart(2, "0")}`,
  );
}

/** Joins a host and port like Go's net.JoinHostPort (brackets around IPv6). */
export function joinHostPort(host: string, port: string | number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

function comparePorts(a: PortSummary, b: PortSummary): number {
  if (a.PrivatePort !== b.PrivatePort) return a.PrivatePort - b.PrivatePort;
  const ipA = a.IP ?? "";
  const ipB = b.IP ?? "";
  if (ipA !== ipB) return ipA < ipB ? -1 : 1;
  if ((a.PublicPort ?? 0) !== (b.PublicPort ?? 0)) return (a.PublicPort ?? 0) - (b.PublicPort ?? 0);
  return a.Type < b.Type ? -1 : a.Type > b.Type ? 1 : 0;
}

/**
 * Ports as `docker ps` shows them: consecutive ports folded into ranges, published
 * ones as "IP:public->private/proto", e.g. "0.0.0.0:8000-8001->8000-8001/tcp, 53/udp".
 */
export function displayablePorts(ports: PortSummary[]): string {
  interface Group {
    first: number;
    last: number;
  }
  const groups = new Map<string, Group>();
  const groupOrder: string[] = [];
  const result: string[] = [];
  const hostMappings: string[] = [];
  const formGroup = (key: string, group: Group) => {
    const parts = key.split("/");
    let type = parts[0];
    let ip = "";
    if (parts.length > 1) {
      ip = parts[0];
      type = parts[1];
    }
    let range = String(group.first);
    if (group.first !== group.last) range += `-${group.last}`;
    if (ip !== "") range = `${joinHostPort(ip, range)}->${range}`;
    return `${range}/${type}`;
  };
  for (const port of [...ports].sort(comparePorts)) {
    const current = port.PrivatePort;
    let key = port.Type;
    if (port.IP) {
      if (port.PublicPort !== current) {
        hostMappings.push(
          `${joinHostPort(port.IP, port.PublicPort ?? 0)}->${port.PrivatePort}/${port.Type}`,
        );
        continue;
      }
      key = `${port.IP}/${port.Type}`;
    }
    const group = groups.get(key);
    if (!group) {
      groups.set(key, { first: current, last: current });
      groupOrder.push(key);
      continue;
    }
    if (current === group.last + 1) {
      group.last = current;
      continue;
    }
    result.push(formGroup(key, group));
    groups.set(key, { first: current, last: current });
  }
  for (const key of groupOrder) result.push(formGroup(key, groups.get(key)!));
  result.push(...hostMappings);
  return result.join(", ");
}

/** One container as `docker ps` templates see it. */
export class ContainerContext extends FormatSubject {
  readonly jsonFields = [
    "Command",
    "CreatedAt",
    "ID",
    "Image",
    "Labels",
    "LocalVolumes",
    "Mounts",
    "Names",
    "Networks",
    "Platform",
    "Ports",
    "RunningFor",
    "Size",
    "State",
    "Status",
  ] as const;

  constructor(readonly container: ContainerSummary, readonly trunc: boolean) {
    super("*formatter.ContainerContext");
  }

  ID(): string {
    return this.trunc ? truncateId(this.container.Id) : this.container.Id;
  }

  Names(): string {
    let names = (this.container.Names ?? []).map((name) => name.slice(1));
    if (this.trunc) {
      const own = names.find((name) => name.split("/").length === 1);
      if (own !== undefined) names = [own];
    }
    return names.join(",");
  }

  Image(): string {
    const image = this.container.Image ?? "";
    if (image === "") return "<no image>";
    if (this.trunc) {
      const short = truncateId(this.container.ImageID ?? "");
      if (short === truncateId(image)) return short;
      try {
        const reference = parseNormalizedNamed(image);
        if (reference.tag !== undefined) {
          return familiarString({
            domain: reference.domain,
            path: reference.path,
            tag: reference.tag,
          });
        }
        return familiarName(reference);
      } catch { /* not a reference: show as is */ }
    }
    return image;
  }

  Command(): string {
    const command = this.container.Command ?? "";
    return goQuote(this.trunc ? ellipsis(command, 20) : command);
  }

  CreatedAt(): string {
    return goTimeString(this.container.Created);
  }

  RunningFor(): string {
    return humanSince(this.container.Created);
  }

  Ports(): string {
    return displayablePorts(this.container.Ports ?? []);
  }

  State(): string {
    return this.container.State ?? "";
  }

  Status(): string {
    return this.container.Status ?? "";
  }

  Size(): string {
    const rw = humanSizeWithPrecision(this.container.SizeRw ?? 0, 3);
    const rootFs = this.container.SizeRootFs ?? 0;
    return rootFs > 0 ? `${rw} (virtual ${humanSizeWithPrecision(rootFs, 3)})` : rw;
  }

  Labels(): string {
    const labels = this.container.Labels;
    if (!labels) return "";
    return Object.entries(labels).map(([key, value]) => `${key}=${value}`).sort().join(",");
  }

  Label(name: string): string {
    return this.container.Labels?.[name] ?? "";
  }

  Mounts(): string {
    return (this.container.Mounts ?? []).map((mount) => {
      const name = mount.Name ? mount.Name : mount.Source ?? "";
      return this.trunc ? ellipsis(name, 15) : name;
    }).join(",");
  }

  LocalVolumes(): string {
    return String((this.container.Mounts ?? []).filter((mount) => mount.Driver === "local").length);
  }

  Networks(): string {
    return Object.keys(this.container.NetworkSettings?.Networks ?? {}).join(",");
  }

  Platform(): null {
    return null;
  }
}
