// What this teaches: what a container runtime does with CNI. For each configured
// network it runs the list's plugins in order with ADD (each one handed the previous
// one's result), keeps the final result on disk, and reports the container's
// interfaces and addresses. DEL runs the plugins in *reverse* order with that cached
// result, so each can undo exactly what it did (host-local releases the address, the
// bridge plugin deletes the veth). CHECK asks every plugin whether its work is still
// in place. A loopback network comes first so `lo` is up.
// Mirrors containerd's go-cni (cni.go: Setup, Remove, Check; result.go) on top of
// libcni's api.go (AddNetworkList, DelNetworkList, CheckNetworkList, the result cache).

import { loadConfigs, loopbackNetwork } from "./config.ts";
import { type CniCommand, invokePlugin, pluginStdin } from "./exec.ts";
import type {
  CapabilityArgs,
  CniOptions,
  CniResult,
  InterfaceConfig,
  NetworkConfigList,
  SetupResult,
} from "./types.ts";

/** Debian installs the plugins in /usr/lib/cni; upstream's convention is /opt/cni/bin. */
export const defaultBinDirs = ["/opt/cni/bin", "/usr/lib/cni"];
export const defaultConfDir = "/etc/cni/net.d";
export const defaultCacheDir = "/var/lib/cni";

/** One network to attach, with the interface name it gets in the container. */
interface Attachment {
  list: NetworkConfigList;
  ifname: string;
}

function versionAtLeast(version: string, minimum: string): boolean {
  const parse = (text: string) => text.split(".").map((part) => Number(part) || 0);
  const [a, b] = [parse(version), parse(minimum)];
  for (let index = 0; index < 3; index++) {
    if ((a[index] ?? 0) !== (b[index] ?? 0)) return (a[index] ?? 0) > (b[index] ?? 0);
  }
  return true;
}

/** Reads results of any spec version (0.2.0's ip4/ip6 objects included) as 1.0.0-shaped. */
export function normalizeResult(raw: CniResult): CniResult {
  const result = { ...raw } as CniResult & { ip4?: { ip: string; gateway?: string } };
  if (!result.ips && result.ip4) {
    result.ips = [{ address: result.ip4.ip, gateway: result.ip4.gateway }];
  }
  return result;
}

/** go-cni's view of results: container-side interfaces with their addresses. */
export function interfacesOf(results: readonly CniResult[]): Record<string, InterfaceConfig> {
  const interfaces: Record<string, InterfaceConfig> = {};
  for (const result of results) {
    for (const [index, entry] of (result.interfaces ?? []).entries()) {
      if (!entry.sandbox) continue;
      const ips = (result.ips ?? []).filter((ip) => ip.interface === index).map((ip) => {
        const [address, prefix] = ip.address.split("/");
        return { address, prefixLength: Number(prefix), gateway: ip.gateway };
      });
      interfaces[entry.name] = { mac: entry.mac, sandbox: entry.sandbox, ips };
    }
  }
  return interfaces;
}

/** A CNI instance: networks loaded from a config dir, plugins from bin dirs. */
export class Cni {
  readonly binDirs: string[];
  readonly cacheDir: string;

  private constructor(readonly attachments: Attachment[], readonly options: CniOptions) {
    this.binDirs = options.binDirs ?? defaultBinDirs;
    this.cacheDir = options.cacheDir ?? defaultCacheDir;
  }

  /** Loads the configuration (go-cni's New + Load(WithLoNetwork, WithDefaultConf)). */
  static load(options: CniOptions = {}): Cni {
    const lists = loadConfigs(options.confDir ?? defaultConfDir, options.networkCount ?? 1);
    return Cni.fromLists(lists, options);
  }

  /** A CNI instance over given lists (for callers that build the configuration). */
  static fromLists(lists: readonly NetworkConfigList[], options: CniOptions = {}): Cni {
    const prefix = options.interfacePrefix ?? "eth";
    const attachments: Attachment[] = [];
    if (options.loopback ?? true) attachments.push({ list: loopbackNetwork, ifname: "lo" });
    lists.forEach((list, index) => attachments.push({ list, ifname: `${prefix}${index}` }));
    return new Cni(attachments, options);
  }

  #cachePath(attachment: Attachment, containerId: string): string {
    return `${this.cacheDir}/results/${attachment.list.name}-${containerId}-${attachment.ifname}`;
  }

  #readCache(attachment: Attachment, containerId: string): CniResult | undefined {
    try {
      const cached = JSON.parse(Deno.readTextFileSync(this.#cachePath(attachment, containerId)));
      return cached.result as CniResult;
    } catch {
      return undefined;
    }
  }

  #invocation(command: CniCommand, containerId: string, netns: string, ifname: string) {
    return {
      command,
      containerId,
      netns,
      ifname,
      binDirs: this.binDirs,
      pluginNamespace: this.options.pluginNamespace,
      timeoutMs: this.options.timeoutMs,
    };
  }

  /**
   * ADD on every network: returns the container's interfaces and the raw results. If a
   * network fails, the ones already added are removed again before the error is thrown.
   */
  async setup(
    containerId: string,
    netns: string,
    capabilityArgs: CapabilityArgs = {},
  ): Promise<SetupResult> {
    const results: CniResult[] = [];
    const done: Attachment[] = [];
    try {
      for (const attachment of this.attachments) {
        let previous: CniResult | undefined;
        for (const plugin of attachment.list.plugins) {
          const output = await invokePlugin(
            this.#invocation("ADD", containerId, netns, attachment.ifname),
            pluginStdin(attachment.list, plugin, previous, capabilityArgs),
          );
          if (output) previous = normalizeResult(output);
        }
        done.push(attachment);
        const result = previous ?? { cniVersion: attachment.list.cniVersion };
        const path = this.#cachePath(attachment, containerId);
        Deno.mkdirSync(path.slice(0, path.lastIndexOf("/")), { recursive: true });
        Deno.writeTextFileSync(
          path,
          JSON.stringify({
            kind: "cniCacheV1",
            containerId,
            ifName: attachment.ifname,
            networkName: attachment.list.name,
            capabilityArgs,
            result,
          }),
        );
        results.push(result);
      }
    } catch (error) {
      await this.#removeAttachments(done.reverse(), containerId, netns, capabilityArgs)
        .catch(() => {});
      throw error;
    }
    return { interfaces: interfacesOf(results), results };
  }

  /** DEL on every network, last first; every network is tried even if one fails. */
  remove(containerId: string, netns: string, capabilityArgs: CapabilityArgs = {}): Promise<void> {
    return this.#removeAttachments(
      [...this.attachments].reverse(),
      containerId,
      netns,
      capabilityArgs,
    );
  }

  async #removeAttachments(
    attachments: Attachment[],
    containerId: string,
    netns: string,
    capabilityArgs: CapabilityArgs,
  ): Promise<void> {
    const errors: string[] = [];
    for (const attachment of attachments) {
      const cached = this.#readCache(attachment, containerId);
      try {
        for (const plugin of [...attachment.list.plugins].reverse()) {
          await invokePlugin(
            this.#invocation("DEL", containerId, netns, attachment.ifname),
            pluginStdin(attachment.list, plugin, cached, capabilityArgs),
          );
        }
        try {
          Deno.removeSync(this.#cachePath(attachment, containerId));
        } catch {
          // no cache entry
        }
      } catch (error) {
        errors.push((error as Error).message);
      }
    }
    if (errors.length > 0) throw new Error(errors.join("; "));
  }

  /** CHECK on every network that supports it (spec 0.4.0 and later, not disabled). */
  async check(containerId: string, netns: string): Promise<void> {
    for (const attachment of this.attachments) {
      const { list } = attachment;
      if (list.disableCheck || !versionAtLeast(list.cniVersion, "0.4.0")) continue;
      const cached = this.#readCache(attachment, containerId);
      if (!cached) {
        throw new Error(
          `no cached result for network ${list.name}: was ADD run for ${containerId}?`,
        );
      }
      for (const plugin of list.plugins) {
        await invokePlugin(
          this.#invocation("CHECK", containerId, netns, attachment.ifname),
          pluginStdin(list, plugin, cached),
        );
      }
    }
  }
}
