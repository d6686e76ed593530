// What this teaches: a container's /etc/hosts, /etc/hostname and /etc/resolv.conf are
// not from its image: the engine writes them per container and bind-mounts them over
// the placeholders the "-init" layer created. A bind mount pins the file's *inode*, so
// later updates (a peer joined the network) must rewrite the same file in place;
// writing a new file and renaming it over would leave the container seeing the old one.
// Mirrors libnetwork's etchosts/etchosts.go (Build, Add, Delete) and the hostname file
// of daemon/container_operations_unix.go.
//
// Name resolution between containers: Docker answers names of containers on a
// user-defined network from an embedded DNS server at 127.0.0.11 inside each
// container (a socket the daemon opens in the namespace, plus iptables rules that
// redirect port 53 to it). mini writes every peer's name and address into each
// container's /etc/hosts instead, and rewrites those files on connect and disconnect:
// no server to run per container, no iptables, and every libc resolver reads
// /etc/hosts first ("files" before "dns" in nsswitch.conf). The cost: a hosts file is
// rewritten on every change, and names of containers on *other* networks never
// resolve (which is what Docker's scoping gives too).

/** One line of a hosts file: an address and the names it answers to. */
export interface HostsEntry {
  address: string;
  names: string[];
}

/** The fixed lines Docker puts first in every container's /etc/hosts. */
export const defaultHostsEntries: readonly HostsEntry[] = [
  { address: "127.0.0.1", names: ["localhost"] },
  { address: "::1", names: ["localhost", "ip6-localhost", "ip6-loopback"] },
  { address: "fe00::0", names: ["ip6-localnet"] },
  { address: "ff00::0", names: ["ip6-mcastprefix"] },
  { address: "ff02::1", names: ["ip6-allnodes"] },
  { address: "ff02::2", names: ["ip6-allrouters"] },
];

/** The marker line above the entries mini maintains for peers on shared networks. */
export const peersMarker = "# containers on the same user-defined networks (kept by mini)";

/** What one container's hosts file holds. */
export interface HostsFileContent {
  /** `--add-host` entries. */
  extraHosts?: HostsEntry[];
  /** The container's own addresses and names (hostname, and name/aliases on networks). */
  self?: HostsEntry[];
  /** Other containers on the same user-defined networks. */
  peers?: HostsEntry[];
  /** Start from these lines instead of the defaults (`--network host` copies the host's). */
  base?: string;
}

function formatEntry(entry: HostsEntry): string {
  return `${entry.address}\t${[...new Set(entry.names)].join(" ")}`;
}

/** Renders a hosts file. */
export function buildHostsFile(content: HostsFileContent): string {
  const lines = content.base !== undefined
    ? [content.base.trimEnd()]
    : defaultHostsEntries.map(formatEntry);
  for (const entry of content.extraHosts ?? []) lines.push(formatEntry(entry));
  for (const entry of content.self ?? []) lines.push(formatEntry(entry));
  const peers = content.peers ?? [];
  if (peers.length > 0) {
    lines.push(peersMarker);
    for (const entry of peers) lines.push(formatEntry(entry));
  }
  return lines.join("\n") + "\n";
}

/**
 * Parses `--add-host` values ("name:ip" or "name=ip"); the special address
 * "host-gateway" is replaced by `hostGateway` (the bridge's gateway address).
 */
export function parseExtraHosts(values: readonly string[], hostGateway?: string): HostsEntry[] {
  return values.map((value) => {
    const separator = value.includes("=") ? "=" : ":";
    const index = value.indexOf(separator);
    if (index <= 0 || index === value.length - 1) {
      throw new Error(`invalid extra host "${value}": expected NAME:IP (for example db:10.0.0.5)`);
    }
    const name = value.slice(0, index);
    let address = value.slice(index + 1);
    if (address === "host-gateway") {
      if (!hostGateway) {
        throw new Error(`"host-gateway" in --add-host ${value} needs a bridge network`);
      }
      address = hostGateway;
    }
    return { address, names: [name] };
  });
}

/** The /etc/hostname content. */
export function buildHostnameFile(hostname: string): string {
  return `${hostname}\n`;
}

/**
 * Rewrites `path` in place (same inode: truncate and write), creating it if missing.
 * This is what keeps a bind-mounted file current inside a running container.
 */
export function writeFileInPlace(path: string, content: string): void {
  const file = Deno.openSync(path, { write: true, create: true, truncate: true, mode: 0o644 });
  try {
    const bytes = new TextEncoder().encode(content);
    let written = 0;
    while (written < bytes.length) written += file.writeSync(bytes.subarray(written));
  } finally {
    file.close();
  }
}
