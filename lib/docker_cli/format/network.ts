// What this teaches: `docker network ls` sorts networks by name in "natural" order
// (so net2 comes before net10) on the client, and prints a short ID, the name, the
// driver (bridge, host, null) and the scope (local, swarm).
// Mirrors docker/cli's cli/command/network/formatter.go and list.go.

import type { NetworkSummary } from "../client/types.ts";
import { truncateId } from "./container.ts";
import { FormatSubject, headerContext, RAW_FORMAT_KEY, TABLE_FORMAT_KEY } from "./formatter.ts";

/** Picks the template `docker network ls` runs. */
export function networkFormat(source: string, quiet: boolean): string {
  if (source === TABLE_FORMAT_KEY) {
    return quiet ? "{{.ID}}" : "table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}";
  }
  if (source === RAW_FORMAT_KEY) {
    return quiet
      ? "network_id: {{.ID}}"
      : "network_id: {{.ID}}\\nname: {{.Name}}\\ndriver: {{.Driver}}\\nscope: {{.Scope}}\\n";
  }
  return source;
}

/** Column titles for `docker network ls`. */
export const NETWORK_HEADER = headerContext({
  ID: "NETWORK ID",
  Name: "NAME",
  Driver: "DRIVER",
  Scope: "SCOPE",
  IPv4: "IPV4",
  IPv6: "IPV6",
  Internal: "INTERNAL",
  Labels: "LABELS",
  CreatedAt: "CREATED AT",
});

/** Natural order: digit runs compare as numbers ("net2" < "net10"). */
export function naturalLess(a: string, b: string): boolean {
  const chunk = /(\d+|\D+)/g;
  const partsA = a.match(chunk) ?? [];
  const partsB = b.match(chunk) ?? [];
  for (let index = 0; index < Math.min(partsA.length, partsB.length); index++) {
    const left = partsA[index];
    const right = partsB[index];
    if (left === right) continue;
    const leftDigits = /^\d/.test(left);
    const rightDigits = /^\d/.test(right);
    if (leftDigits && rightDigits) {
      const difference = Number(left) - Number(right);
      if (difference !== 0) return difference < 0;
      return left.length < right.length; // fewer leading zeros first
    }
    return left < right;
  }
  return partsA.length < partsB.length;
}

/** One network as templates see it. */
export class NetworkContext extends FormatSubject {
  readonly jsonFields = [
    "CreatedAt",
    "Driver",
    "ID",
    "IPv4",
    "IPv6",
    "Internal",
    "Labels",
    "Name",
    "Scope",
  ] as const;

  constructor(readonly network: NetworkSummary, readonly trunc: boolean) {
    super("*network.networkContext");
  }

  ID(): string {
    return this.trunc ? truncateId(this.network.Id) : this.network.Id;
  }
  Name(): string {
    return this.network.Name;
  }
  Driver(): string {
    return this.network.Driver ?? "";
  }
  Scope(): string {
    return this.network.Scope ?? "";
  }
  IPv4(): string {
    return String(this.network.EnableIPv4 ?? false);
  }
  IPv6(): string {
    return String(this.network.EnableIPv6 ?? false);
  }
  Internal(): string {
    return String(this.network.Internal ?? false);
  }
  Labels(): string {
    return Object.entries(this.network.Labels ?? {}).map(([key, value]) => `${key}=${value}`).join(
      ",",
    );
  }
  Label(name: string): string {
    return this.network.Labels?.[name] ?? "";
  }
  CreatedAt(): string {
    return goTimeFromRfc3339(this.network.Created ?? "");
  }
}

/** Go's time.Time.String() of an RFC 3339 timestamp ("2026-11-28 06:35:35.352459142 +0000 UTC"). */
function goTimeFromRfc3339(text: string): string {
  const match = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})(\.\d+)?Z$/.exec(text);
  if (!match) return text;
  const fraction = (match[3] ?? "").replace(/0+$/, "").replace(/^\.$/, "");
  return `${match[1]} ${match[2]}${fraction} +0000 UTC`;
}
